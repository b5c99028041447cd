/**
 * [G-1, G-2] A group's members on MQTT (and so its Home Assistant sensor's attributes)
 * follow a user's deletion at once, on a real mosquitto: `babel-hub user remove` on a
 * running hub (through its control socket) and a binary client's `/delete` of itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { runAdmin } from '../../../hub/admin.ts';
import { controlRequest } from '../../../hub/control/client.ts';
import { Hub } from '../../../hub/main.ts';
import { groupDiscovery, groupState } from '../../../hub/mqtt/group-feed.ts';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { createdUser } from '../../helpers/binary-client.ts';
import { SEED_ENV, tempDir, testConfig } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';

const HUB = 'abcd1234';
const topics = topicsFor('babel');

async function setup(): Promise<string> {
  const dataDir = tempDir();
  fs.writeFileSync(path.join(dataDir, 'hub-id'), `${HUB}\n`);
  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  for (const name of ['alice', 'bob', 'carol']) await store.createUser({ name });
  store.groups.add('house', ['alice', 'bob', 'carol']);
  store.groups.add('hall', ['bob']);
  store.close();
  return dataDir;
}

test('deleting a user republishes the groups it was in, on a running hub', async (t) => {
  const mosquitto = await Mosquitto.start();
  t.teardown(() => mosquitto.dispose());
  const dataDir = await setup();
  const watch = await MqttWatch.connect(mosquitto.url, ['#']);
  t.teardown(() => watch.close());
  const hub = await Hub.start(testConfig(['--mqtt', mosquitto.url], dataDir, SEED_ENV), {
    log: testLog,
  });
  t.teardown(() => hub.stop());
  const config = groupDiscovery({ topics, hubId: HUB }, 'house').topic;
  await watch.waitFor((m) => m.topic === config && m.payload !== '', 'the config of house');
  await watch.waitTopic(topics.group('house'), groupState('idle', ['alice', 'bob', 'carol']));
  await watch.waitTopic(topics.group('hall'), groupState('idle', ['bob']));

  // `babel-hub user remove bob`, as typed beside the running hub.
  let out = '';
  let err = '';
  const code = await runAdmin(
    ['remove', 'bob', '--data-dir', dataDir],
    {},
    { out: (s) => (out += s), err: (s) => (err += s) },
  );
  t.deepEqual([code, out, err], [0, 'removed bob\n', '']);
  await watch.waitTopic(topics.group('house'), groupState('idle', ['alice', 'carol']));
  await watch.waitTopic(topics.group('hall'), groupState('idle', []));

  // A binary client deleting its own account.
  const dave = await createdUser(hub.binaryPort, 'dave@example.org');
  t.teardown(() => dave.client.close());
  const added = await controlRequest(dataDir, {
    cmd: 'group',
    op: 'add',
    name: 'house',
    members: [dave.name],
  });
  t.is(added.ok, true);
  await watch.waitTopic(topics.group('house'), groupState('idle', ['alice', 'carol', dave.name]));
  const del = await dave.client.request('/delete', { id: dave.id, token: dave.token });
  t.is(del.status, 200);
  await watch.waitTopic(topics.group('house'), groupState('idle', ['alice', 'carol']));

  // What a new subscriber (Home Assistant after a restart) gets is the same.
  const late = await MqttWatch.connect(mosquitto.url, [topics.group('+')]);
  t.teardown(() => late.close());
  await late.waitTopic(topics.group('house'), groupState('idle', ['alice', 'carol']));
  await late.waitTopic(topics.group('hall'), groupState('idle', []));
});

test('babel-hub user remove without a running hub still works on the database', async (t) => {
  const dataDir = await setup();
  let out = '';
  const code = await runAdmin(
    ['remove', 'bob', '--data-dir', dataDir],
    {},
    { out: (s) => (out += s), err: () => {} },
  );
  t.deepEqual([code, out], [0, 'removed bob\n']);
  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  t.teardown(() => store.close());
  t.is(store.getByName('bob'), undefined);
  t.deepEqual(store.groups.get('hall')?.members, []);
});
