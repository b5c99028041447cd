/**
 * Home Assistant discovery with a hub id (issue 14): the ids of two hubs never meet; the
 * call / accept / hang-up buttons and the do-not-disturb switch send commands the device
 * parses and Home Assistant's login may publish [S-9]; `sw_version` on every device.
 */
import test from 'ava';
import { parseCommand } from '../../../device/mqtt.ts';
import { canPublish, canSubscribe } from '../../../hub/mqtt/acl.ts';
import {
  bridgeDeviceId,
  bridgeDiscovery,
  type DiscoveryMessage,
  nodeId,
  userDiscovery,
} from '../../../hub/mqtt/discovery.ts';
import {
  type DeviceAnnouncement,
  parseDeviceAnnouncement,
  topicsFor,
} from '../../../protocol/mqtt/topics.ts';
import { haProblems } from './fixtures/ha-schema.ts';

const topics = topicsFor('babel');
const hubA = { topics, hubId: '0a1b2c3d', swVersion: '1.2.3' };
const hubB = { topics: topicsFor('babel2'), hubId: 'ffee0011', swVersion: '1.2.3' };
const FULL: DeviceAnnouncement = {
  door: true,
  volume: 40,
  dnd: false,
  target: 'flat-1',
  model: 'babel-device',
};

const published = (msgs: DiscoveryMessage[]) => msgs.filter((m) => m.payload !== null);
const byKey = (msgs: DiscoveryMessage[], component: string, key: string) =>
  msgs.find(
    (m) => m.topic.startsWith(`homeassistant/${component}/`) && m.topic.endsWith(`/${key}/config`),
  )?.payload ?? null;

test('every config HA accepts, with a hub id and every entity', (t) => {
  for (const name of ['alice', 'door.east', 'flat-3_b']) {
    for (const m of published([...bridgeDiscovery(hubA), ...userDiscovery(hubA, name, FULL)])) {
      t.deepEqual(haProblems(m), [], m.topic);
    }
  }
});

test('the hub id is in every node id, device identifier and unique id', (t) => {
  const msgs = published([...bridgeDiscovery(hubA), ...userDiscovery(hubA, 'alice', FULL)]);
  for (const m of msgs) {
    const c = m.payload!;
    t.true(m.topic.includes('0a1b2c3d'), m.topic);
    if (c.unique_id !== undefined) t.true(String(c.unique_id).includes('0a1b2c3d'), m.topic);
    const d = c.device as { identifiers: string[]; via_device?: string };
    t.true(
      d.identifiers.every((i) => i.includes('0a1b2c3d')),
      m.topic,
    );
    if (d.via_device !== undefined) t.is(d.via_device, bridgeDeviceId('0a1b2c3d'));
  }
  t.is(nodeId('alice', '0a1b2c3d'), 'babel_0a1b2c3d_alice');
  t.is(bridgeDeviceId('0a1b2c3d'), 'babel-hub_0a1b2c3d');
});

test('two hubs with the same user names share no topic, unique id or identifier', (t) => {
  const names = ['alice', 'bob', 'calls', 'a.b'];
  const all = (o: typeof hubA) =>
    published([...bridgeDiscovery(o), ...names.flatMap((n) => userDiscovery(o, n, FULL))]);
  const a = all(hubA);
  const b = all(hubB);
  const key = (m: DiscoveryMessage) => [
    m.topic,
    String(m.payload!.unique_id ?? ''),
    ...((m.payload!.device as { identifiers: string[] }).identifiers ?? []),
  ];
  const seenA = new Set(a.flatMap(key).filter((k) => k !== ''));
  for (const k of b.flatMap(key).filter((k) => k !== '')) t.false(seenA.has(k), k);
  // Within one hub, still unique.
  const uids = a.map((m) => m.payload!.unique_id).filter((u) => u !== undefined);
  t.is(new Set(uids).size, uids.length);
  t.is(new Set(a.map((m) => m.topic)).size, a.length);
});

