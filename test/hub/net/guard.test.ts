/**
 * The connection guard and the request pump over an in-process duplex pair, with a fake
 * clock: the idle timeout [T-12] counts only the client's bytes, output is capped for a
 * client that does not read, and a closing connection is destroyed after its grace.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import test from 'ava';
import { DEFAULT_LIMITS } from '../../../hub/context.ts';
import { guardStream } from '../../../hub/net/guard.ts';
import { CLOSE_GRACE_MS, RequestPump } from '../../../hub/net/request-pump.ts';
import { plainIp } from '../../../shared/address.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { duplexPair } from '../../helpers/duplex-pair.ts';
import { testLog } from '../../helpers/log.ts';

const IDLE = 1000;
const limits = { ...DEFAULT_LIMITS, idleTimeoutMs: IDLE, maxOutputBytes: 64 * 1024 };

/** Resolves once `s` emitted 'close'; never rejects. */
function closed(s: Duplex): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

/** Lets the pair deliver what is in flight (it delivers in a later turn, like a socket). */
const turn = () => new Promise((r) => setImmediate(r));

test('[T-12] the idle timeout closes a silent client, and only its own bytes restart it', async (t) => {
  const clock = new FakeClock();
  const [client, server] = duplexPair();
  client.resume();
  const write = guardStream(server, clock, limits, testLog);
  clock.advance(IDLE - 1);
  client.write('x');
  await turn();
  // The hub's own writes are no sign of life.
  clock.advance(IDLE - 1);
  t.true(write('event\r\n'));
  await turn();
  t.false(server.destroyed);
  clock.advance(1);
  t.true(server.destroyed);
  await closed(client);
  t.is(clock.pending, 0);
});

test('a client that does not read is dropped once its queued output passes the cap', async (t) => {
  const clock = new FakeClock();
  const [client, server] = duplexPair();
  client.pause();
  client.on('error', () => {});
  const write = guardStream(server, clock, limits, testLog);
  const chunk = Buffer.alloc(8 * 1024);
  let accepted = 0;
  while (write(chunk)) {
    accepted++;
    await turn();
    if (accepted > 1000) break;
  }
  t.true(server.destroyed);
  t.true(accepted * chunk.length > limits.maxOutputBytes, `${accepted} chunks accepted`);
  t.true(accepted * chunk.length < limits.maxOutputBytes + 64 * 1024, `${accepted} chunks`);
  t.false(write(chunk));
});

test('the pump answers what came before a half-close, then ends the connection', async (t) => {
  const clock = new FakeClock();
  const [client, server] = duplexPair();
  const got: string[] = [];
  const pump = new RequestPump<string>(server, clock, limits, (item) => {
    server.write(`${item}\n`);
  });
  server.on('data', (chunk: Buffer) => pump.push(chunk.toString().split(' ')));
  let answers = '';
  client.setEncoding('utf8');
  client.on('data', (s: string) => {
    answers += s;
  });
  client.end('a b c');
  await once(client, 'end');
  got.push(...answers.trim().split('\n'));
  t.deepEqual(got, ['a', 'b', 'c']);
  await closed(server);
  t.true(pump.closing);
});

test('a closing connection whose client never reads is destroyed after the grace, on the clock', async (t) => {
  const clock = new FakeClock();
  const [client, server] = duplexPair();
  client.pause();
  const pump = new RequestPump<string>(server, clock, limits, () => {});
  server.write(Buffer.alloc(256 * 1024)); // more than the client will ever take
  pump.close();
  t.true(pump.closing);
  await turn();
  clock.advance(CLOSE_GRACE_MS - 1);
  t.false(server.destroyed);
  clock.advance(1);
  t.true(server.destroyed);
  t.is(clock.pending, 0);
});

const addresses: Array<[string | undefined, string]> = [
  ['::ffff:192.0.2.7', '192.0.2.7'],
  ['192.0.2.7', '192.0.2.7'],
  ['::1', '::1'],
  ['::ffff:abcd', '::ffff:abcd'],
  ['2001:db8::1', '2001:db8::1'],
  [undefined, '0.0.0.0'],
];

for (const [raw, plain] of addresses) {
  test(`plainIp(${String(raw)}) is ${plain}`, (t) => {
    t.is(plainIp(raw), plain);
  });
}
