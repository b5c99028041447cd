/**
 * The device's MQTT link end to end: a real hub (its embedded broker on a free port, or
 * bridged to a real mosquitto) and two real `babel-device` processes. Commands on
 * `babel/<name>/set` place, answer and end a call and open the door; the device publishes
 * its statistics during the call and its announcement, retained; malformed and stale
 * (retained) commands do nothing; and a broker that is down never stops a call.
 */
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Hub } from '../../hub/main.ts';
import { readMqttLogins } from '../../hub/mqtt/logins.ts';
import { topicsFor } from '../../protocol/mqtt/topics.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { startHub, tempDir, testConfig } from '../helpers/hub.ts';
import { testLog } from '../helpers/log.ts';
import { freePort, Mosquitto, MqttWatch } from '../helpers/mosquitto.ts';

const topics = topicsFor('babel');
/** Generous: a slow shared 2-core machine, several node processes at once. */
const WAIT = 10_000;
/** A device's start (tsx compiles it) and first connection to the hub. */
const START = 20_000;
const MALFORMED = 'ignored a malformed MQTT command';

function devices(hubPort: number, mqttUrl: string, doorArgs: string[] = []) {
  const common = [
    '--hub',
    `127.0.0.1:${hubPort}`,
    '--media-port',
    '0',
    '--playback',
    'null',
    '--button',
    'stdin',
    '--mqtt',
    mqttUrl,
  ];
  const door = new DeviceProcess('door', [
    ...common,
    '--capture',
    'tone:440',
    '--target',
    'kitchen',
    ...doorArgs,
  ]);
  const kitchen = new DeviceProcess('kitchen', [...common, '--capture', 'tone:1000']);
  return { door, kitchen };
}

/** Log lines (`msg`) of `d` matching `msg`, from index `from` on. */
function logged(d: DeviceProcess, msg: string, from = 0): number {
  return d.logs.slice(from).filter((l) => l.msg === msg).length;
}

async function until(what: string, ok: () => boolean, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until `d` takes commands: publishes a malformed one until the device reports
 * ignoring it (its subscription is then in place).
 */
async function takesCommands(d: DeviceProcess, w: MqttWatch): Promise<void> {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const from = d.logs.length;
    await w.client.publishAsync(topics.set(d.name), 'not json', { qos: 1 });
    const seen = Date.now() + 500;
    while (Date.now() < seen && logged(d, MALFORMED, from) === 0) {
      await new Promise((r) => setTimeout(r, 25));
    }
    if (logged(d, MALFORMED, from) > 0) return;
    if (Date.now() > deadline) throw new Error(`${d.name} takes no MQTT commands`);
  }
}

/**
 * Stops the devices at once (SIGTERM, SIGKILL after a generous bound); the exit codes, and
 * what each said last when one did not stop cleanly.
 */
async function stopAll(
  ...ds: DeviceProcess[]
): Promise<{ codes: Array<number | null>; why: string }> {
  const t0 = Date.now();
  const codes = await Promise.all(ds.map((d) => d.stop(10_000)));
  const why = ds
    .map(
      (d, i) =>
        `${d.name}: exit ${codes[i]} signal ${d.child.signalCode} after ${Date.now() - t0} ms; ` +
        d.logs
          .slice(-6)
          .map((l) => `${l.msg}${l.event ? ` (${l.event})` : ''}`)
          .join(' | '),
    )
    .join('\n');
  return { codes, why };
}

const json = (s: string) => JSON.parse(s) as Record<string, unknown>;

