/**
 * A fatal protocol error (`400 line_too_long` [T-1], `400 frame_too_large` [B-3]) stops
 * reading at once: the reply goes out, the hub reads nothing more and closes. The hub's
 * end of an in-process pair counts the bytes it was handed; what the client sends after
 * the fatal request must not be among them (it used to read on for 2 s: 0.7 GB).
 */
import test from 'ava';
import { binaryHandler } from '../../../hub/binary/connection.ts';
import type { HubContext } from '../../../hub/context.ts';
import type { Handle } from '../../../hub/net/address.ts';
import { textHandler } from '../../../hub/text/connection.ts';
import { REQUEST_PREFIX_SIZE } from '../../../protocol/binary/frame.ts';
import { MAX_LINE_BYTES } from '../../../protocol/text/framer.ts';
import { duplexPair } from '../../helpers/duplex-pair.ts';
import { within } from '../../helpers/hub-events.ts';
import { startHubInProcess } from '../../helpers/in-process-hub.ts';

const FLOOD = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;

function overlongLine(): Buffer {
  return Buffer.alloc(MAX_LINE_BYTES + 10, 'A');
}

function hugeFramePrefix(): Buffer {
  const b = Buffer.alloc(REQUEST_PREFIX_SIZE);
  b.writeUInt32LE(0, 0);
  b.writeUInt32LE(6, 4);
  b.writeUInt32LE(1_000_000_000, 8);
  return b;
}

const CASES: Array<[string, (ctx: HubContext) => Handle, () => Buffer, RegExp]> = [
  ['text: 400 line_too_long', textHandler, overlongLine, /^400 line_too_long/],
  ['binary: 400 frame_too_large', binaryHandler, hugeFramePrefix, /400/],
];

for (const [name, handler, fatal, reply] of CASES) {
  test(`${name}: nothing sent after the fatal request is read; the hub closes once the reply is out`, async (t) => {
    const h = await startHubInProcess();
    t.teardown(() => h.stop());
    const [client, server] = duplexPair();
    let consumed = 0;
    server.on('data', (chunk: Buffer) => {
      consumed += chunk.length;
    });
    handler(h.hub.ctx)(server, {
      address: '10.0.0.66',
      port: 40_000,
      localAddress: '127.0.0.1',
      secure: false,
    });
    client.on('error', () => {});
    const received: Buffer[] = [];
    const firstReply = new Promise<void>((resolve) =>
      client.once('data', (chunk: Buffer) => {
        received.push(chunk);
        resolve();
      }),
    );
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const trigger = fatal();
    client.write(trigger);
    t.true(await within(firstReply, 5000), 'the fatal reply comes');
    t.regex(received[0]!.toString('latin1').replace(/^[\s\S]*?(\d{3})/, '$1'), reply);
    const before = consumed;
    for (let sent = 0; sent < FLOOD; sent += CHUNK) client.write(Buffer.alloc(CHUNK, 'B'));
    t.true(await within(closed, 5000), 'the hub closes without waiting for the clock');
    t.true(server.destroyed);
    t.true(
      consumed - before <= CHUNK,
      `read ${consumed - before} bytes after the fatal reply (of ${FLOOD} sent)`,
    );
    t.true(consumed <= trigger.length + CHUNK);
  });
}
