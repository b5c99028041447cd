/**
 * Home Assistant discovery configs, checked against what HA's MQTT discovery accepts
 * (fixtures/ha-schema.ts, written from HA's own schemas).
 */
import test from 'ava';
import {
  BRIDGE_DEVICE_ID,
  bridgeDiscovery,
  CALL_STATES,
  type DiscoveryMessage,
  nodeId,
  userDiscovery,
} from '../../../hub/mqtt/discovery.ts';
import {
  type DeviceAnnouncement,
  type DeviceStats,
  topicsFor,
  type UserStatePayload,
} from '../../../protocol/mqtt/topics.ts';
import { haProblems } from './fixtures/ha-schema.ts';

const topics = topicsFor('babel');
const opts = { topics, swVersion: '0.1.0' };

/** Sample payloads of every topic a config reads, for checking value templates. */
const stats: DeviceStats = {
  packets: 1500,
  loss_pct: 0.4,
  late: 2,
  concealed: 6,
  jitter_ms: 3.2,
  buffer_ms: 60,
  bitrate_kbps: 24,
};
const state: UserStatePayload = { state: 'in_call', peer: 'bob', since: new Date(0).toISOString() };
const samples = (name: string): Record<string, Record<string, unknown>> => ({
  [topics.user(name)]: { ...state },
  [topics.stats(name)]: { ...stats },
  [topics.doorbell(name)]: { event_type: 'ring', callee: 'bob', call_id: 'x' },
  [topics.device(name)]: { door: true, volume: 80, model: 'babel-device' },
});

function every(name: string, device: DeviceAnnouncement | null): DiscoveryMessage[] {
  return [...bridgeDiscovery(opts), ...userDiscovery(opts, name, device)];
}

const published = (msgs: DiscoveryMessage[]) => msgs.filter((m) => m.payload !== null);
const byTopic = (msgs: DiscoveryMessage[], topic: string) =>
  msgs.find((m) => m.topic === topic)?.payload;

for (const name of ['alice', 'door.east', 'flat-3_b']) {
  test(`every config HA accepts, for user ${name}`, (t) => {
    const device = { door: true, volume: 80, model: 'Pi 4', sw_version: '0.2.0' };
    for (const m of published(every(name, device))) {
      t.deepEqual(haProblems(m), [], m.topic);
    }
  });
}

test('the validator itself rejects what HA rejects', (t) => {
  const bad: Array<[DiscoveryMessage, string]> = [
    [
      { topic: 'homeassistant/sensor/a.b/x/config', payload: { state_topic: 's' } },
      'bad discovery topic',
    ],
    [{ topic: 'homeassistant/sensor/n/x/config', payload: {} }, 'missing state_topic'],
    [
      { topic: 'homeassistant/event/n/x/config', payload: { state_topic: 's' } },
      'missing event_types',
    ],
    [
      { topic: 'homeassistant/button/n/x/config', payload: { state_topic: 's' } },
      'missing command_topic',
    ],
    [
      { topic: 'homeassistant/sensor/n/x/config', payload: { state_topic: 's', objectid: 'x' } },
      'unknown key',
    ],
    [
      {
        topic: 'homeassistant/sensor/n/x/config',
        payload: { state_topic: 's', options: ['a'], device_class: 'duration' },
      },
      'options need device_class enum',
    ],
    [
      {
        topic: 'homeassistant/sensor/n/x/config',
        payload: { state_topic: 's', device: { name: 'x' }, unique_id: 'u' },
      },
      'device needs identifiers',
    ],
    [
      {
        topic: 'homeassistant/sensor/n/x/config',
        payload: { state_topic: 's', availability: [{ topic: 'a' }], availability_topic: 'b' },
      },
      'exclusive',
    ],
    [
      { topic: 'homeassistant/button/n/x/config', payload: { command_topic: 'a/+/set' } },
      'bad command_topic',
    ],
  ];
  for (const [m, why] of bad)
    t.true(
      haProblems(m).some((p) => p.includes(why)),
      why,
    );
});

test('unique ids are unique across users, entities and the bridge', (t) => {
  const names = ['alice', 'alice_state', 'a.b', 'a_2eb', 'bridge', 'hub', 'calls'];
  const ids = names.flatMap((n) => userDiscovery(opts, n, { door: true }));
  const all = [...bridgeDiscovery(opts), ...ids]
    .map((m) => m.payload?.unique_id)
    .filter((u) => u !== undefined);
  t.is(new Set(all).size, all.length);
  const topicsSeen = [...bridgeDiscovery(opts), ...ids].map((m) => m.topic);
  t.is(new Set(topicsSeen).size, topicsSeen.length);
  t.not(nodeId('a.b'), nodeId('a_2eb'));
  t.not(nodeId('hub'), BRIDGE_DEVICE_ID);
});

test('each user is one HA device babel_<user>, via the hub device', (t) => {
  for (const m of published(userDiscovery(opts, 'door.east', { door: true, model: 'Pi 4' }))) {
    const d = m.payload!.device as Record<string, unknown>;
    t.deepEqual(d.identifiers, ['babel_door.east'], m.topic);
    t.is(d.name, 'door.east');
    t.is(d.model, 'Pi 4');
    t.is(d.via_device, BRIDGE_DEVICE_ID);
  }
  const bridge = bridgeDiscovery(opts)[0]!;
  t.deepEqual((bridge.payload!.device as Record<string, unknown>).identifiers, [BRIDGE_DEVICE_ID]);
});