/** Call, accept and hang up by MQTT commands; checks the hub's topics along the way. */
async function callByCommands(
  t: ExecutionContext,
  w: MqttWatch,
  door: DeviceProcess,
  kitchen: DeviceProcess,
  duringCall: () => Promise<void> = async () => {},
): Promise<void> {
  const from = w.seen.length;
  const dmark = door.events.length;
  const kmark = kitchen.events.length;
  await w.client.publishAsync(topics.set('door'), '{"action":"call","target":"kitchen"}');
  await kitchen.waitFor(/^door is calling$/, WAIT, kmark);
  await w.waitJson(topics.user('door'), { state: 'calling', peer: 'kitchen' }, WAIT, from);
  await w.waitJson(topics.user('kitchen'), { state: 'ringing', peer: 'door' }, WAIT, from);

  await w.client.publishAsync(topics.set('kitchen'), '{"action":"accept"}');
  await door.waitFor(/^talking with kitchen$/, WAIT, dmark);
  await kitchen.waitFor(/^talking with door$/, WAIT, kmark);
  await w.waitJson(topics.user('kitchen'), { state: 'in_call', peer: 'door' }, WAIT, from);
  await w.waitJson(topics.user('door'), { state: 'in_call', peer: 'kitchen' }, WAIT, from);

  await duringCall();

  await w.client.publishAsync(topics.set('kitchen'), '{"action":"hangup"}');
  await kitchen.waitFor(/^hung up on door$/, WAIT, kmark);
  await door.waitFor(/^call with kitchen ended$/, WAIT, dmark);
  await w.waitJson(topics.user('kitchen'), { state: 'idle', peer: null }, WAIT, from);
  await w.waitJson(topics.user('door'), { state: 'idle', peer: null }, WAIT, from);
  const started = await w.waitJson(topics.calls, { event: 'started' }, WAIT, from);
  t.like(started, { caller: 'door', callee: 'kitchen', reason: null });
  const ended = await w.waitJson(topics.calls, { event: 'ended' }, WAIT, from);
  t.like(ended, { caller: 'door', callee: 'kitchen', reason: 'ended' });
}

const STATS_FIELDS = [
  'packets',
  'loss_pct',
  'late',
  'concealed',
  'jitter_ms',
  'buffer_ms',
  'bitrate_kbps',
  'srtp',
  'srtp_auth_failed',
  'srtp_replayed',
  'relay_fallbacks', // [G-3]
];

