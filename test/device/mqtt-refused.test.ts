import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { DeviceMqtt } from '../../device/mqtt.ts';
import { testLog } from '../helpers/log.ts';

/** A broker stand-in that counts connections and answers each CONNECT with `connack`. */
async function fakeBroker(connack: Buffer | null) {
  const attempts: number[] = [];
  const server = net.createServer((s) => {
    attempts.push(Date.now());
    s.on('error', () => {});
    s.once('data', () => {
      if (connack) s.end(connack);
      else s.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return { attempts, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function device(port: number, retry: { refusedRetryMs?: number } = {}) {
  return new DeviceMqtt({
    ...retry,
    url: `mqtt://127.0.0.1:${port}`,
    baseTopic: 'babel',
    name: 'door',
    door: false,
    username: 'door',
    password: 'wrong-secret-0123456789',
    log: testLog,
    onCommand: () => {},
  });
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('[S-7, S-9] a refused login is retried slowly, not every 2-3 s', async (t) => {
  // CONNACK, return code 5: not authorized.
  const broker = await fakeBroker(Buffer.from([0x20, 0x02, 0x00, 0x05]));
  const m = device(broker.port);
  m.start();
  try {
    await until('the first login', () => broker.attempts.length >= 1);
    // The ordinary reconnect period is 2-3 s; after a refusal the next try is 30 s away.
    await new Promise((r) => setTimeout(r, 4000));
    t.is(broker.attempts.length, 1);
  } finally {
    m.stop();
    await broker.close();
  }
});

test('a broker that drops the link is retried at the ordinary pace', async (t) => {
  const broker = await fakeBroker(null);
  const m = device(broker.port);
  m.start();
  try {
    await until('a second attempt', () => broker.attempts.length >= 2);
    const gap = (broker.attempts[1] ?? 0) - (broker.attempts[0] ?? 0);
    t.true(gap < 30_000, `retried after ${gap} ms`);
  } finally {
    m.stop();
    await broker.close();
  }
});

test('[S-9] refused logins are retried for good, each wait twice the one before', async (t) => {
  const broker = await fakeBroker(Buffer.from([0x20, 0x02, 0x00, 0x04]));
  const m = device(broker.port, { refusedRetryMs: 200 });
  m.start();
  try {
    await until('four logins', () => broker.attempts.length >= 4);
    const a = broker.attempts;
    const gaps = [1, 2, 3].map((i) => (a[i] ?? 0) - (a[i - 1] ?? 0));
    t.true(gaps[0]! >= 190 && gaps[1]! >= 390 && gaps[2]! >= 790, `gaps ${gaps.join(', ')} ms`);
  } finally {
    m.stop();
    await broker.close();
  }
});

test('[S-9] once the hub accepts the same login, a refused MQTT login is tried again at once', async (t) => {
  const broker = await fakeBroker(Buffer.from([0x20, 0x02, 0x00, 0x04]));
  const m = device(broker.port);
  m.start();
  try {
    await until('the first login', () => broker.attempts.length >= 1);
    await until('the refusal', () => m.refusedLogins === 1);
    m.retryRefusedLogin();
    await until('a second login, long before the 30 s backoff', () => broker.attempts.length >= 2);
    t.true((broker.attempts[1] ?? 0) - (broker.attempts[0] ?? 0) < 20_000);
  } finally {
    m.stop();
    await broker.close();
  }
});
