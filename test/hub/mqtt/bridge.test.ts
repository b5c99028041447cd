/**
 * The hub's MQTT topics end to end, against a real mosquitto and against the embedded
 * broker: every topic and payload of docs/mqtt.md seen by a real MQTT.js subscriber,
 * retained state for a late subscriber, Home Assistant's birth message, device
 * announcements and a clean stop.
 */
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Hub } from '../../../hub/main.ts';
import { userDiscovery } from '../../../hub/mqtt/discovery.ts';
import { readMqttLogins } from '../../../hub/mqtt/logins.ts';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { packageVersion } from '../../../shared/version.ts';
import { tempDir, testConfig } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';
import { connectedClient } from '../../helpers/text-client.ts';

type BrokerKind = 'mosquitto' | 'embedded';

interface Ctx {
  hub: Hub;
  /** Where subscribers connect. */
  url: string;
  /**
   * What they log in with: nothing on the test mosquitto; on the embedded broker the hub's
   * own login [S-9], which may publish what these tests play (devices, Home Assistant).
   */
  login: Login;
}

type Login = { username?: string; password?: string };

/** The login a test client uses on the hub's broker (see `Ctx.login`). */
function loginFor(kind: BrokerKind, dataDir: string): Login {
  if (kind === 'mosquitto') return {};
  const logins = readMqttLogins(dataDir);
  if (!logins) throw new Error('the hub made no mqtt logins');
  return logins.hub;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const topics = topicsFor('babel');
/** The hub id every hub here runs with (`<data_dir>/hub-id`), in its Home Assistant ids. */
const HUB = '0123abcd';
const discovery = { topics, hubId: HUB, swVersion: packageVersion() };

/** A hub on `kind`, with `users` already in its database (so offline at start). */
async function withHub(
  kind: BrokerKind,
  users: string[],
  body: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  const dataDir = tempDir();
  fs.writeFileSync(path.join(dataDir, 'hub-id'), `${HUB}\n`);
  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  for (const name of users) await store.createUser({ name });
  store.close();
  const mosquitto = kind === 'mosquitto' ? await Mosquitto.start() : null;
  try {
    const config = testConfig(['--mqtt', mosquitto?.url ?? 'embedded'], dataDir);
    config.mqtt.embedded_host = '127.0.0.1';
    config.mqtt.embedded_port = 0;
    config.mqtt.embedded_tls_port = 0;
    const hub = await Hub.start(config, { log: testLog });
    try {
      const url = mosquitto?.url ?? `mqtt://127.0.0.1:${hub.mqttPort}`;
      await body({ hub, url, login: loginFor(kind, dataDir) });
    } finally {
      await hub.stop();
    }
  } finally {
    await mosquitto?.dispose();
  }
}

const json = (s: string | undefined) => (s === undefined ? undefined : JSON.parse(s));

function macro(title: string, body: (t: ExecutionContext, kind: BrokerKind) => Promise<void>) {
  for (const kind of ['mosquitto', 'embedded'] as const) {
    test(`${kind}: ${title}`, (t) => body(t, kind));
  }
}

macro('every topic and payload through a whole call', async (t, kind) => {
  await withHub(kind, ['carol'], async ({ hub, url, login }) => {
    const w = await MqttWatch.connect(url, ['babel/#', 'homeassistant/#'], login);
    try {
      // The bridge, and a user who exists but is not connected.
      t.is((await w.waitTopic(topics.bridgeState)).payload, 'online');
      t.is((await w.waitTopic(topics.availability('carol'))).payload, 'offline');
      const carol = json((await w.waitTopic(topics.user('carol'))).payload);
      t.like(carol, { state: 'offline', peer: null });
      t.regex(carol.since, ISO);
      for (const m of userDiscovery(discovery, 'carol', null)) {
        if (!m.payload) continue;
        t.deepEqual(json((await w.waitTopic(m.topic)).payload), m.payload, m.topic);
      }

      // Users created after start get discovery on their first presence.
      const alice = await connectedClient(hub.textPort, 'alice', 5004);
      const bob = await connectedClient(hub.textPort, 'bob', 5006);
      await w.waitTopic('homeassistant/sensor/babel_0123abcd_alice/state/config');
      await w.waitTopic('homeassistant/event/babel_0123abcd_bob/doorbell/config');
      for (const name of ['alice', 'bob']) {
        await w.waitTopic(topics.availability(name), 'online');
        await w.waitJson(topics.user(name), { state: 'idle', peer: null });
      }

      let from = w.seen.length;
      t.is(await alice.request('CALL bob'), '104 bob');
      t.is(await bob.next(), '105 alice');
      const ringing = await w.waitJson(topics.calls, { event: 'ringing' }, undefined, from);
      t.like(ringing, { caller: 'alice', callee: 'bob', reason: null, duration_ms: 0 });
      t.regex(ringing.call_id as string, UUID);
      t.deepEqual(Object.keys(ringing).sort(), [
        'call_id',
        'callee',
        'caller',
        'duration_ms',
        'event',
        'reason',
      ]);
      const bell = await w.waitTopic(topics.doorbell('alice'), undefined, undefined, from);
      t.deepEqual(json(bell.payload), {
        event_type: 'ring',
        callee: 'bob',
        call_id: ringing.call_id,
      });
      await w.waitJson(topics.user('alice'), { state: 'calling', peer: 'bob' }, undefined, from);
      await w.waitJson(topics.user('bob'), { state: 'ringing', peer: 'alice' }, undefined, from);

      from = w.seen.length;
      t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
      t.is(await alice.next(), '106 bob 127.0.0.1 5006');
      await w.waitJson(
        topics.calls,
        { event: 'started', call_id: ringing.call_id, reason: null },
        undefined,
        from,
      );
      await w.waitJson(topics.user('alice'), { state: 'in_call', peer: 'bob' }, undefined, from);
      await w.waitJson(topics.user('bob'), { state: 'in_call', peer: 'alice' }, undefined, from);

      from = w.seen.length;
      t.is(await alice.request('HANGUP bob'), '107 bob ended');
      t.is(await bob.next(), '107 alice ended');
      const ended = await w.waitJson(topics.calls, { event: 'ended' }, undefined, from);
      t.like(ended, { call_id: ringing.call_id, caller: 'alice', callee: 'bob', reason: 'ended' });
      t.true(Number.isInteger(ended.duration_ms) && (ended.duration_ms as number) >= 0);
      await w.waitJson(topics.user('alice'), { state: 'idle', peer: null }, undefined, from);
      await w.waitJson(topics.user('bob'), { state: 'idle', peer: null }, undefined, from);

      // A caller who gives up ends the ring `cancelled`; the ring still rang the doorbell.
      from = w.seen.length;
      t.is(await bob.request('CALL alice'), '104 alice');
      t.is(await alice.next(), '105 bob');
      await w.waitTopic(topics.doorbell('bob'), undefined, undefined, from);
      t.is(await bob.request('HANGUP alice'), '107 alice cancelled');
      await w.waitJson(
        topics.calls,
        { event: 'ended', caller: 'bob', reason: 'cancelled', duration_ms: 0 },
        undefined,
        from,
      );

      from = w.seen.length;
      alice.close();
      await w.waitTopic(topics.availability('alice'), 'offline', undefined, from);
      await w.waitJson(topics.user('alice'), { state: 'offline', peer: null }, undefined, from);
      bob.close();
    } finally {
      await w.close();
    }
  });
});

macro('a late subscriber sees the retained state and no events', async (t, kind) => {
  await withHub(kind, ['carol'], async ({ hub, url, login }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 5006);
    const early = await MqttWatch.connect(url, ['babel/#'], login);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    await early.waitJson(topics.user('bob'), { state: 'ringing' });
    await early.waitJson(topics.calls, { event: 'ringing' });
    await early.close();

    const late = await MqttWatch.connect(url, ['babel/#', 'homeassistant/#'], login);
    try {
      const retained = async (topic: string) => {
        const m = await late.waitTopic(topic);
        t.true(m.retain, topic);
        return m.payload;
      };
      t.is(await retained(topics.bridgeState), 'online');
      t.is(await retained(topics.availability('carol')), 'offline');
      t.is(await retained(topics.availability('alice')), 'online');
      t.like(json(await retained(topics.user('alice'))), { state: 'calling', peer: 'bob' });
      t.like(json(await retained(topics.user('bob'))), { state: 'ringing', peer: 'alice' });
      t.like(json(await retained(topics.user('carol'))), { state: 'offline' });
      t.like(json(await retained('homeassistant/sensor/babel_0123abcd_bob/state/config')), {
        unique_id: 'babel_0123abcd_bob_state',
      });
      await retained('homeassistant/binary_sensor/babel-hub_0123abcd/connection/config');
      // Everything retained came at subscribe time; a marker published now comes after it.
      await late.client.publishAsync('babel/zz-marker', 'x');
      await late.waitTopic('babel/zz-marker');
      t.deepEqual(late.on(topics.calls), []);
      t.deepEqual(late.on(topics.doorbell('alice')), []);
      t.false(late.seen.some((m) => !m.retain && m.topic !== 'babel/zz-marker'));
    } finally {
      await late.close();
      alice.close();
      bob.close();
    }
  });
});

