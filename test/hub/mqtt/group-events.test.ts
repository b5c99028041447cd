/**
 * [G-1, G-3] What MQTT sees of section G, against a real mosquitto: call events that name
 * the group, and the retained counters on `babel/bridge/stats` (relay fallbacks too).
 */
import path from 'node:path';
import test from 'ava';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { startHub, tempDir } from '../../helpers/hub.ts';
import { Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';
import { connectedClient } from '../../helpers/text-client.ts';

const topics = topicsFor('babel');

test('a group call is published with its group; relay fallbacks are counted on bridge/stats', async (t) => {
  const dataDir = tempDir();
  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  for (const name of ['alice', 'bob', 'carol']) await store.createUser({ name });
  store.groups.add('house', ['bob', 'carol']);
  store.close();
  const mosquitto = await Mosquitto.start();
  t.teardown(() => mosquitto.dispose());
  const { hub, stop } = await startHub(['--mqtt', mosquitto.url], {}, dataDir);
  t.teardown(stop);
  const watch = await MqttWatch.connect(mosquitto.url, ['babel/#']);
  t.teardown(() => watch.close());
  await watch.waitJson(topics.bridgeStats, { group_calls: 0, pages: 0, relay_fallbacks: 0 });

  const alice = await connectedClient(hub.textPort, 'alice', 5004);
  const bob = await connectedClient(hub.textPort, 'bob', 5006);
  const carol = await connectedClient(hub.textPort, 'carol', 5008);
  t.teardown(() => {
    for (const c of [alice, bob, carol]) c.close();
  });
  t.is(await alice.request('CALL house'), '104 house');
  t.is(await bob.next(), '105 alice');
  t.is(await carol.next(), '105 alice');
  await watch.waitJson(topics.calls, {
    event: 'ringing',
    caller: 'alice',
    callee: 'house',
    group: 'house',
  });
  await watch.waitJson(topics.user('alice'), { state: 'calling', peer: 'house' });
  t.is(await carol.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
  await watch.waitJson(topics.calls, { event: 'started', callee: 'carol', group: 'house' });
  t.regex((await alice.next()) ?? '', /^106 carol /);
  t.regex((await alice.request('RELAY carol')) ?? '', /^106 carol 127\.0\.0\.1 \d+$/);
  await watch.waitJson(topics.bridgeStats, { group_calls: 1, pages: 0, relay_fallbacks: 1 });
  t.is(await alice.request('HANGUP carol'), '107 carol ended');
  await watch.waitJson(topics.calls, {
    event: 'ended',
    callee: 'carol',
    group: 'house',
    reason: 'ended',
  });
});
