/**
 * [S-9] Attacks on the embedded broker with real MQTT.js clients over loopback, against a
 * real account store: an anonymous door command, wrong passwords, device A commanding or
 * listening to device B, and a flood of wrong passwords [S-7], counted at the secret check.
 */
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import mqtt, { type IClientOptions, MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { Hub } from '../../hub/main.ts';
import { deviceVerifier } from '../../hub/mqtt/embedded-access.ts';
import { EmbeddedBroker } from '../../hub/mqtt/embedded-broker.ts';
import { readMqttLogins } from '../../hub/mqtt/logins.ts';
import { LoginThrottle } from '../../hub/security/login-throttle.ts';
import { AccountStore } from '../../hub/store/accounts.ts';
import { openDatabase } from '../../hub/store/db.ts';
import { topicsFor } from '../../protocol/mqtt/topics.ts';
import { FakeClock } from '../../shared/clock.ts';
import { tempDir, testConfig } from '../helpers/hub.ts';
import { testLog } from '../helpers/log.ts';
import { MqttWatch } from '../helpers/mosquitto.ts';

const topics = topicsFor('babel');
const DOOR = '{"action":"door"}';
const HUB = { username: 'babel-hub', password: 'hub-password-0123456789' };
const ADMIN = { username: 'admin', password: 'admin-password-0123456789' };
const A = { username: 'a', password: 'secret-of-a' };
const B = { username: 'b', password: 'secret-of-b' };

interface Rig {
  broker: EmbeddedBroker;
  url: string;
  /** Secret checks the broker asked the account store for. */
  checks: () => number;
  throttle: LoginThrottle;
  stop(): Promise<void>;
}

/** A debug-level logger whose lines are kept, to look for secrets and refusals in. */
function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    }),
  );
  return { log, lines };
}

/** The broker class with a real account store holding devices `a` and `b`. */
async function rig(log: Logger = testLog): Promise<Rig> {
  const accounts = new AccountStore(openDatabase(path.join(tempDir(), 'babel.sqlite')));
  await accounts.createUser({ name: A.username, secret: A.password });
  await accounts.createUser({ name: B.username, secret: B.password });
  const verify = deviceVerifier(accounts);
  let checks = 0;
  const throttle = new LoginThrottle({ clock: new FakeClock() });
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log,
    access: {
      mode: 'login',
      baseTopic: 'babel',
      hub: HUB,
      admin: ADMIN,
      verifyDevice: (name, secret) => {
        checks++;
        return verify(name, secret);
      },
      throttle,
    },
  });
  await broker.start();
  return {
    broker,
    url: broker.url,
    checks: () => checks,
    throttle,
    stop: async () => {
      await broker.stop();
      accounts.close();
    },
  };
}

const quick: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5000 };