macro('homeassistant/status online re-publishes discovery', async (t, kind) => {
  await withHub(kind, ['carol'], async ({ url, login }) => {
    const w = await MqttWatch.connect(url, ['homeassistant/#'], login);
    try {
      const config = 'homeassistant/sensor/babel_0123abcd_carol/state/config';
      const bridge = 'homeassistant/binary_sensor/babel-hub_0123abcd/connection/config';
      await w.waitTopic(config);
      const from = w.seen.length;
      await w.client.publishAsync('homeassistant/status', 'offline');
      await w.client.publishAsync('homeassistant/status', 'online');
      const again = await w.waitTopic(config, undefined, undefined, from);
      await w.waitTopic(bridge, undefined, undefined, from);
      t.deepEqual(json(again.payload), userDiscovery(discovery, 'carol', null)[0]?.payload);
      // One re-publish for one `online`; `offline` triggers nothing.
      await w.client.publishAsync('homeassistant/zz-marker', 'x');
      await w.waitTopic('homeassistant/zz-marker', undefined, undefined, from);
      t.is(w.on(config).length, 2);
    } finally {
      await w.close();
    }
  });
});

macro(
  'a device announcing a relay gets Open door; losing it removes the button',
  async (t, kind) => {
    await withHub(kind, ['gate'], async ({ url, login }) => {
      const w = await MqttWatch.connect(url, ['homeassistant/#'], login);
      try {
        const button = 'homeassistant/button/babel_0123abcd_gate/door/config';
        const state = 'homeassistant/sensor/babel_0123abcd_gate/state/config';
        await w.waitTopic(state);
        // Unknown users' announcements are ignored: published first, so they would show first.
        await w.client.publishAsync('babel/nobody/device', '{"door":true}', { retain: true });
        await w.client.publishAsync('babel/gate/device', '{"door":true,"model":"Gate panel"}', {
          retain: true,
        });
        const on = json((await w.waitFor((m) => m.topic === button && m.payload !== '')).payload);
        t.like(on, {
          name: 'Open door',
          command_topic: 'babel/gate/set',
          payload_press: '{"action":"door"}',
        });
        t.like(on.device, { identifiers: ['babel_0123abcd_gate'], model: 'Gate panel' });
        t.like(
          json(
            (await w.waitFor((m) => m.topic === state && m.payload.includes('Gate panel'))).payload,
          ).device,
          {
            model: 'Gate panel',
          },
        );
        t.false(w.seen.some((m) => m.topic.includes('babel_0123abcd_nobody')));

        const from = w.seen.length;
        await w.client.publishAsync('babel/gate/device', '{"door":false}', { retain: true });
        const off = await w.waitTopic(button, undefined, undefined, from);
        t.is(off.payload, '');
        await w.client.publishAsync('babel/gate/device', '', { retain: true });
        await w.client.publishAsync('babel/nobody/device', '', { retain: true });
      } finally {
        await w.close();
      }
    });
  },
);