test('call state: an enum sensor over babel/<user> with every state as an option', (t) => {
  const c = byTopic(
    userDiscovery(opts, 'alice', null),
    'homeassistant/sensor/babel_alice/state/config',
  )!;
  t.like(c, {
    state_topic: 'babel/alice',
    value_template: '{{ value_json.state }}',
    device_class: 'enum',
    options: ['idle', 'calling', 'ringing', 'in_call', 'offline'],
    availability_mode: 'all',
    availability: [{ topic: 'babel/bridge/state' }, { topic: 'babel/alice/availability' }],
  });
  t.deepEqual([...CALL_STATES], c.options);
});

test('availability: user entities need bridge and user online; Connected needs the bridge only', (t) => {
  for (const m of published(userDiscovery(opts, 'alice', { door: true }))) {
    const c = m.payload!;
    if (m.topic.includes('/device_automation/')) continue;
    if (m.topic.endsWith('/connected/config')) {
      t.is(c.availability_topic, 'babel/bridge/state');
      t.like(c, {
        state_topic: 'babel/alice/availability',
        payload_on: 'online',
        payload_off: 'offline',
      });
      continue;
    }
    t.is(c.availability_mode, 'all', m.topic);
    t.deepEqual(c.availability, [
      { topic: 'babel/bridge/state' },
      { topic: 'babel/alice/availability' },
    ]);
  }
});

test('the doorbell: an event entity and a device trigger on babel/<user>/doorbell', (t) => {
  const msgs = userDiscovery(opts, 'door', null);
  t.like(byTopic(msgs, 'homeassistant/event/babel_door/doorbell/config'), {
    state_topic: 'babel/door/doorbell',
    event_types: ['ring'],
    device_class: 'doorbell',
  });
  t.like(byTopic(msgs, 'homeassistant/device_automation/babel_door/ring/config'), {
    automation_type: 'trigger',
    topic: 'babel/door/doorbell',
    payload: 'ring',
    value_template: '{{ value_json.event_type }}',
  });
});

test('call statistics: diagnostic sensors, one per stats field, each template on a real field', (t) => {
  const msgs = published(userDiscovery(opts, 'alice', null)).filter(
    (m) => m.payload!.state_topic === 'babel/alice/stats',
  );
  const fields = msgs.map((m) => /value_json\.(\w+)/.exec(String(m.payload!.value_template))?.[1]);
  t.deepEqual(fields.sort(), Object.keys(stats).sort());
  for (const m of msgs) t.is(m.payload!.entity_category, 'diagnostic', m.topic);
});

test('every value template reads a field the documented payload carries', (t) => {
  const s = samples('alice');
  for (const m of published(userDiscovery(opts, 'alice', { door: true, volume: 80 }))) {
    const c = m.payload!;
    const tpl = c.value_template as string | undefined;
    if (!tpl) continue;
    const field = /^\{\{ value_json\.(\w+) \}\}$/.exec(tpl)?.[1];
    const source = (c.state_topic ?? c.topic) as string;
    t.truthy(field, m.topic);
    t.true(field! in (s[source] ?? {}), `${m.topic}: ${field} in ${source}`);
  }
});

test('Open door: only for a device that announced a relay; removed when it no longer does', (t) => {
  const door = 'homeassistant/button/babel_gate/door/config';
  for (const device of [null, { door: false }]) {
    const msg = userDiscovery(opts, 'gate', device).find((m) => m.topic === door);
    t.is(msg?.payload, null);
  }
  const c = byTopic(userDiscovery(opts, 'gate', { door: true }), door)!;
  t.like(c, { name: 'Open door', command_topic: 'babel/gate/set' });
  t.deepEqual(JSON.parse(c.payload_press as string), { action: 'door' });
});

test('Speaker volume: a 0-100 number for a device that announced its volume', (t) => {
  const topic = 'homeassistant/number/babel_gate/volume/config';
  for (const device of [null, { door: true }]) {
    t.is(byTopic(userDiscovery(opts, 'gate', device), topic), null);
  }
  const c = byTopic(userDiscovery(opts, 'gate', { door: false, volume: 30 }), topic)!;
  t.like(c, {
    name: 'Speaker volume',
    command_topic: 'babel/gate/set',
    state_topic: 'babel/gate/device',
    min: 0,
    max: 100,
    step: 1,
  });
  // HA renders the template with the slider's value; 42 gives the device's command.
  const rendered = String(c.command_template).replace('{{ value | int }}', '42');
  t.deepEqual(JSON.parse(rendered), { action: 'volume', value: 42 });
});

test('the hub: a connectivity sensor on babel/bridge/state, readable while the hub is offline', (t) => {
  const [m] = bridgeDiscovery(opts);
  t.is(m!.topic, 'homeassistant/binary_sensor/babel-hub/connection/config');
  t.like(m!.payload, {
    state_topic: 'babel/bridge/state',
    payload_on: 'online',
    payload_off: 'offline',
    device_class: 'connectivity',
  });
  t.false('availability' in m!.payload! || 'availability_topic' in m!.payload!);
});

test('a user named calls gets no state sensor (its topic would be babel/calls)', (t) => {
  const msgs = userDiscovery(opts, 'calls', null);
  t.false(msgs.some((m) => m.topic.endsWith('/state/config')));
  t.false(published(msgs).some((m) => m.payload!.state_topic === 'babel/calls'));
});

test('a custom discovery prefix and base topic', (t) => {
  const msgs = userDiscovery({ topics: topicsFor('home/babel'), prefix: 'ha' }, 'alice', null);
  t.true(msgs.every((m) => m.topic.startsWith('ha/')));
  t.is(byTopic(msgs, 'ha/sensor/babel_alice/state/config')?.state_topic, 'home/babel/alice');
});