/** The CONNACK code of a refused connection (MQTT.js puts it in `code`). */
async function refusedWith(url: string, opts: IClientOptions): Promise<number | undefined> {
  try {
    const c = await mqtt.connectAsync(url, { ...quick, ...opts });
    await c.endAsync(true);
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

test('an anonymous door command is refused at CONNECT (5, not authorized); nothing arrives', async (t) => {
  const r = await rig();
  const device = await MqttWatch.connect(r.url, [topics.set('door')], {
    username: 'admin',
    password: ADMIN.password,
  });
  try {
    t.is(await refusedWith(r.url, {}), 5);
    // And with a client that tries to publish right away, before its CONNACK.
    const c = mqtt.connect(r.url, quick);
    c.publish(topics.set('door'), DOOR, { qos: 1 });
    const err = await new Promise<Error>((resolve) => c.once('error', resolve));
    t.is((err as { code?: number }).code, 5);
    c.end(true);
    // A marker through the same topic shows the broker delivers, and the door command did not.
    const admin = await mqtt.connectAsync(r.url, { ...quick, ...ADMIN });
    await admin.publishAsync(topics.set('door'), 'marker', { qos: 1 });
    await device.waitTopic(topics.set('door'), 'marker');
    t.deepEqual(
      device.seen.map((m) => m.payload),
      ['marker'],
    );
    await admin.endAsync();
  } finally {
    await device.close();
    await r.stop();
  }
});

test('wrong passwords are refused (4, bad user name or password)', async (t) => {
  const r = await rig();
  try {
    t.is(await refusedWith(r.url, { username: 'a', password: 'secret-of-b' }), 4);
    t.is(await refusedWith(r.url, { username: 'admin', password: 'guess' }), 4);
    t.is(await refusedWith(r.url, { username: 'babel-hub', password: ADMIN.password }), 4);
    t.is(await refusedWith(r.url, { username: 'b', password: '' }), 4);
    t.is(await refusedWith(r.url, { ...A }), undefined);
  } finally {
    await r.stop();
  }
});

test("device A cannot command device B: its publish is dropped, B's subscriber sees only the admin's", async (t) => {
  const { log, lines } = captureLog();
  const r = await rig(log);
  const b = await MqttWatch.connect(r.url, [topics.set('b')], B);
  const admin = await MqttWatch.connect(r.url, ['babel/#'], ADMIN);
  const a = await mqtt.connectAsync(r.url, { ...quick, ...A });
  try {
    await a.publishAsync(topics.set('b'), DOOR, { qos: 1 });
    await a.publishAsync(topics.set('b'), DOOR, { qos: 0 });
    await a.publishAsync(topics.set('b'), DOOR, { qos: 2 });
    await a.publishAsync(topics.set('b'), DOOR, { qos: 1, retain: true });
    // Nor its own set, nor B's state.
    await a.publishAsync(topics.set('a'), DOOR, { qos: 1 });
    await a.publishAsync(topics.device('b'), '{"door":false}', { qos: 1, retain: true });
    // What A may publish still goes through, on the same connection.
    await a.publishAsync(topics.stats('a'), '{"packets":1}', { qos: 1 });
    await admin.waitTopic(topics.stats('a'));
    t.true(a.connected);
    const adminClient = await mqtt.connectAsync(r.url, { ...quick, ...ADMIN });
    await adminClient.publishAsync(topics.set('b'), 'marker', { qos: 1 });
    await b.waitTopic(topics.set('b'), 'marker');
    await admin.waitTopic(topics.set('b'), 'marker');
    await adminClient.endAsync();
    t.deepEqual(
      b.seen.map((m) => m.payload),
      ['marker'],
    );
    t.false(admin.seen.some((m) => m.payload === DOOR || m.topic === topics.device('b')));
    // Nothing was kept: a late subscriber to B's topics gets no retained command.
    const late = await MqttWatch.connect(r.url, ['babel/b/#'], HUB);
    await late.client.publishAsync('babel/b/stats', 'late-marker', { qos: 1 });
    await late.waitTopic('babel/b/stats', 'late-marker');
    t.deepEqual(
      late.seen.map((m) => m.payload),
      ['late-marker'],
    );
    await late.close();
    // Logged at debug, once per client and topic, with neither payload nor password.
    const refused = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'mqtt publish refused');
    t.deepEqual(refused.map((l) => l.topic).sort(), [
      topics.set('a'),
      topics.device('b'),
      topics.set('b'),
    ]);
    t.true(refused.every((l) => l.level === 20));
    for (const secret of [
      A.password,
      B.password,
      ADMIN.password,
      HUB.password,
      DOOR,
      'door":false',
    ]) {
      t.false(
        lines.some((l) => l.includes(secret)),
        secret,
      );
    }
  } finally {
    await a.endAsync(true);
    await b.close();
    await admin.close();
    await r.stop();
  }
});

test("device A subscribing to B's commands gets SUBACK 0x80 and nothing; its own set works", async (t) => {
  const r = await rig();
  const a = await mqtt.connectAsync(r.url, { ...quick, ...A });
  try {
    const heard: string[] = [];
    a.on('message', (topic) => heard.push(topic));
    for (const filter of [topics.set('b'), 'babel/#', 'babel/+/set', '#', '$babel/refused']) {
      const err = await t.throwsAsync(a.subscribeAsync(filter, { qos: 1 }));
      t.deepEqual((err as { packet?: { granted?: number[] } }).packet?.granted, [0x80], filter);
    }
    t.true(a.connected);
    const granted = await a.subscribeAsync(topics.set('a'), { qos: 1 });
    t.is(granted[0]?.qos, 1);
    const marker = new Promise<void>((resolve) =>
      a.on('message', (_topic, payload) => payload.toString() === 'marker' && resolve()),
    );
    const admin = await mqtt.connectAsync(r.url, { ...quick, ...ADMIN });
    await admin.publishAsync(topics.set('b'), DOOR, { qos: 1 });
    await admin.publishAsync(topics.set('a'), 'marker', { qos: 1 });
    await admin.endAsync();
    await marker;
    t.deepEqual(heard, [topics.set('a')]);
  } finally {
    await a.endAsync(true);
    await r.stop();
  }
});

test("the admin's command reaches the device", async (t) => {
  const r = await rig();
  const b = await MqttWatch.connect(r.url, [topics.set('b')], B);
  try {
    const admin = await mqtt.connectAsync(r.url, { ...quick, ...ADMIN });
    await admin.publishAsync(topics.set('b'), DOOR, { qos: 1 });
    await admin.endAsync();
    t.is((await b.waitTopic(topics.set('b'))).payload, DOOR);
  } finally {
    await b.close();
    await r.stop();
  }
});

/** An MQTT.js client whose TCP connection comes from `localAddress` (127.0.0.0/8 is all loopback). */
function connectFrom(
  localAddress: string,
  port: number,
  opts: IClientOptions,
): Promise<MqttClient> {
  const client = new MqttClient(
    () => net.createConnection({ port, host: '127.0.0.1', localAddress }),
    {
      protocolVersion: 4,
      ...quick,
      ...opts,
    },
  );
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

test('[S-7] a wrong-password flood is throttled: 6 secret checks for 200 tries; the device still gets in', async (t) => {
  const r = await rig();
  try {
    // The real device has logged in from its own address before.
    const before = await connectFrom('127.0.0.2', r.broker.port, A);
    await before.endAsync();
    t.is(r.checks(), 1);
    const codes = new Map<number | undefined, number>();
    for (let i = 0; i < 200; i++) {
      const code = await refusedWith(r.url, { username: 'a', password: `guess-${i}` });
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // Every refusal looks the same; only the first 6 cost a check (past 5 failures: blocked).
    t.deepEqual([...codes], [[4, 200]]);
    t.is(r.checks(), 1 + 6);
    // Even the right secret from the flooding address is refused now, unchecked.
    t.is(await refusedWith(r.url, { ...A }), 4);
    t.is(r.checks(), 7);
    // The device, from its own address, logs in at once.
    const device = await connectFrom('127.0.0.2', r.broker.port, A);
    t.true(device.connected);
    await device.endAsync();
    t.is(r.checks(), 8);
  } finally {
    await r.stop();
  }
});

test('the in-process hub: its bridge logs in by itself, anonymous clients are refused', async (t) => {
  const config = testConfig(['--mqtt', 'embedded']);
  config.mqtt.embedded_host = '127.0.0.1';
  config.mqtt.embedded_port = 0;
  config.mqtt.embedded_tls_port = 0;
  const hub = await Hub.start(config, { log: testLog });
  try {
    const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    const logins = readMqttLogins(config.data_dir);
    t.truthy(logins);
    t.is(await refusedWith(url, {}), 5);
    const w = await MqttWatch.connect(url, [topics.bridgeState, topics.pairing], logins?.admin);
    t.is((await w.waitTopic(topics.bridgeState)).payload, 'online');
    t.is((await w.waitTopic(topics.pairing)).payload, 'closed');
    await w.close();
  } finally {
    await hub.stop();
  }
});