macro(
  'a clean stop: the call ends, users go offline, then the bridge, retained',
  async (t, kind) => {
    const mosquitto = kind === 'mosquitto' ? await Mosquitto.start() : null;
    const config = testConfig(['--mqtt', mosquitto?.url ?? 'embedded']);
    config.mqtt.embedded_host = '127.0.0.1';
    config.mqtt.embedded_port = 0;
    config.mqtt.embedded_tls_port = 0;
    const hub = await Hub.start(config, { log: testLog });
    const url = mosquitto?.url ?? `mqtt://127.0.0.1:${hub.mqttPort}`;
    const w = await MqttWatch.connect(url, ['babel/#'], loginFor(kind, config.data_dir));
    try {
      const alice = await connectedClient(hub.textPort, 'alice', 5004);
      const bob = await connectedClient(hub.textPort, 'bob', 5006);
      t.is(await alice.request('CALL bob'), '104 bob');
      t.is(await bob.next(), '105 alice');
      await w.waitJson(topics.user('bob'), { state: 'ringing' });
      const from = w.seen.length;
      await hub.stop();
      // The hub ended the call `ended` [interfaces: SIGTERM] and said so on MQTT before going.
      t.is(await bob.next(), '107 alice ended');
      const seen = w.seen.slice(from);
      const at = (topic: string, payload: string) =>
        seen.findIndex((m) => m.topic === topic && m.payload === payload);
      const bridgeOff = at(topics.bridgeState, 'offline');
      t.true(bridgeOff >= 0);
      const ended = seen.findIndex(
        (m) => m.topic === topics.calls && json(m.payload).event === 'ended',
      );
      t.true(ended >= 0 && ended < bridgeOff);
      for (const name of ['alice', 'bob']) {
        const off = at(topics.availability(name), 'offline');
        t.true(off >= 0 && off < bridgeOff, name);
      }
      t.false(seen.slice(bridgeOff + 1).some((m) => m.topic.startsWith('babel/')));
      alice.close();
      bob.close();
      if (mosquitto) {
        const late = await MqttWatch.connect(mosquitto.url, ['babel/#']);
        const m = await late.waitTopic(topics.bridgeState);
        t.deepEqual([m.payload, m.retain], ['offline', true]);
        t.like(json((await late.waitTopic(topics.user('alice'))).payload), { state: 'offline' });
        await late.close();
      }
    } finally {
      await hub.stop();
      await w.close();
      await mosquitto?.dispose();
    }
  },
);
