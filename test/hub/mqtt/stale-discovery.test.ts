/**
 * Retained topics on a real mosquitto across hub restarts (issue 14): a user deleted
 * while the hub was down loses its Home Assistant entities and state topics at the next
 * start; entities of an earlier version (ids without the hub id) are replaced; a second
 * hub on the same broker keeps everything of its own; discovery can be turned off and
 * moved to another prefix.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Hub } from '../../../hub/main.ts';
import { userDiscovery } from '../../../hub/mqtt/discovery.ts';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { SEED_ENV, tempDir, testConfig } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';

interface HubSetup {
  readonly dataDir: string;
  readonly base: string;
  readonly env?: NodeJS.ProcessEnv;
}

function setup(hubId: string, base: string, users: string[]): Promise<HubSetup> {
  const dataDir = tempDir();
  fs.writeFileSync(path.join(dataDir, 'hub-id'), `${hubId}\n`);
  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  return (async () => {
    for (const name of users) await store.createUser({ name });
    store.close();
    return { dataDir, base };
  })();
}

async function start(s: HubSetup, url: string): Promise<Hub> {
  const config = testConfig(
    ['--mqtt', url],
    s.dataDir,
    s.env ?? { ...SEED_ENV, BABEL_HUB_MQTT__BASE_TOPIC: s.base },
  );
  return Hub.start(config, { log: testLog });
}

/** Every retained topic with a payload, as a new subscriber sees them. */
async function retained(url: string, filters = ['#']): Promise<Map<string, string>> {
  const w = await MqttWatch.connect(url, filters);
  try {
    // A marker published after subscribing comes after every retained message.
    await w.client.publishAsync('zz/marker', 'x', { qos: 1 });
    await w.waitTopic('zz/marker');
    return new Map(w.seen.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
  } finally {
    await w.close();
  }
}

const startsWith = (map: Map<string, string>, prefix: string) =>
  [...map.keys()].filter((k) => k.startsWith(prefix));

test('a user deleted while the hub was down loses its entities and states at start; another hub keeps its own', async (t) => {
  const mosquitto = await Mosquitto.start();
  try {
    const a = await setup('aaaa0001', 'babel', ['alice', 'gone']);
    const b = await setup('bbbb0002', 'babel2', ['alice', 'gone']);
    const hubB = await start(b, mosquitto.url);
    try {
      // Hub A's first run publishes everything of alice and gone; gone's device announces.
      const first = await start(a, mosquitto.url);
      const w = await MqttWatch.connect(mosquitto.url, ['#']);
      await w.client.publishAsync('babel/gone/device', '{"door":true,"dnd":false}', {
        retain: true,
      });
      await w.waitFor(
        (m) => m.topic.includes('babel_aaaa0001_gone/dnd/config') && m.payload !== '',
        'the dnd switch of gone',
      );
      await w.close();
      await first.stop();
      const before = await retained(mosquitto.url);
      t.is(
        startsWith(before, 'homeassistant/switch/babel_aaaa0001_gone/').length,
        1,
        [...before.keys()].filter((k) => k.includes('gone')).join(' '),
      );
      t.true(before.has('babel/gone/availability'));

      // Deleted while hub A is down.
      const store = new AccountStore(openDatabase(path.join(a.dataDir, 'babel.sqlite')));
      t.true(store.deleteUser(store.getByName('gone')!.id));
      store.close();

      const watch = await MqttWatch.connect(mosquitto.url, ['#']);
      const second = await start(a, mosquitto.url);
      try {
        // Cleared: every discovery topic of gone under hub A, and its state topics.
        await watch.waitFor(
          (m) =>
            m.topic === 'homeassistant/switch/babel_aaaa0001_gone/dnd/config' && m.payload === '',
          'the dnd switch of gone cleared',
        );
        await watch.waitTopic('babel/gone/availability', '');
        await watch.waitTopic('babel/gone', '');
        await watch.waitTopic('babel/gone/device', '');
        const after = await retained(mosquitto.url);
        t.deepEqual(
          [...after.keys()].filter(
            (k) => k.includes('aaaa0001_gone') || k.startsWith('babel/gone'),
          ),
          [],
        );
        // Alice of hub A is all there.
        const missing = userDiscovery(
          { topics: topicsFor('babel'), hubId: 'aaaa0001' },
          'alice',
          null,
        )
          .filter((m) => m.payload && !after.has(m.topic))
          .map((m) => m.topic);
        t.deepEqual(
          missing,
          [],
          `before: ${[...before.keys()].filter((k) => k.includes('alice')).join(' ')}`,
        );
        // Hub B's gone, and its state topics, are untouched.
        const bGone = startsWith(after, 'homeassistant/binary_sensor/babel_bbbb0002_gone/');
        t.deepEqual(bGone, ['homeassistant/binary_sensor/babel_bbbb0002_gone/connected/config']);
        t.true(after.has('babel2/gone/availability'));
        t.true(startsWith(after, 'homeassistant/sensor/babel_bbbb0002_gone/').length > 5);
      } finally {
        await watch.close();
        await second.stop();
      }
    } finally {
      await hubB.stop();
    }
  } finally {
    await mosquitto.dispose();
  }
});

test('entities of an earlier version (no hub id) are replaced, those of deleted users with their states', async (t) => {
  const mosquitto = await Mosquitto.start();
  try {
    // What a hub before hub ids left on the broker: alice (still a user) and old (deleted).
    const legacy = { topics: topicsFor('babel'), swVersion: '0.1.0' };
    const w = await MqttWatch.connect(mosquitto.url, ['#']);
    const old: string[] = [];
    for (const name of ['alice', 'old']) {
      for (const m of userDiscovery(legacy, name, { door: true })) {
        if (!m.payload) continue;
        old.push(m.topic);
        await w.client.publishAsync(m.topic, JSON.stringify(m.payload), { retain: true });
      }
    }
    await w.client.publishAsync('babel/old/availability', 'offline', { retain: true });
    await w.client.publishAsync(
      'homeassistant/binary_sensor/babel-hub/connection/config',
      '{"name":"Connection state"}',
      { retain: true },
    );
    const s = await setup('cccc0003', 'babel', ['alice']);
    const hub = await start(s, mosquitto.url);
    try {
      await w.waitTopic('homeassistant/binary_sensor/babel-hub/connection/config', '');
      await w.waitTopic('babel/old/availability', '');
      for (const topic of old) await w.waitTopic(topic, '');
      const after = await retained(mosquitto.url);
      t.deepEqual(
        [...after.keys()].filter(
          (k) =>
            /babel_(alice|old)\//.test(k) || k.includes('babel-hub/') || k.startsWith('babel/old'),
        ),
        [],
      );
      t.true(after.has('homeassistant/sensor/babel_cccc0003_alice/state/config'));
      t.true(after.has('homeassistant/binary_sensor/babel-hub_cccc0003/connection/config'));
    } finally {
      await w.close();
      await hub.stop();
    }
  } finally {
    await mosquitto.dispose();
  }
});

test('homeassistant.enabled false: no discovery at all; the state topics as ever', async (t) => {
  const mosquitto = await Mosquitto.start();
  try {
    const s = await setup('dddd0004', 'babel', ['alice']);
    const hub = await start(
      { ...s, env: { ...SEED_ENV, BABEL_HUB_HOMEASSISTANT__ENABLED: 'false' } },
      mosquitto.url,
    );
    try {
      const w = await MqttWatch.connect(mosquitto.url, ['#']);
      await w.waitTopic('babel/alice/availability', 'offline');
      // Home Assistant coming online asks for nothing either.
      await w.client.publishAsync('homeassistant/status', 'online');
      await w.client.publishAsync('zz/marker', 'x', { qos: 1 });
      await w.waitTopic('zz/marker');
      t.deepEqual(
        w.seen.filter(
          (m) => m.topic.startsWith('homeassistant/') && m.topic !== 'homeassistant/status',
        ),
        [],
      );
      await w.close();
    } finally {
      await hub.stop();
    }
  } finally {
    await mosquitto.dispose();
  }
});

test('homeassistant.discovery_topic moves every config under that prefix', async (t) => {
  const mosquitto = await Mosquitto.start();
  try {
    const s = await setup('eeee0005', 'babel', ['alice']);
    const hub = await start(
      { ...s, env: { ...SEED_ENV, BABEL_HUB_HOMEASSISTANT__DISCOVERY_TOPIC: 'ha/disc' } },
      mosquitto.url,
    );
    try {
      const w = await MqttWatch.connect(mosquitto.url, ['#']);
      await w.waitTopic('ha/disc/sensor/babel_eeee0005_alice/state/config');
      await w.waitTopic('ha/disc/binary_sensor/babel-hub_eeee0005/connection/config');
      await w.client.publishAsync('zz/marker', 'x', { qos: 1 });
      await w.waitTopic('zz/marker');
      t.false(w.seen.some((m) => m.topic.startsWith('homeassistant/')));
      await w.close();
    } finally {
      await hub.stop();
    }
  } finally {
    await mosquitto.dispose();
  }
});
