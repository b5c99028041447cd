/**
 * [G-1, G-2] Groups in Home Assistant, on a real mosquitto: each group is a sensor on the
 * hub's device with its members as attributes, its state follows calls placed to it, it
 * changes when the control socket changes the group, disappears when the group is
 * deleted, and a group deleted while the hub was down is cleared at the next start.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { controlRequest } from '../../../hub/control/client.ts';
import { Hub } from '../../../hub/main.ts';
import { groupDiscovery, groupState } from '../../../hub/mqtt/group-feed.ts';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { SEED_ENV, tempDir, testConfig } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';
import { connectedClient } from '../../helpers/text-client.ts';
import { haProblems } from './fixtures/ha-schema.ts';

const HUB = 'abcd1234';
const topics = topicsFor('babel');
const opts = { topics, hubId: HUB };
const configOf = (group: string) => groupDiscovery(opts, group).topic;

async function setup(groups: Record<string, string[]>): Promise<string> {
  const dataDir = tempDir();
  fs.writeFileSync(path.join(dataDir, 'hub-id'), `${HUB}\n`);
  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  for (const name of ['alice', 'bob', 'carol']) await store.createUser({ name });
  for (const [g, members] of Object.entries(groups)) store.groups.add(g, members);
  store.close();
  return dataDir;
}

function start(dataDir: string, url: string, env: NodeJS.ProcessEnv = SEED_ENV): Promise<Hub> {
  return Hub.start(testConfig(['--mqtt', url], dataDir, env), { log: testLog });
}

test('groupDiscovery: a sensor on the hub device, unique id with the hub id, `.` escaped', (t) => {
  const m = groupDiscovery({ ...opts, prefix: 'ha' }, 'floor.1');
  t.is(m.topic, `ha/sensor/babel-hub_${HUB}/group_floor_2E1/config`);
  t.like(m.payload, {
    name: 'Group floor.1',
    unique_id: `babel-hub_${HUB}_group_floor_2E1`,
    state_topic: 'babel/bridge/group/floor.1',
    json_attributes_topic: 'babel/bridge/group/floor.1',
    options: ['idle', 'ringing', 'in_call', 'paging'],
    availability_topic: 'babel/bridge/state',
    device: { identifiers: [`babel-hub_${HUB}`] },
  });
  for (const name of ['house', 'floor.1', 'flat-3_b']) {
    const msg = groupDiscovery({ ...opts, swVersion: '0.1.0' }, name);
    t.deepEqual(haProblems(msg), [], msg.topic);
  }
  t.is(groupState('paging', ['a', 'b']), '{"state":"paging","members":["a","b"]}');
});

test('a group appears with its members, follows its calls, changes with a member, and disappears when deleted', async (t) => {
  const mosquitto = await Mosquitto.start();
  t.teardown(() => mosquitto.dispose());
  const dataDir = await setup({ house: ['bob'] });
  const watch = await MqttWatch.connect(mosquitto.url, ['#']);
  t.teardown(() => watch.close());
  const hub = await start(dataDir, mosquitto.url);
  t.teardown(() => hub.stop());

  const config = await watch.waitFor(
    (m) => m.topic === configOf('house') && m.payload !== '',
    'the config of house',
  );
  t.like(JSON.parse(config.payload), {
    unique_id: `babel-hub_${HUB}_group_house`,
    device: { identifiers: [`babel-hub_${HUB}`] },
  });
  await watch.waitTopic(topics.group('house'), groupState('idle', ['bob']));

  // Added through the control socket, as `babel-hub group add` does on a running hub.
  const added = await controlRequest(dataDir, {
    cmd: 'group',
    op: 'add',
    name: 'house',
    members: ['carol'],
  });
  t.is(added.ok, true);
  await watch.waitTopic(topics.group('house'), groupState('idle', ['bob', 'carol']));

  // A call to the group: ringing, then in_call once a member answers, then idle.
  const alice = await connectedClient(hub.textPort, 'alice', 5004);
  const bob = await connectedClient(hub.textPort, 'bob', 5006);
  t.teardown(() => {
    alice.close();
    bob.close();
  });
  t.is(await alice.request('CALL house'), '104 house');
  await watch.waitJson(topics.group('house'), { state: 'ringing' });
  t.is(await bob.next(), '105 alice');
  t.regex((await bob.request('ACCEPT alice')) ?? '', /^106 alice /);
  await watch.waitJson(topics.group('house'), { state: 'in_call' });
  t.regex((await alice.next()) ?? '', /^106 bob /);
  const mark = watch.seen.length;
  t.is(await alice.request('HANGUP bob'), '107 bob ended');
  await watch.waitJson(topics.group('house'), { state: 'idle' }, undefined, mark);

  const removed = await controlRequest(dataDir, { cmd: 'group', op: 'remove', name: 'house' });
  t.is(removed.ok, true);
  await watch.waitTopic(configOf('house'), '');
  await watch.waitTopic(topics.group('house'), '');

  // A new subscriber sees nothing of it.
  const late = await MqttWatch.connect(mosquitto.url, ['#']);
  t.teardown(() => late.close());
  await late.client.publishAsync('zz/marker', 'x', { qos: 1 });
  await late.waitTopic('zz/marker');
  t.deepEqual(
    late.seen.filter((m) => m.retain && m.topic.includes('house')).map((m) => m.topic),
    [],
  );
});

test('a group deleted while the hub was down is cleared at start; the others stay', async (t) => {
  const mosquitto = await Mosquitto.start();
  t.teardown(() => mosquitto.dispose());
  const dataDir = await setup({ gone: ['alice'], kept: ['bob', 'carol'] });
  const first = await start(dataDir, mosquitto.url);
  const w = await MqttWatch.connect(mosquitto.url, ['#']);
  await w.waitFor((m) => m.topic === configOf('gone') && m.payload !== '', 'gone published');
  await w.waitTopic(topics.group('gone'), groupState('idle', ['alice']));
  await w.close();
  await first.stop();

  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  t.is(store.groups.remove('gone'), null);
  store.close();

  const watch = await MqttWatch.connect(mosquitto.url, ['#']);
  t.teardown(() => watch.close());
  const second = await start(dataDir, mosquitto.url);
  t.teardown(() => second.stop());
  await watch.waitTopic(configOf('gone'), '');
  await watch.waitTopic(topics.group('gone'), '');
  const late = await MqttWatch.connect(mosquitto.url, ['#']);
  t.teardown(() => late.close());
  await late.client.publishAsync('zz/marker', 'x', { qos: 1 });
  await late.waitTopic('zz/marker');
  const retained = new Map(late.seen.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
  t.false(retained.has(configOf('gone')));
  t.false(retained.has(topics.group('gone')));
  t.true(retained.has(configOf('kept')));
  t.deepEqual(JSON.parse(retained.get(topics.group('kept')) ?? '{}'), {
    state: 'idle',
    members: ['bob', 'carol'],
  });
});

test('homeassistant.enabled false: no group entity, the group state topic as ever', async (t) => {
  const mosquitto = await Mosquitto.start();
  t.teardown(() => mosquitto.dispose());
  const dataDir = await setup({ house: ['bob'] });
  const watch = await MqttWatch.connect(mosquitto.url, ['#']);
  t.teardown(() => watch.close());
  const hub = await start(dataDir, mosquitto.url, {
    ...SEED_ENV,
    BABEL_HUB_HOMEASSISTANT__ENABLED: 'false',
  });
  t.teardown(() => hub.stop());
  await watch.waitTopic(topics.group('house'), groupState('idle', ['bob']));
  await watch.client.publishAsync('zz/marker', 'x', { qos: 1 });
  await watch.waitTopic('zz/marker');
  t.deepEqual(
    watch.seen.filter((m) => m.topic.startsWith('homeassistant/')).map((m) => m.topic),
    [],
  );
});
