/** [S-6] The bridge shows the pairing window on retained `babel/bridge/pairing`. */
import test from 'ava';
import type { UserState } from '../../../hub/core/types.ts';
import { type BridgeSource, MqttBridge } from '../../../hub/mqtt/bridge.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { testLog } from '../../helpers/log.ts';
import { Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';

const topics = topicsFor('babel');

const source: BridgeSource = {
  observe: () => {},
  stateOf: (): UserState => 'offline',
  peerOf: () => null,
};

test('closed on connect, then what the hub says, retained for a late subscriber', async (t) => {
  t.is(topics.pairing, 'babel/bridge/pairing');
  const mosquitto = await Mosquitto.start();
  const bridge = new MqttBridge({
    url: mosquitto.url,
    baseTopic: 'babel',
    source,
    users: () => [],
    log: testLog,
  });
  const w = await MqttWatch.connect(mosquitto.url, [topics.pairing]);
  try {
    bridge.start();
    const first = await w.waitTopic(topics.pairing);
    t.is(first.payload, 'closed');
    bridge.pairing('open');
    await w.waitTopic(topics.pairing, 'open');
    const late = await MqttWatch.connect(mosquitto.url, [topics.pairing]);
    const m = await late.waitTopic(topics.pairing);
    await late.close();
    t.deepEqual([m.payload, m.retain], ['open', true]);
    const from = w.seen.length;
    bridge.pairing('closed');
    await w.waitTopic(topics.pairing, 'closed', undefined, from);
  } finally {
    await bridge.stop();
    await w.close();
    await mosquitto.dispose();
  }
});

test('told before it connects: the latest state goes out on connect, once', async (t) => {
  const mosquitto = await Mosquitto.start();
  const bridge = new MqttBridge({
    url: mosquitto.url,
    baseTopic: 'babel',
    source,
    users: () => [],
    log: testLog,
  });
  const w = await MqttWatch.connect(mosquitto.url, [topics.pairing, topics.bridgeState]);
  try {
    bridge.pairing('open');
    bridge.start();
    await w.waitTopic(topics.bridgeState, 'online');
    const m = await w.waitTopic(topics.pairing);
    t.is(m.payload, 'open');
    t.is(w.on(topics.pairing).length, 1);
  } finally {
    await bridge.stop();
    await w.close();
    await mosquitto.dispose();
  }
});
