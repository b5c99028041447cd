/**
 * Home Assistant's controls end to end (issue 14): a real hub with its embedded broker,
 * two real `babel-device` processes, and a client logged in as Home Assistant (the admin
 * login [S-9]) that presses what discovery offers: the payloads are read from the
 * discovery configs, as Home Assistant would send them. Call, accept and hang up place,
 * answer and end a call; the do-not-disturb switch makes calls fail busy and shows its
 * state from the device's announcement.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Hub } from '../../hub/main.ts';
import { readMqttLogins } from '../../hub/mqtt/logins.ts';
import { topicsFor } from '../../protocol/mqtt/topics.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { testConfig } from '../helpers/hub.ts';
import { testLog } from '../helpers/log.ts';
import { MqttWatch } from '../helpers/mosquitto.ts';

const topics = topicsFor('babel');
const WAIT = 10_000;
const START = 20_000;

/** The latest non-empty discovery config of `component`/`key` for `user`. */
async function config(
  w: MqttWatch,
  hubId: string,
  component: string,
  user: string,
  key: string,
  match: (c: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>> {
  const topic = `homeassistant/${component}/babel_${hubId}_${user}/${key}/config`;
  const m = await w.waitFor(
    (s) => s.topic === topic && s.payload !== '' && match(JSON.parse(s.payload)),
    topic,
    WAIT,
  );
  return JSON.parse(m.payload) as Record<string, unknown>;
}

/** What Home Assistant sends when a button is pressed. */
async function press(w: MqttWatch, c: Record<string, unknown>): Promise<void> {
  await w.client.publishAsync(String(c.command_topic), String(c.payload_press), { qos: 1 });
}

test('Home Assistant presses call, accept, hang up and switches do not disturb', async (t) => {
  const config0 = testConfig(['--mqtt', 'embedded']);
  config0.mqtt.embedded_host = '127.0.0.1';
  config0.mqtt.embedded_port = 0;
  config0.mqtt.embedded_tls_port = 0;
  const hub = await Hub.start(config0, { log: testLog });
  const hubId = fs.readFileSync(path.join(config0.data_dir, 'hub-id'), 'utf8').trim();
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
  const admin = readMqttLogins(config0.data_dir)?.admin;
  if (!admin) throw new Error('the hub made no MQTT logins');
  const w = await MqttWatch.connect(url, ['babel/#', 'homeassistant/#'], admin);
  const common = [
    '--hub',
    `127.0.0.1:${hub.textPort}`,
    '--media-port',
    '0',
    '--playback',
    'null',
    '--capture',
    'silence',
    '--button',
    'stdin',
    '--mqtt',
    url,
  ];
  const door = new DeviceProcess('door', [...common, '--target', 'kitchen']);
  const kitchen = new DeviceProcess('kitchen', common);
  try {
    await door.waitFor(/^connected to the hub/, START);
    await kitchen.waitFor(/^connected to the hub/, START);

    // What discovery offers once the devices announced themselves.
    const call = await config(w, hubId, 'button', 'door', 'call');
    t.is(call.name, 'Call kitchen');
    const accept = await config(w, hubId, 'button', 'kitchen', 'accept');
    const hangup = await config(w, hubId, 'button', 'kitchen', 'hangup');
    const dnd = await config(w, hubId, 'switch', 'kitchen', 'dnd');
    const device = await config(w, hubId, 'sensor', 'kitchen', 'state');
    t.regex(String((device.device as { sw_version?: string }).sw_version), /^\d+\.\d+\.\d+/);

    // Call, accept, hang up.
    let k = kitchen.events.length;
    let d = door.events.length;
    await press(w, call);
    await kitchen.waitFor(/^door is calling$/, WAIT, k);
    await press(w, accept);
    await door.waitFor(/^talking with kitchen$/, WAIT, d);
    await kitchen.waitFor(/^talking with door$/, WAIT, k);
    await press(w, hangup);
    await kitchen.waitFor(/^hung up on door$/, WAIT, k);
    await door.waitFor(/^call with kitchen ended$/, WAIT, d);

    // Do not disturb on: announced (the switch's state), and calls fail busy.
    let from = w.seen.length;
    await w.client.publishAsync(String(dnd.command_topic), String(dnd.payload_on), { qos: 1 });
    const on = await w.waitJson(topics.device('kitchen'), { dnd: true }, WAIT, from);
    t.is(on.dnd, true);
    d = door.events.length;
    k = kitchen.events.length;
    await press(w, call);
    await door.waitFor(/^cannot call kitchen: busy$/, WAIT, d);
    t.false(kitchen.events.slice(k).some((e) => /is calling/.test(e)));

    // Off again: calls ring.
    from = w.seen.length;
    await w.client.publishAsync(String(dnd.command_topic), String(dnd.payload_off), { qos: 1 });
    await w.waitJson(topics.device('kitchen'), { dnd: false }, WAIT, from);
    k = kitchen.events.length;
    await press(w, call);
    await kitchen.waitFor(/^door is calling$/, WAIT, k);
  } finally {
    await Promise.all([door.stop(10_000), kitchen.stop(10_000)]);
    await w.close();
    await hub.stop();
  }
});