test.serial(
  'embedded broker: commands place, answer and end a call, open the door; stats every 5 s; announcements',
  async (t) => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'door.yaml'), 'door:\n  relay: fake\n  pulse_ms: 500\n');
    const config = testConfig(['--mqtt', 'embedded']);
    config.mqtt.embedded_host = '127.0.0.1';
    config.mqtt.embedded_port = 0;
    config.mqtt.embedded_tls_port = 0;
    const hub = await Hub.start(config, { log: testLog });
    t.truthy(hub.mqttPort);
    const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    // [S-9] The embedded broker takes no anonymous clients: watch and command as Home
    // Assistant would, with the admin login; the devices log in with their own secrets.
    const admin = readMqttLogins(config.data_dir)?.admin;
    if (!admin) throw new Error('the hub made no MQTT logins');
    const w = await MqttWatch.connect(url, ['babel/#'], admin);
    // A stale command left retained on the broker: a device must not act on it when it
    // (re)subscribes, or every reconnect would open the door again.
    await w.client.publishAsync(topics.set('door'), '{"action":"door"}', { qos: 1, retain: true });
    const { door, kitchen } = devices(hub.textPort, url, ['--config', path.join(dir, 'door.yaml')]);
    try {
      await door.waitFor(/^connected to the hub/, START);
      await kitchen.waitFor(/^connected to the hub/, START);
      await takesCommands(door, w);
      await takesCommands(kitchen, w);
      await until('the stale command ignored', () =>
        door.logs.some((l) => l.msg === 'ignored a retained (stale) MQTT command'),
      );

      // Announcements, retained: a late subscriber sees them.
      const late = await MqttWatch.connect(url, [topics.anyDevice], admin);
      try {
        const d = await late.waitTopic(topics.device('door'), undefined, WAIT);
        const k = await late.waitTopic(topics.device('kitchen'), undefined, WAIT);
        t.true(d.retain);
        t.true(k.retain);
        t.like(json(d.payload), { door: true, model: 'babel-device' });
        t.like(json(k.payload), { door: false, model: 'babel-device' });
      } finally {
        await late.close();
      }

      // Malformed commands: logged and ignored, the device stays idle and alive.
      const before = door.logs.length;
      for (const bad of [
        'not json',
        '{"action":"explode"}',
        '{"action":"call","target":"no such/name"}',
        '{"action":"call"}',
        'x'.repeat(5000),
      ]) {
        await w.client.publishAsync(topics.set('door'), bad, { qos: 1 });
      }
      await until('five malformed commands ignored', () => logged(door, MALFORMED, before) >= 5);
      t.is(door.child.exitCode, null);
      t.false(
        door.events.some((e) => /calling|door opened/.test(e)),
        door.events.join(' | '),
      );

      await callByCommands(t, w, door, kitchen, async () => {
        // Statistics within one 5 s period (and some slack) of the call starting.
        const from = w.seen.length;
        const m = await w
          .waitFor(
            (s) => s.topic === topics.stats('door') && (json(s.payload).packets as number) > 0,
            'babel/door/stats with packets > 0',
            15_000,
            from,
          )
          .catch((err: Error) => {
            const seen = w.seen.filter((s) => s.topic.endsWith('/stats'));
            const status = `door exit ${door.child.exitCode} signal ${door.child.signalCode}`;
            const stats = seen.map((s) => `${s.topic} ${s.payload}`).join('; ');
            throw new Error(`${err.message}; ${status}; stats seen: ${stats}`);
          });
        t.false(m.retain);
        const stats = json(m.payload);
        t.deepEqual(Object.keys(stats).sort(), [...STATS_FIELDS].sort());
        for (const f of STATS_FIELDS.filter((f) => f !== 'srtp'))
          t.is(typeof stats[f], 'number', f);
        t.is(stats.srtp, false, 'devices on the hub loopback talk plain RTP');
        t.true((stats.bitrate_kbps as number) > 0);
        t.true((stats.loss_pct as number) >= 0 && (stats.loss_pct as number) <= 100);
        await w.waitFor(
          (s) => s.topic === topics.stats('kitchen') && (json(s.payload).packets as number) > 0,
          'babel/kitchen/stats',
          WAIT,
          from,
        );

        // The door, by command: the (fake) relay pulses, and the attempt is published, not
        // retained, on babel/door/door [S-10].
        const mark = door.events.length;
        const seen = w.seen.length;
        await w.client.publishAsync(topics.set('door'), '{"action":"door"}', { qos: 1 });
        await door.waitFor(/^door opened \(MQTT\)$/, WAIT, mark);
        const opened = await w.waitTopic('babel/door/door', undefined, WAIT, seen);
        t.false(opened.retain);
        t.deepEqual(json(opened.payload), {
          result: 'opened',
          by: 'mqtt',
          from: null,
          reason: null,
        });
        // The kitchen has no relay: the same command opens nothing there (refused, and
        // published), and the call goes on.
        await w.client.publishAsync(topics.set('kitchen'), '{"action":"door"}', { qos: 1 });
        const refused = await w.waitTopic('babel/kitchen/door', undefined, WAIT, seen);
        t.deepEqual(json(refused.payload), {
          result: 'refused',
          by: 'mqtt',
          from: null,
          reason: 'no_relay',
        });
      });
      t.is(
        door.events.filter((e) => /door opened/.test(e)).length,
        1,
        'the live command opened the door; the stale retained one did not',
      );
      t.false(kitchen.events.some((e) => /door opened/.test(e)));
    } finally {
      const { codes, why } = await stopAll(door, kitchen);
      await w.close();
      await hub.stop();
      t.deepEqual(codes, [0, 0], why);
    }
  },
);

