/**
 * [S-9, extension] The embedded broker's TLS port: the hub's certificate, the same logins,
 * ACL and throttle as the plaintext port (which keeps serving), a taken TLS port logged
 * and gone without, and both ports closed by `stop()`.
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import test from 'ava';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../../../hub/mqtt/embedded-broker.ts';
import { LoginThrottle } from '../../../hub/security/login-throttle.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { capturingLog, testLog } from '../../helpers/log.ts';
import { MqttWatch } from '../../helpers/mosquitto.ts';
import { tcpConnect } from '../../helpers/tls.ts';
import { makeCert, type TestCert } from '../../helpers/tls-hub.ts';

const HUB = { username: 'babel-hub', password: 'hub-password-0123456789' };
const ADMIN = { username: 'admin', password: 'admin-password-0123456789' };
const DOOR = { username: 'door', password: 's3cret' };
const KITCHEN = { username: 'kitchen', password: 'k1tchen' };

const cert: TestCert = makeCert();

function broker(
  opts: { tlsPort?: number; log?: typeof testLog; throttle?: LoginThrottle | null } = {},
) {
  return new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log: opts.log ?? testLog,
    access: {
      mode: 'login',
      baseTopic: 'babel',
      hub: HUB,
      admin: ADMIN,
      verifyDevice: async (name, secret) =>
        (name === 'door' && secret === DOOR.password) ||
        (name === 'kitchen' && secret === KITCHEN.password),
      throttle: opts.throttle ?? null,
    },
    tls: { port: opts.tlsPort ?? 0, identity: { cert: cert.cert, key: cert.key } },
  });
}

/** mqtt.js in TLS to the broker, the hub's certificate as its only CA. */
const tlsUrl = (b: EmbeddedBroker) => `mqtts://127.0.0.1:${b.tlsPort}`;
const trustHub = { ca: cert.cert, checkServerIdentity: () => undefined };

test('serves the hub certificate on its own port; the plaintext port serves the admin as before', async (t) => {
  const b = broker();
  await b.start();
  try {
    t.truthy(b.tlsPort);
    t.not(b.tlsPort, b.port);
    const s = tls.connect({ host: '127.0.0.1', port: b.tlsPort!, rejectUnauthorized: false });
    await once(s, 'secureConnect');
    const presented = new X509Certificate(s.getPeerCertificate().raw);
    t.is(presented.fingerprint256, new X509Certificate(cert.cert).fingerprint256);
    s.destroy();
    const admin = await mqtt.connectAsync(b.url, { ...ADMIN, reconnectPeriod: 0 });
    t.true(admin.connected);
    await admin.endAsync();
  } finally {
    await b.stop();
  }
});

test('[S-9] the same logins: anonymous and wrong refused in TLS, device and admin in', async (t) => {
  const b = broker();
  await b.start();
  try {
    for (const [opts, code] of [
      [{}, 5],
      [{ username: 'door', password: 'wrong' }, 4],
      [{ username: 'admin', password: DOOR.password }, 4],
    ] as const) {
      const err = await t.throwsAsync(
        mqtt.connectAsync(tlsUrl(b), {
          ...opts,
          ...trustHub,
          reconnectPeriod: 0,
          connectTimeout: 3000,
        }),
      );
      t.is((err as Error & { code?: number }).code, code, JSON.stringify(opts));
    }
    for (const login of [DOOR, ADMIN]) {
      const c = await mqtt.connectAsync(tlsUrl(b), { ...login, ...trustHub, reconnectPeriod: 0 });
      t.true(c.connected, login.username);
      await c.endAsync();
    }
  } finally {
    await b.stop();
  }
});

