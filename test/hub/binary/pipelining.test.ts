/**
 * The binary dialect's request pump, in process [B-2]: a flood pipelined in one write is
 * answered in order while other clients are served, and a client that half-closes after
 * its requests gets every response before the hub closes.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import test from 'ava';
import { encodeRequest, ResponseParser } from '../../../protocol/binary/frame.ts';
import { BinaryClient } from '../../helpers/binary-client.ts';
import { startHubInProcess as startHub } from '../../helpers/in-process-hub.ts';

/** Reads `n` response frames from a raw socket; `got` shows how many so far. */
function collect(socket: Duplex, n: number, ms = 20_000) {
  const parser = new ResponseParser();
  const got: Array<{ status: number; data: string }> = [];
  const done = new Promise<Array<{ status: number; data: string }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} responses`)), ms);
    socket.on('data', (chunk: Buffer) => {
      for (const ev of parser.push(chunk)) if (ev.kind === 'frame') got.push(ev.frame);
      if (got.length >= n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
  return { got, done };
}

test('[B-2] a flood pipelined in one write is answered in order, and another client is served meanwhile', async (t) => {
  const h = await startHub();
  t.teardown(() => h.stop());
  const n = 20_000;
  const flooder = h.hub.binary.connect();
  const frame = (i: number) => encodeRequest({ header: '', route: `/flood${i}`, data: '' });
  const answers = collect(flooder, n);
  flooder.write(Buffer.concat(Array.from({ length: n }, (_, i) => frame(i))));
  // A second client asks while the flood is being answered.
  const other = await BinaryClient.connect(h.hub.binary);
  const r = await other.request('/login', {}, { user_mail: 'nobody@example.org', pass: 'x' });
  t.is(r.status, 401);
  t.true(
    answers.got.length < n,
    `the other client was answered while the flood was at ${answers.got.length}`,
  );
  const all = await answers.done;
  t.is(all.length, n);
  t.true(all.every((f) => f.status === 404 && f.data === 'error: "unknown_route"'));
  flooder.destroy();
  other.close();
});

test('[B-2] a client that half-closes after its requests gets every response, then the hub closes', async (t) => {
  const h = await startHub();
  t.teardown(() => h.stop());
  const socket = h.hub.binary.connect();
  const answers = collect(socket, 3);
  const closed = once(socket, 'end');
  // `/create` is answered asynchronously (scrypt); the FIN comes right after the requests.
  socket.end(
    Buffer.concat([
      encodeRequest({
        header: '',
        route: '/create',
        data: 'user_mail: "hal@example.org", pass: "pw"',
      }),
      encodeRequest({ header: '', route: 'no-slash', data: '' }),
      encodeRequest({ header: '', route: '/nope', data: '' }),
    ]),
  );
  const got = await answers.done;
  t.deepEqual(
    got.map((f) => f.status),
    [201, 400, 404],
  );
  await closed;
  t.pass();
});
