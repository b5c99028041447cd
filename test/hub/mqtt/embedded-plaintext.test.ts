/**
 * [S-9, extension; S-1] The embedded broker's plaintext port follows `plaintext`: loopback
 * by default, `host` with `all`, none with `off`; TLS (8883) on `mqtt.embedded_host`
 * always. Real sockets throughout. As in tls-listeners.test.ts, 127.0.0.2 stands in for
 * the hub's LAN address: a port bound to 127.0.0.1 only refuses it, as it refuses the LAN.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import mqtt, { type IClientOptions } from 'mqtt';
import type { HubConfig } from '../../../hub/config-schema.ts';
import { Hub } from '../../../hub/main.ts';
import { readMqttLogins } from '../../../hub/mqtt/logins.ts';
import { isLoopbackAddress, mqttPlaintextHost } from '../../../hub/mqtt/plain-host.ts';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { SECURE_ENV, tempDir, testConfig } from '../../helpers/hub.ts';
import { capturingLog } from '../../helpers/log.ts';
import { MqttWatch } from '../../helpers/mosquitto.ts';
import { tcpConnect } from '../../helpers/tls.ts';

const DOOR_SECRET = 'door-secret-0123456789';

test('mqttPlaintextHost: the dialects rule [S-1] on embedded_host', (t) => {
  const table: Array<[Parameters<typeof mqttPlaintextHost>, string | null]> = [
    [['loopback', '0.0.0.0'], '127.0.0.1'],
    [['loopback', '192.168.1.20'], '127.0.0.1'],
    [['loopback', '127.0.0.1'], '127.0.0.1'],
    [['loopback', '::'], '127.0.0.1'],
    [['all', '0.0.0.0'], '0.0.0.0'],
    [['all', '192.168.1.20'], '192.168.1.20'],
    [['off', '0.0.0.0'], null],
    [['off', '127.0.0.1'], null],
  ];
  for (const [args, want] of table) t.is(mqttPlaintextHost(...args), want, args.join(' '));
});

test('isLoopbackAddress: 127/8, ::1 and localhost; nothing else', (t) => {
  for (const h of ['127.0.0.1', '127.0.0.2', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])
    t.true(isLoopbackAddress(h), h);
  t.true(isLoopbackAddress('LocalHost'));
  for (const h of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.1', 'fe80::1', '1::1', 'hub.lan'])
    t.false(isLoopbackAddress(h), h);
});

/** A hub with the embedded broker, the hub's own defaults (registration closed), users made. */
async function hubWith(
  t: ExecutionContext,
  argv: string[],
  set: (c: HubConfig) => void = () => {},
): Promise<{ hub: Hub; config: HubConfig; records: () => Array<Record<string, unknown>> }> {
  const dir = tempDir();
  const accounts = new AccountStore(openDatabase(path.join(dir, 'babel.sqlite')));
  await accounts.createUser({ name: 'alice' });
  await accounts.createUser({ name: 'door', secret: DOOR_SECRET });
  accounts.close();
  const config = testConfig(['--mqtt', 'embedded', ...argv], dir, SECURE_ENV);
  config.mqtt.embedded_port = 0;
  config.mqtt.embedded_tls_port = 0;
  set(config);
  const cap = capturingLog('info');
  const hub = await Hub.start(config, { log: cap.log });
  t.teardown(() => hub.stop());
  return { hub, config, records: () => cap.records };
}

/** The admin login (Home Assistant's) and the hub's certificate as the only CA. */
function adminOverTls(config: HubConfig, extra: IClientOptions = {}): IClientOptions {
  const admin = readMqttLogins(config.data_dir)!.admin;
  const ca = fs.readFileSync(path.join(config.data_dir, 'tls', 'hub.crt'));
  return { ...admin, ca, reconnectPeriod: 0, connectTimeout: 5000, ...extra };
}

function brokerLine(records: Array<Record<string, unknown>>) {
  return records.find(
    (r) => typeof r.msg === 'string' && r.msg.startsWith('embedded mqtt broker listening'),
  );
}

test('[S-9, S-1] default: plaintext MQTT on loopback only, TLS on embedded_host (0.0.0.0); the admin over TLS with the hub certificate', async (t) => {
  const { hub, config, records } = await hubWith(t, []);
  t.is(config.mqtt.embedded_host, '0.0.0.0');
  const plain = hub.mqttPort!;
  const tlsPort = hub.mqttTlsPort!;
  // A stranger on the LAN: the plain port refuses; the TLS port answers.
  t.is(await tcpConnect('127.0.0.2', plain), 'ECONNREFUSED');
  t.is(await tcpConnect('127.0.0.2', tlsPort), 'connected');
  // This machine (a device on the hub's own Pi): the plain port serves the admin login.
  const admin = readMqttLogins(config.data_dir)!.admin;
  const local = await MqttWatch.connect(`mqtt://127.0.0.1:${plain}`, ['babel/bridge/state'], admin);
  t.is((await local.waitTopic('babel/bridge/state')).payload, 'online');
  await local.close();
  // The admin over TLS, the certificate checked for real (CA = hub.crt, name 127.0.0.1).
  const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, adminOverTls(config));
  t.true(c.connected);
  await c.endAsync();
  t.like(brokerLine(records()), { plaintext: '127.0.0.1', port: plain, host: '0.0.0.0', tlsPort });
  t.regex(
    brokerLine(records())?.msg as string,
    new RegExp(
      `plaintext on 127\\.0\\.0\\.1:${plain} \\(this machine only\\), TLS on 0\\.0\\.0\\.0:${tlsPort}$`,
    ),
  );
});

