/** The embedded aedes broker: port 0, retained messages, a taken port, logins [S-9], stop. */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import mqtt from 'mqtt';
import { BrokerListenError, EmbeddedBroker } from '../../../hub/mqtt/embedded-broker.ts';
import { testLog } from '../../helpers/log.ts';
import { MqttWatch } from '../../helpers/mosquitto.ts';

const HUB = { username: 'babel-hub', password: 'hub-password-0123456789' };
const ADMIN = { username: 'admin', password: 'admin-password-0123456789' };

/** A broker with the hub's and admin's logins, and one device `door` whose secret is `s3cret`. */
const broker = (port = 0) =>
  new EmbeddedBroker({
    host: '127.0.0.1',
    port,
    log: testLog,
    access: {
      mode: 'login',
      baseTopic: 'babel',
      hub: HUB,
      admin: ADMIN,
      verifyDevice: async (name, secret) => name === 'door' && secret === 's3cret',
      throttle: null,
    },
  });

test('port 0: binds a free port, exposes it, keeps retained messages for late subscribers', async (t) => {
  const b = broker();
  const port = await b.start();
  try {
    t.true(port > 0);
    t.is(b.port, port);
    t.is(b.url, `mqtt://127.0.0.1:${port}`);
    // A client id longer than MQTT 3.1.1's guaranteed 23 characters is welcome.
    const pub = await mqtt.connectAsync(b.url, {
      ...HUB,
      clientId: `a-long-client-id-${'x'.repeat(40)}`,
    });
    await pub.publishAsync('babel/bridge/state', 'online', { retain: true, qos: 1 });
    await pub.endAsync();
    const late = await MqttWatch.connect(b.url, ['babel/#'], ADMIN);
    const m = await late.waitTopic('babel/bridge/state');
    t.deepEqual(m, { topic: 'babel/bridge/state', payload: 'online', retain: true });
    await late.close();
  } finally {
    await b.stop();
  }
});

test('a wildcard bind is reached on loopback', async (t) => {
  const b = new EmbeddedBroker({
    host: '0.0.0.0',
    port: 0,
    log: testLog,
    access: { mode: 'anonymous' },
  });
  await b.start();
  try {
    t.is(b.url, `mqtt://127.0.0.1:${b.port}`);
  } finally {
    await b.stop();
  }
});

test('a taken port rejects with BrokerListenError naming the way out, leaving nothing open', async (t) => {
  const squatter = net.createServer().listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  const port = (squatter.address() as net.AddressInfo).port;
  try {
    const err = await t.throwsAsync(broker(port).start(), { instanceOf: BrokerListenError });
    t.is(err?.code, 'EADDRINUSE');
    t.regex(err?.message ?? '', new RegExp(`port ${port} .*in use.*--mqtt`));
  } finally {
    squatter.close();
  }
});

test('[S-9] anonymous, wrong and unknown logins are refused; the hub, admin and a device get in', async (t) => {
  const b = broker();
  await b.start();
  try {
    for (const [opts, code] of [
      [{}, 5],
      [{ username: 'admin', password: 'wrong' }, 4],
      [{ username: 'babel-hub', password: ADMIN.password }, 4],
      [{ username: 'door', password: 'wrong' }, 4],
      [{ username: 'door' }, 4],
      [{ username: 'nobody', password: 's3cret' }, 4],
      [{ username: 'not a name!', password: 's3cret' }, 4],
    ] as const) {
      const err = await t.throwsAsync(
        mqtt.connectAsync(b.url, { ...opts, reconnectPeriod: 0, connectTimeout: 3000 }),
      );
      t.is((err as Error & { code?: number }).code, code, JSON.stringify(opts));
    }
    for (const login of [HUB, ADMIN, { username: 'door', password: 's3cret' }]) {
      const ok = await mqtt.connectAsync(b.url, { ...login, reconnectPeriod: 0 });
      t.true(ok.connected, login.username);
      await ok.endAsync();
    }
  } finally {
    await b.stop();
  }
});

test('[S-9] a device cannot take over the client id of another login; its own again is fine', async (t) => {
  const b = broker();
  await b.start();
  try {
    const hub = await mqtt.connectAsync(b.url, {
      ...HUB,
      clientId: 'babel-hub',
      reconnectPeriod: 0,
    });
    const err = await t.throwsAsync(
      mqtt.connectAsync(b.url, {
        username: 'door',
        password: 's3cret',
        clientId: 'babel-hub',
        reconnectPeriod: 0,
      }),
    );
    t.is((err as Error & { code?: number }).code, 2);
    t.true(hub.connected);
    // The same login may (MQTT-3.1.4-2): the old connection goes.
    const closed = new Promise<void>((resolve) => hub.once('close', () => resolve()));
    const again = await mqtt.connectAsync(b.url, {
      ...HUB,
      clientId: 'babel-hub',
      reconnectPeriod: 0,
    });
    await closed;
    t.true(again.connected);
    await again.endAsync();
    await hub.endAsync(true);
  } finally {
    await b.stop();
  }
});

test('[S-11] anonymous mode takes anyone, as before', async (t) => {
  const b = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log: testLog,
    access: { mode: 'anonymous' },
  });
  await b.start();
  try {
    const w = await MqttWatch.connect(b.url, ['babel/#']);
    const c = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
    await c.publishAsync('babel/door/set', '{"action":"door"}', { qos: 1 });
    t.is((await w.waitTopic('babel/door/set')).payload, '{"action":"door"}');
    await c.endAsync();
    await w.close();
  } finally {
    await b.stop();
  }
});

test('stop disconnects clients, frees the port and is idempotent', async (t) => {
  const b = broker();
  const port = await b.start();
  const c = await mqtt.connectAsync(b.url, { ...ADMIN, reconnectPeriod: 0 });
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  await b.stop();
  await closed;
  await b.stop();
  const again = broker(port);
  t.is(await again.start(), port);
  await again.stop();
  await c.endAsync(true);
});
