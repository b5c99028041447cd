/**
 * [S-9, extension] The device's MQTT link in TLS, end to end: a real hub (in this process,
 * its embedded broker on free plaintext and TLS ports) and two real `babel-device`
 * processes on a TLS hub link, one pinned with `--hub-fingerprint`, one trusting on first
 * use. Both log in to the broker's TLS port, judged by the same pin as the hub link; Home
 * Assistant's admin login watches and commands on the plaintext port, as it does on a LAN.
 * Commands place, answer and end a call and open the door; statistics (SRTP on) arrive.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { FINGERPRINT_FILE } from '../../device/hub/trust.ts';
import { Hub } from '../../hub/main.ts';
import { readMqttLogins } from '../../hub/mqtt/logins.ts';
import { topicsFor } from '../../protocol/mqtt/topics.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { seedIdentity, tempDir, testConfig } from '../helpers/hub.ts';
import { testLog } from '../helpers/log.ts';
import { MqttWatch } from '../helpers/mosquitto.ts';

const topics = topicsFor('babel');
/** Generous: a slow shared 2-core machine, several node processes at once. */
const WAIT = 15_000;
/** A device's start (tsx compiles it) and first connection to the hub. */
const START = 30_000;

const json = (s: string) => JSON.parse(s) as Record<string, unknown>;

/** Index of the first log line of `d` whose `msg` matches, or -1. */
const firstLog = (d: DeviceProcess, re: RegExp) =>
  d.logs.findIndex((l) => typeof l.msg === 'string' && re.test(l.msg));

test.serial(
  'devices on a TLS hub link log in to the broker in TLS (pin and first use): announcements, commands, SRTP stats',
  async (t) => {
    t.timeout(150_000);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'door.yaml'), 'door:\n  relay: fake\n  pulse_ms: 500\n');
    const config = testConfig(['--mqtt', 'embedded']);
    config.mqtt.embedded_host = '127.0.0.1';
    config.mqtt.embedded_port = 0;
    config.mqtt.embedded_tls_port = 0;
    await seedIdentity(config.data_dir);
    const hub = await Hub.start(config, { log: testLog });
    const { mqttPort, mqttTlsPort } = hub;
    if (!mqttPort || !mqttTlsPort) throw new Error('the embedded broker has no TLS port');
    t.not(mqttTlsPort, mqttPort);
    const admin = readMqttLogins(config.data_dir)?.admin;
    if (!admin) throw new Error('the hub made no MQTT logins');
    // Home Assistant's side: the plaintext port, admin login, as before.
    const w = await MqttWatch.connect(`mqtt://127.0.0.1:${mqttPort}`, ['babel/#'], admin);
    const common = [
      ...['--hub', `tls://127.0.0.1:${hub.textTlsPort}`, '--media-port', '0'],
      ...['--playback', 'null', '--button', 'stdin'],
      ...['--mqtt', `mqtts://127.0.0.1:${mqttTlsPort}`],
    ];
    const door = new DeviceProcess('door', [
      ...common,
      ...['--hub-fingerprint', hub.fingerprint, '--capture', 'tone:440', '--target', 'kitchen'],
      ...['--config', path.join(dir, 'door.yaml')],
    ]);
    // No pin: the hub link trusts on first use, the MQTT link waits for that record.
    const kitchen = new DeviceProcess('kitchen', [...common, '--capture', 'tone:1000']);
    try {
      await door.waitFor(/^connected to the hub/, START);
      await kitchen.waitFor(/^connected to the hub/, START);
      const d = await w.waitTopic(topics.device('door'), undefined, START);
      const k = await w.waitTopic(topics.device('kitchen'), undefined, START);
      t.like(json(d.payload), { door: true, model: 'babel-device' });
      t.like(json(k.payload), { door: false, model: 'babel-device' });
      for (const dev of [door, kitchen]) {
        const connected = dev.logs.find((l) => l.msg === 'MQTT connected');
        t.is(connected?.url, `mqtts://127.0.0.1:${mqttTlsPort}`, dev.name);
      }
      // TOFU ordering: the record is the hub link's, made before the MQTT login.
      const record = fs.readFileSync(path.join(kitchen.stateDir, FINGERPRINT_FILE), 'utf8');
      t.is(record.trim(), hub.fingerprint);
      const tofu = firstLog(kitchen, /^trusting the hub on first use/);
      t.true(tofu >= 0);
      t.true(firstLog(kitchen, /^MQTT connected$/) > tofu, 'the MQTT login waited for the pin');
      t.is(fs.existsSync(path.join(door.stateDir, FINGERPRINT_FILE)), false, 'pinned: no record');

      // Commands over the TLS link: call, accept, stats during the call, the door, hang up.
      const from = w.seen.length;
      const dmark = door.events.length;
      const kmark = kitchen.events.length;
      await w.client.publishAsync(topics.set('door'), '{"action":"call","target":"kitchen"}');
      await kitchen.waitFor(/^door is calling$/, WAIT, kmark);
      await w.client.publishAsync(topics.set('kitchen'), '{"action":"accept"}');
      await door.waitFor(/^talking with kitchen$/, WAIT, dmark);
      const stats = await w.waitFor(
        (s) => s.topic === topics.stats('door') && (json(s.payload).packets as number) > 0,
        'babel/door/stats with packets > 0',
        20_000,
        from,
      );
      t.is(json(stats.payload).srtp, true, 'a TLS hub link: the call is SRTP');
      await w.waitFor(
        (s) => s.topic === topics.stats('kitchen') && (json(s.payload).packets as number) > 0,
        'babel/kitchen/stats',
        WAIT,
        from,
      );
      const seen = w.seen.length;
      await w.client.publishAsync(topics.set('door'), '{"action":"door"}', { qos: 1 });
      await door.waitFor(/^door opened \(MQTT\)$/, WAIT, dmark);
      const opened = await w.waitTopic('babel/door/door', undefined, WAIT, seen);
      t.like(json(opened.payload), { result: 'opened', by: 'mqtt' });
      await w.client.publishAsync(topics.set('kitchen'), '{"action":"hangup"}');
      await door.waitFor(/^call with kitchen ended$/, WAIT, dmark);
      for (const dev of [door, kitchen]) {
        t.false(
          dev.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('refused the hub')),
          dev.name,
        );
      }
    } finally {
      const codes = await Promise.all([door.stop(10_000), kitchen.stop(10_000)]);
      await w.close();
      await hub.stop();
      t.deepEqual(codes, [0, 0]);
    }
  },
);