test('[S-9, S-1] embedded_host set to a LAN address: TLS there, plaintext still on loopback only; the certificate names localhost', async (t) => {
  const { hub, config } = await hubWith(t, [], (c) => {
    c.mqtt.embedded_host = '127.0.0.2';
  });
  const plain = hub.mqttPort!;
  const tlsPort = hub.mqttTlsPort!;
  t.is(await tcpConnect('127.0.0.2', plain), 'ECONNREFUSED');
  t.is(await tcpConnect('127.0.0.1', plain), 'connected');
  t.is(await tcpConnect('127.0.0.2', tlsPort), 'connected');
  t.is(await tcpConnect('127.0.0.1', tlsPort), 'ECONNREFUSED');
  // As the Home Assistant bridge does: the host name the certificate names, CA = hub.crt.
  const opts = adminOverTls(config, { servername: 'localhost' });
  const c = await mqtt.connectAsync(`mqtts://127.0.0.2:${tlsPort}`, opts);
  await c.subscribeAsync('babel/bridge/state', { qos: 1 });
  const state = await new Promise<string>((resolve) =>
    c.once('message', (_topic, payload) => resolve(payload.toString())),
  );
  t.is(state, 'online');
  await c.endAsync();
  // A name the certificate does not carry is refused before any login is sent.
  const err = await t.throwsAsync(
    mqtt.connectAsync(
      `mqtts://127.0.0.2:${tlsPort}`,
      adminOverTls(config, { servername: 'hub.example' }),
    ),
  );
  t.regex(
    String((err as NodeJS.ErrnoException).code ?? err?.message),
    /ERR_TLS_CERT_ALTNAME_INVALID/,
  );
});

test('[S-9, S-1, S-11] plaintext: all: the plain port on embedded_host for the LAN, warned at start naming MQTT', async (t) => {
  const { hub, config, records } = await hubWith(t, ['--plaintext', 'all'], (c) => {
    c.mqtt.embedded_host = '127.0.0.2';
  });
  t.is(await tcpConnect('127.0.0.2', hub.mqttPort!), 'connected');
  t.is(await tcpConnect('127.0.0.1', hub.mqttPort!), 'ECONNREFUSED');
  const admin = readMqttLogins(config.data_dir)!.admin;
  const w = await MqttWatch.connect(
    `mqtt://127.0.0.2:${hub.mqttPort}`,
    ['babel/bridge/state'],
    admin,
  );
  t.is((await w.waitTopic('babel/bridge/state')).payload, 'online');
  await w.close();
  const warn = records().find((r) => r.level === 40 && r.setting === 'plaintext: all');
  t.regex(String(warn?.msg), /MQTT.*admin login, which opens doors/);
  t.like(brokerLine(records()), { plaintext: '127.0.0.2', host: '127.0.0.2' });
});

/** A TCP port on 127.0.0.1 held by this test: a broker that tried to listen there would fail. */
async function holdPort(t: ExecutionContext): Promise<number> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** Resolves once `cond()` holds: the feed connects in its own time. */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('[S-9, S-1] plaintext: off: no plain MQTT port at all; the hub still publishes its state and a device works over TLS', async (t) => {
  const held = await holdPort(t);
  const { hub, config, records } = await hubWith(t, ['--plaintext', 'off'], (c) => {
    c.mqtt.embedded_host = '127.0.0.1';
    c.mqtt.embedded_port = held; // taken: the hub must not even try it
  });
  t.is(hub.mqttPort, null);
  t.truthy(hub.mqttTlsPort);
  t.like(brokerLine(records()), { plaintext: 'off', port: 0 });
  t.regex(brokerLine(records())?.msg as string, /no plaintext port \(plaintext: off\)/);
  t.false(
    records().some((r) => r.level === 50),
    'nothing logged at error',
  );
  const url = `mqtts://127.0.0.1:${hub.mqttTlsPort}`;
  // The hub's own bridge reaches its broker in process: its retained state is there.
  const admin = await MqttWatch.connect(url, ['babel/#'], adminOverTls(config));
  t.is((await admin.waitTopic('babel/bridge/state')).payload, 'online');
  t.is((await admin.waitTopic('babel/bridge/pairing')).payload, 'closed');
  t.is((await admin.waitTopic('babel/alice/availability')).payload, 'offline');
  // A device over TLS: what it publishes arrives, the admin's command reaches it.
  const ca = fs.readFileSync(path.join(config.data_dir, 'tls', 'hub.crt'));
  const door = await mqtt.connectAsync(url, {
    username: 'door',
    password: DOOR_SECRET,
    ca,
    reconnectPeriod: 0,
  });
  try {
    await door.subscribeAsync('babel/door/set', { qos: 1 });
    const command = new Promise<string>((resolve) =>
      door.once('message', (_topic, payload) => resolve(payload.toString())),
    );
    await door.publishAsync('babel/door/device', '{"door":true}', { qos: 1 });
    t.is((await admin.waitTopic('babel/door/device')).payload, '{"door":true}');
    await admin.client.publishAsync('babel/door/set', '{"action":"door"}', { qos: 1 });
    t.is(await command, '{"action":"door"}');
    // The hub's second client (the device feed for the page) is linked in process too.
    await until(() => hub.status().mqtt?.connected === true);
  } finally {
    await door.endAsync();
    await admin.close();
  }
});
