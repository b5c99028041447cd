/**
 * The hub's own clients reach the embedded broker in process (`connectLocal`, over
 * `local-link.ts`), so no plaintext port is needed [S-9, extension; S-1]: the same logins
 * apply, a stopped broker closes them and a restarted one takes them back; with no
 * plaintext port, a TLS port that cannot be bound is a `BrokerListenError`.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import test from 'ava';
import type { MqttClient } from 'mqtt';
import { BrokerListenError, EmbeddedBroker } from '../../../hub/mqtt/embedded-broker.ts';
import { localLink } from '../../../hub/mqtt/local-link.ts';
import { capturingLog, testLog } from '../../helpers/log.ts';
import { makeCert } from '../../helpers/tls-hub.ts';

const HUB = { username: 'babel-hub', password: 'hub-password-0123456789' };
const ADMIN = { username: 'admin', password: 'admin-password-0123456789' };
const cert = makeCert();

function broker(opts: { plaintextHost?: string | null; tlsPort?: number; log?: typeof testLog }) {
  return new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    ...(opts.plaintextHost === undefined ? {} : { plaintextHost: opts.plaintextHost }),
    log: opts.log ?? testLog,
    access: {
      mode: 'login',
      baseTopic: 'babel',
      hub: HUB,
      admin: ADMIN,
      verifyDevice: async () => false,
      throttle: null,
    },
    tls: { port: opts.tlsPort ?? 0, identity: { cert: cert.cert, key: cert.key } },
  });
}

/** The arguments of `client`'s next `event`. */
function next(client: MqttClient, event: 'connect' | 'error' | 'close' | 'message') {
  return new Promise<unknown[]>((resolve) =>
    client.once(event as 'close', (...args: unknown[]) => resolve(args)),
  );
}

/** Reads what `end` receives until `n` bytes came. */
async function readBytes(end: Duplex, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const chunk = end.read() as Buffer | null;
    if (chunk) {
      chunks.push(chunk);
      got += chunk.length;
    } else await once(end, 'readable');
  }
  return Buffer.concat(chunks);
}

test('localLink: bytes both ways, one turn later, what one turn wrote as one chunk', async (t) => {
  const [a, b] = localLink();
  a.write('he');
  a.write('llo');
  t.is(b.read(), null, 'nothing in the same turn');
  await once(b, 'readable');
  t.is((b.read() as Buffer).toString(), 'hello');
  b.write('back');
  t.is((await readBytes(a, 4)).toString(), 'back');
  a.destroy();
  b.destroy();
});

test('localLink: a reader that stops reading backs the writer up; reading releases it', async (t) => {
  const [a, b] = localLink();
  const big = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  let blocked = false;
  // Write until the writer says stop: the reader reads nothing meanwhile.
  for (let i = 0; i < 64 && !blocked; i++) {
    blocked = !a.write(big);
    written += big.length;
    await new Promise((r) => setImmediate(r));
  }
  t.true(blocked, 'the writer was told to wait');
  t.true(written <= 8 * big.length, `bounded: ${written} bytes before it waited`);
  const drained = once(a, 'drain');
  const all = await readBytes(b, written);
  await drained;
  t.is(all.length, written);
  a.destroy();
  b.destroy();
});

test('localLink: end is read after the data before it; destroy closes the other end', async (t) => {
  const [a, b] = localLink();
  const data: string[] = [];
  b.on('data', (d: Buffer) => data.push(d.toString()));
  a.end('last words');
  await once(b, 'end');
  t.deepEqual(data, ['last words']);
  const [c, d] = localLink();
  d.resume(); // a reader: it reads the end, then closes (no half-open end)
  const closed = once(d, 'close');
  c.write('written just before');
  c.destroy();
  const got: string[] = [];
  d.on('data', (x: Buffer) => got.push(x.toString()));
  await closed;
  t.true(d.destroyed);
  t.deepEqual(got, ['written just before'], 'what was written before destroy still arrives');
  a.destroy();
});

test('connectLocal: the same logins as the ports (a wrong password is CONNACK 4); the hub login in', async (t) => {
  const b = broker({ plaintextHost: null });
  await b.start();
  try {
    const wrong = b.connectLocal('local', {
      ...HUB,
      password: 'nope',
      reconnectPeriod: 0,
    });
    const [err] = (await next(wrong, 'error')) as [Error & { code?: number }];
    t.is(err.code, 4);
    wrong.end(true);
    const ok = b.connectLocal('local', { ...HUB, reconnectPeriod: 0 });
    await next(ok, 'connect');
    await ok.subscribeAsync('babel/#', { qos: 1 });
    const got = next(ok, 'message');
    await ok.publishAsync('babel/bridge/state', 'online', { qos: 1, retain: true });
    const [topic, payload] = (await got) as [string, Buffer];
    t.is(`${topic} ${payload}`, 'babel/bridge/state online');
    await ok.endAsync();
  } finally {
    await b.stop();
  }
});

test('connectLocal: stop() closes the linked client; a client made while stopped closes at once', async (t) => {
  const b = broker({ plaintextHost: null });
  await b.start();
  const c = b.connectLocal('local', { ...HUB, reconnectPeriod: 0 });
  await next(c, 'connect');
  const closed = next(c, 'close');
  await b.stop();
  await closed;
  t.false(c.connected);
  const late = b.connectLocal('local', { ...HUB, reconnectPeriod: 0 });
  await next(late, 'close');
  t.false(late.connected);
  late.end(true);
});

test('[S-1] no plaintext port and the TLS port taken: BrokerListenError, nothing left open', async (t) => {
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as net.AddressInfo).port;
  const cap = capturingLog('info');
  const b = broker({ plaintextHost: null, tlsPort: taken, log: cap.log });
  const err = await t.throwsAsync(b.start());
  t.true(err instanceof BrokerListenError);
  t.is((err as BrokerListenError).code, 'EADDRINUSE');
  t.regex(err!.message, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 is in use`));
  t.false(cap.records.some((r) => String(r.msg).startsWith('embedded mqtt broker listening')));
  // Nothing to reach it by; stop() is harmless.
  const c = b.connectLocal('local', { ...HUB, reconnectPeriod: 0 });
  await next(c, 'close');
  c.end(true);
  await b.stop();
});

test('with plaintext (the default host): the TLS port taken is logged and plaintext serves alone', async (t) => {
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as net.AddressInfo).port;
  const cap = capturingLog('info');
  const b = broker({ tlsPort: taken, log: cap.log });
  await b.start();
  try {
    t.is(b.tlsPort, null);
    t.is(b.url, `mqtt://127.0.0.1:${b.port}`);
    t.true(cap.records.some((r) => r.level === 50 && /serving plaintext only/.test(String(r.msg))));
  } finally {
    await b.stop();
  }
});