test('sw_version: the hub version on the hub, the device version else the hub version on stations', (t) => {
  const bridge = bridgeDiscovery(hubA)[0]!.payload!;
  t.is((bridge.device as { sw_version: string }).sw_version, '1.2.3');
  t.deepEqual(bridge.origin, { name: 'babel-hub', sw_version: '1.2.3' });
  for (const [device, want] of [
    [null, '1.2.3'],
    [{ door: false, sw_version: '9.9.9' }, '9.9.9'],
  ] as const) {
    for (const m of published(userDiscovery(hubA, 'alice', device))) {
      t.is((m.payload!.device as { sw_version: string }).sw_version, want, m.topic);
    }
  }
});

test('call, accept, hang up: buttons whose presses the device parses into its commands', (t) => {
  const msgs = userDiscovery(hubA, 'gate', FULL);
  const cases = [
    ['call', 'Call flat-1', { action: 'call', target: 'flat-1' }],
    ['accept', 'Accept', { action: 'accept' }],
    ['hangup', 'Hang up', { action: 'hangup' }],
  ] as const;
  for (const [key, name, command] of cases) {
    const c = byKey(msgs, 'button', key)!;
    t.like(c, { name, command_topic: 'babel/gate/set' }, key);
    t.deepEqual(parseCommand(String(c.payload_press)), command, key);
  }
});

test('buttons only for a device that announced itself; Call only with a target', (t) => {
  const none = userDiscovery(hubA, 'gate', null);
  for (const key of ['call', 'accept', 'hangup']) t.is(byKey(none, 'button', key), null, key);
  const noTarget = userDiscovery(hubA, 'gate', { door: false });
  t.is(byKey(noTarget, 'button', 'call'), null);
  t.truthy(byKey(noTarget, 'button', 'accept'));
  t.truthy(byKey(noTarget, 'button', 'hangup'));
});

test('do not disturb: a switch whose payloads the device parses and whose state reads dnd', (t) => {
  t.is(byKey(userDiscovery(hubA, 'gate', { door: true }), 'switch', 'dnd'), null);
  const c = byKey(userDiscovery(hubA, 'gate', FULL), 'switch', 'dnd')!;
  t.like(c, {
    name: 'Do not disturb',
    command_topic: 'babel/gate/set',
    state_topic: 'babel/gate/device',
    value_template: '{{ value_json.dnd }}',
    // Jinja renders a JSON true as True.
    state_on: 'True',
    state_off: 'False',
  });
  t.deepEqual(parseCommand(String(c.payload_on)), { action: 'dnd', value: true });
  t.deepEqual(parseCommand(String(c.payload_off)), { action: 'dnd', value: false });
  // The state topic carries it: what the device announces parses back with dnd.
  t.is(parseDeviceAnnouncement('{"door":false,"dnd":true}')?.dnd, true);
});

test('[S-9] Home Assistant may publish every command topic, and the device reads it', (t) => {
  for (const m of published(userDiscovery(hubA, 'gate', FULL))) {
    const cmd = m.payload!.command_topic;
    if (cmd === undefined) continue;
    t.true(canPublish({ kind: 'admin' }, String(cmd), 'babel'), m.topic);
    t.true(canSubscribe({ kind: 'device', name: 'gate' }, String(cmd), 'babel'), m.topic);
    // ... and no other device could publish it in Home Assistant's place.
    t.false(canPublish({ kind: 'device', name: 'other' }, String(cmd), 'babel'), m.topic);
    t.false(canPublish({ kind: 'device', name: 'gate' }, String(cmd), 'babel'), m.topic);
  }
});

test('device announcements: dnd and target parsed, a bad target dropped', (t) => {
  t.deepEqual(parseDeviceAnnouncement('{"door":true,"dnd":false,"target":"Flat-1"}'), {
    door: true,
    dnd: false,
    target: 'flat-1',
  });
  t.deepEqual(parseDeviceAnnouncement('{"door":true,"dnd":"yes","target":"no/slash"}'), {
    door: true,
  });
});

test('parseCommand: dnd needs a boolean', (t) => {
  t.deepEqual(parseCommand('{"action":"dnd","value":true}'), { action: 'dnd', value: true });
  for (const bad of [
    '{"action":"dnd"}',
    '{"action":"dnd","value":"on"}',
    '{"action":"dnd","value":1}',
  ])
    t.is(parseCommand(bad), null, bad);
});
