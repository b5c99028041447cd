/**
 * [S-9] How the hub wires its broker's access: generated logins, `mqtt.username` /
 * `mqtt.password` in place of the hub's, device secrets from the account store, and
 * `mqtt.anonymous` with its warning [S-11].
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import mqtt from 'mqtt';
import pino from 'pino';
import { loadHubConfig } from '../../../hub/config-schema.ts';
import { Hub } from '../../../hub/main.ts';
import { deviceVerifier, embeddedAccess } from '../../../hub/mqtt/embedded-access.ts';
import { readMqttLogins } from '../../../hub/mqtt/logins.ts';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { tempDir, testConfig } from '../../helpers/hub.ts';
import { MqttWatch } from '../../helpers/mosquitto.ts';

const store = () => new AccountStore(openDatabase(path.join(tempDir(), 'babel.sqlite')));

test('generated logins; mqtt.username and password replace the hub login only', (t) => {
  const accounts = store();
  const config = testConfig(['--mqtt', 'embedded']);
  const plain = embeddedAccess(config, { accounts, clock: new FakeClock() });
  const made = readMqttLogins(config.data_dir);
  t.truthy(made);
  t.deepEqual(plain.bridge, made?.hub);
  t.like(plain.access, { mode: 'login', baseTopic: 'babel', hub: made?.hub, admin: made?.admin });

  config.mqtt.username = 'hub-user';
  config.mqtt.password = 'hub-pass';
  const own = embeddedAccess(config, { accounts, clock: new FakeClock() });
  const login = { username: 'hub-user', password: 'hub-pass' };
  t.deepEqual(own.bridge, login);
  t.like(own.access, { mode: 'login', hub: login, admin: made?.admin });
  accounts.close();
});

test('mqtt.anonymous: anonymous access, the bridge still has its login', (t) => {
  const accounts = store();
  const config = testConfig(['--mqtt', 'embedded']);
  config.mqtt.anonymous = true;
  const a = embeddedAccess(config, { accounts, clock: new FakeClock() });
  t.deepEqual(a.access, { mode: 'anonymous' });
  t.deepEqual(a.bridge, readMqttLogins(config.data_dir)?.hub);
  accounts.close();
});

test('devices: the right secret only; an account without a secret has no MQTT login', async (t) => {
  const accounts = store();
  await accounts.createUser({ name: 'door', secret: 'door-secret' });
  await accounts.createUser({ name: 'open' });
  const verify = deviceVerifier(accounts);
  t.true(await verify('door', 'door-secret'));
  t.false(await verify('door', 'wrong'));
  t.false(await verify('open', 'anything'));
  t.false(await verify('nobody', 'door-secret'));
  accounts.close();
});

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
  return { log, lines };
}

test('[S-11] BABEL_HUB_MQTT__ANONYMOUS=true: a warning at start, and anyone gets in', async (t) => {
  const loaded = loadHubConfig(
    ['--host', '127.0.0.1', '--text-port', '0', '--binary-port', '0', '--data-dir', tempDir()],
    {
      BABEL_HUB_MQTT__ANONYMOUS: 'true',
      BABEL_HUB_MQTT__EMBEDDED_PORT: '0',
      BABEL_HUB_MQTT__EMBEDDED_HOST: '127.0.0.1',
    },
  );
  if (loaded.kind !== 'config') return t.fail();
  t.true(loaded.config.mqtt.anonymous);
  const { log, lines } = capture();
  const hub = await Hub.start(loaded.config, { log });
  try {
    const warn = lines.filter((l) => l.level === 40 && /mqtt\.anonymous/.test(l.msg));
    t.is(warn.length, 1);
    const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    const w = await MqttWatch.connect(url, ['babel/bridge/state']);
    t.is((await w.waitTopic('babel/bridge/state')).payload, 'online');
    await w.close();
  } finally {
    await hub.stop();
  }
});

test('without it: no warning, and mqtt.username / password are what the bridge logs in with', async (t) => {
  const config = testConfig(['--mqtt', 'embedded']);
  config.mqtt.embedded_host = '127.0.0.1';
  config.mqtt.embedded_port = 0;
  config.mqtt.embedded_tls_port = 0;
  config.mqtt.username = 'hub-user';
  config.mqtt.password = 'hub-pass-0123456789';
  const { log, lines } = capture();
  const hub = await Hub.start(config, { log });
  try {
    t.false(lines.some((l) => l.level >= 40 && /anonymous/.test(l.msg)));
    const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    const admin = readMqttLogins(config.data_dir)?.admin;
    const w = await MqttWatch.connect(url, ['babel/bridge/state'], admin);
    t.is((await w.waitTopic('babel/bridge/state')).payload, 'online');
    await w.close();
    // The generated hub login it replaced is no login at all.
    const replaced = readMqttLogins(config.data_dir)?.hub;
    const err = await t.throwsAsync(mqtt.connectAsync(url, { ...replaced, reconnectPeriod: 0 }));
    t.is((err as { code?: number }).code, 4);
    t.false(JSON.stringify(lines).includes('hub-pass-0123456789'));
  } finally {
    await hub.stop();
  }
});