test("[S-9] the ACL on the TLS port: door cannot command kitchen nor read its commands; the admin's arrive", async (t) => {
  const b = broker();
  await b.start();
  const admin = await MqttWatch.connect(b.url, ['babel/#'], ADMIN);
  const kitchen = await mqtt.connectAsync(tlsUrl(b), { ...KITCHEN, ...trustHub });
  const door = await mqtt.connectAsync(tlsUrl(b), { ...DOOR, ...trustHub });
  try {
    const got: string[] = [];
    kitchen.on('message', (_topic, payload) => got.push(payload.toString()));
    await kitchen.subscribeAsync('babel/kitchen/set', { qos: 1 });
    const err = await t.throwsAsync(door.subscribeAsync('babel/kitchen/set', { qos: 1 }));
    t.deepEqual((err as Error & { packet?: { granted?: number[] } }).packet?.granted, [128]);
    await door.publishAsync('babel/kitchen/set', '{"action":"door"}', { qos: 1 });
    await door.publishAsync('babel/door/stats', '{"packets":1}', { qos: 1 });
    await admin.waitTopic('babel/door/stats');
    await admin.client.publishAsync('babel/kitchen/set', '{"action":"hangup"}', { qos: 1 });
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.deepEqual(got, ['{"action":"hangup"}'], "only the admin's command");
    t.false(admin.seen.some((s) => s.payload === '{"action":"door"}'));
  } finally {
    await door.endAsync();
    await kitchen.endAsync();
    await admin.close();
    await b.stop();
  }
});

test('[S-7] the throttle counts refusals on both ports together', async (t) => {
  const clock = new FakeClock();
  const throttle = new LoginThrottle({ clock });
  const b = broker({ throttle });
  await b.start();
  try {
    const tries = async (url: string, n: number) => {
      const codes: number[] = [];
      for (let i = 0; i < n; i++) {
        const err = await t.throwsAsync(
          mqtt.connectAsync(url, {
            username: 'door',
            password: `wrong-${i}`,
            ...trustHub,
            reconnectPeriod: 0,
            connectTimeout: 3000,
          }),
        );
        codes.push((err as Error & { code?: number }).code ?? -1);
      }
      return codes;
    };
    // 3 + 3 failures: past the 5 a window tolerates only if both ports count together.
    const plain = await tries(b.url, 3);
    const secure = await tries(tlsUrl(b), 3);
    t.deepEqual([...plain, ...secure], [4, 4, 4, 4, 4, 4]);
    // Blocked by now: the right secret from the same address is refused (4, like a wrong
    // one [S-7]) on the TLS port, and on the plaintext one.
    for (const url of [tlsUrl(b), b.url]) {
      const err = await t.throwsAsync(
        mqtt.connectAsync(url, { ...DOOR, ...trustHub, reconnectPeriod: 0, connectTimeout: 3000 }),
      );
      t.is((err as Error & { code?: number }).code, 4, url);
    }
    // Once the block is over, it gets in.
    clock.advance(10 * 60_000);
    const ok = await mqtt.connectAsync(tlsUrl(b), { ...DOOR, ...trustHub, reconnectPeriod: 0 });
    t.true(ok.connected);
    await ok.endAsync();
  } finally {
    await b.stop();
  }
});

test('a taken TLS port is logged; the plaintext port still serves; stop frees both', async (t) => {
  const squatter = net.createServer().listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  const taken = (squatter.address() as net.AddressInfo).port;
  const cap = capturingLog();
  const b = broker({ tlsPort: taken, log: cap.log });
  try {
    const port = await b.start();
    t.is(b.tlsPort, null);
    const line = cap.records.find((r) => r.level === 50);
    t.regex(
      String(line?.msg),
      new RegExp(`TLS on 127.0.0.1:${taken} \\(EADDRINUSE\\).*plaintext only`),
    );
    const admin = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      ...ADMIN,
      reconnectPeriod: 0,
    });
    t.true(admin.connected);
    await admin.endAsync();
  } finally {
    await b.stop();
    squatter.close();
  }
  const b2 = broker();
  await b2.start();
  const ports = [b2.port, b2.tlsPort!];
  await b2.stop();
  t.is(b2.tlsPort, null);
  for (const p of ports) t.is(await tcpConnect('127.0.0.1', p), 'ECONNREFUSED');
});