test.serial(
  'mosquitto: the hub bridged to it, devices on it: call, accept, hang up by command',
  async (t) => {
    const mosquitto = await Mosquitto.start();
    const { hub, stop } = await startHub(['--mqtt', mosquitto.url]);
    const w = await MqttWatch.connect(mosquitto.url, ['babel/#']);
    const { door, kitchen } = devices(hub.textPort, mosquitto.url);
    try {
      await door.waitFor(/^connected to the hub/, START);
      await kitchen.waitFor(/^connected to the hub/, START);
      await takesCommands(door, w);
      await takesCommands(kitchen, w);
      await callByCommands(t, w, door, kitchen);
    } finally {
      const { codes, why } = await stopAll(door, kitchen);
      await w.close();
      await stop();
      await mosquitto.dispose();
      t.deepEqual(codes, [0, 0], why);
    }
  },
);

test.serial('a broker that is down never stops calls: presses place and end one', async (t) => {
  const { hub, stop } = await startHub();
  const closed = await freePort();
  const { door, kitchen } = devices(hub.textPort, `mqtt://127.0.0.1:${closed}`);
  try {
    await door.waitFor(/^connected to the hub/, START);
    await kitchen.waitFor(/^connected to the hub/, START);
    door.press();
    await kitchen.waitFor(/^door is calling$/, WAIT);
    kitchen.press();
    await door.waitFor(/^talking with kitchen$/, WAIT);
    await kitchen.waitFor(/^talking with door$/, WAIT);
    door.press();
    await door.waitFor(/^hung up on kitchen$/, WAIT);
    await kitchen.waitFor(/^call with door ended$/, WAIT);
    t.false(door.logs.some((l) => l.msg === 'MQTT connected'));
  } finally {
    const { codes, why } = await stopAll(door, kitchen);
    await stop();
    t.deepEqual(codes, [0, 0], `a clean stop with the broker still away\n${why}`);
  }
});

test.serial(
  '[G-2] embedded broker: {"action":"page"} pages a group, hangup ends it; the hub publishes the page',
  async (t) => {
    const config = testConfig(['--mqtt', 'embedded']);
    config.mqtt.embedded_host = '127.0.0.1';
    config.mqtt.embedded_port = 0;
    config.mqtt.embedded_tls_port = 0;
    const hub = await Hub.start(config, { log: testLog });
    const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    const admin = readMqttLogins(config.data_dir)?.admin;
    if (!admin) throw new Error('the hub made no MQTT logins');
    const w = await MqttWatch.connect(url, ['babel/#'], admin);
    const { door, kitchen } = devices(hub.textPort, url);
    try {
      await door.waitFor(/^connected to the hub/, START);
      await kitchen.waitFor(/^connected to the hub/, START);
      hub.accounts.groups.add('floors', ['kitchen']);
      await takesCommands(door, w);
      const from = w.seen.length;
      await w.client.publishAsync(topics.set('door'), '{"action":"page","target":"Floors"}');
      await door.waitFor(/^paging floors$/, WAIT);
      await kitchen.waitFor(/^door is paging$/, WAIT);
      const started = await w.waitJson(topics.calls, { event: 'started' }, WAIT, from);
      t.like(started, { caller: 'door', callee: 'floors' });
      await w.waitJson(topics.user('kitchen'), { state: 'in_call' }, WAIT, from);
      t.false(
        kitchen.events.some((e) => /talking with|is calling/.test(e)),
        'no ring, no press',
      );

      await w.client.publishAsync(topics.set('door'), '{"action":"hangup"}');
      await door.waitFor(/^hung up on floors$/, WAIT);
      await kitchen.waitFor(/^page from door ended$/, WAIT);
      const ended = await w.waitJson(topics.calls, { event: 'ended' }, WAIT, from);
      t.like(ended, { caller: 'door', callee: 'floors' });
      await w.waitJson(topics.user('kitchen'), { state: 'idle' }, WAIT, from);
    } finally {
      const { codes, why } = await stopAll(door, kitchen);
      await w.close();
      await hub.stop();
      t.deepEqual(codes, [0, 0], why);
    }
  },
);
