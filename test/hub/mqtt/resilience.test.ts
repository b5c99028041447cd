/**
 * MQTT never stands in the way of calls: a broker restart in the middle of a call, brokers
 * that are absent, refuse or never answer, an embedded broker whose port is taken; and the
 * bounded queue of events kept while the broker is away.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import type { CallEvent, CallInfo, PresenceEvent, UserState } from '../../../hub/core/types.ts';
import { Hub } from '../../../hub/main.ts';
import { type BridgeSource, MqttBridge } from '../../../hub/mqtt/bridge.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { Backoff } from '../../../shared/backoff.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { startHub, tempDir, testConfig } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { freePort, Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';
import { connectedClient, type TextClient } from '../../helpers/text-client.ts';

const topics = topicsFor('babel');

/** Alice calls bob, bob accepts: both `106` lines arrive. */
async function inCall(
  alice: TextClient,
  bob: TextClient,
  t: { is: (a: unknown, b: unknown) => void },
) {
  t.is(await alice.request('CALL bob'), '104 bob');
  t.is(await bob.next(), '105 alice');
  t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
  t.is(await alice.next(), '106 bob 127.0.0.1 5006');
}

test('mosquitto restarts in the middle of a call: the call goes on, the bridge re-publishes', async (t) => {
  const mosquitto = await Mosquitto.start();
  const dataDir = tempDir();
  fs.writeFileSync(path.join(dataDir, 'hub-id'), '0123abcd\n');
  const { hub, stop } = await startHub(['--mqtt', mosquitto.url], {}, dataDir);
  try {
    const before = await MqttWatch.connect(mosquitto.url, ['babel/#']);
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 5006);
    await inCall(alice, bob, t);
    await before.waitJson(topics.user('alice'), { state: 'in_call', peer: 'bob' });
    await before.close();

    await mosquitto.stop();
    // Presence changes while the broker is away are kept and published on reconnect.
    const carol = await connectedClient(hub.textPort, 'carol');
    t.is(await carol.request('CALL alice'), '404 alice busy');
    await mosquitto.restart();

    // The new mosquitto has no retained messages (no persistence): all of them are the bridge's.
    const after = await MqttWatch.connect(mosquitto.url, ['babel/#', 'homeassistant/#']);
    try {
      await after.waitTopic(topics.bridgeState, 'online', 15_000);
      await after.waitJson(topics.user('alice'), { state: 'in_call', peer: 'bob' });
      await after.waitJson(topics.user('bob'), { state: 'in_call', peer: 'alice' });
      await after.waitTopic(topics.availability('carol'), 'online');
      await after.waitTopic('homeassistant/sensor/babel_0123abcd_carol/state/config');
      await after.waitTopic('homeassistant/binary_sensor/babel-hub_0123abcd/connection/config');

      const from = after.seen.length;
      t.is(await alice.request('HANGUP bob'), '107 bob ended');
      t.is(await bob.next(), '107 alice ended');
      await after.waitJson(topics.calls, { event: 'ended', reason: 'ended' }, undefined, from);
      await after.waitJson(topics.user('alice'), { state: 'idle' }, undefined, from);
    } finally {
      await after.close();
      for (const c of [alice, bob, carol]) c.close();
    }
  } finally {
    await stop();
    await mosquitto.dispose();
  }
});

/** A TCP server that accepts and never says a word: a CONNECT that is never answered. */
async function blackHole(): Promise<{ url: string; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const refusing: Array<[string, () => Promise<{ url: string; close(): Promise<void> | void }>]> = [
  [
    'nothing listening on the port',
    async () => ({ url: `mqtt://127.0.0.1:${await freePort()}`, close() {} }),
  ],
  [
    'mosquitto refusing anonymous clients',
    async () => {
      const m = await Mosquitto.start({ anonymous: false });
      return { url: m.url, close: () => m.dispose() };
    },
  ],
  ['a server that never answers CONNECT', blackHole],
  [
    'wrong credentials for mosquitto',
    async () => {
      const m = await Mosquitto.start({ anonymous: false });
      return { url: m.url.replace('//', '//babel:wrong@'), close: () => m.dispose() };
    },
  ],
];

for (const [name, broker] of refusing) {
  test(`a broker that fails (${name}) never blocks CALL, and the hub still stops`, async (t) => {
    const b = await broker();
    const { hub, stop } = await startHub(['--mqtt', b.url]);
    try {
      const alice = await connectedClient(hub.textPort, 'alice', 5004);
      const bob = await connectedClient(hub.textPort, 'bob', 5006);
      await inCall(alice, bob, t);
      t.is(await alice.request('HANGUP bob'), '107 bob ended');
      t.is(await bob.next(), '107 alice ended');
      alice.close();
      bob.close();
    } finally {
      await stop();
      await b.close();
    }
  });
}

test('the embedded broker port is taken: the hub logs it and runs without MQTT', async (t) => {
  const squatter = net.createServer().listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  const config = testConfig(['--mqtt', 'embedded']);
  config.mqtt.embedded_host = '127.0.0.1';
  config.mqtt.embedded_port = (squatter.address() as net.AddressInfo).port;
  const hub = await Hub.start(config, { log: testLog });
  try {
    t.is(hub.mqttPort, null);
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 5006);
    await inCall(alice, bob, t);
    alice.close();
    bob.close();
  } finally {
    await hub.stop();
    squatter.close();
  }
});

/** The core as the bridge sees it, driven by hand. */
class FakeSource implements BridgeSource {
  listener: { presence?: (e: PresenceEvent) => void; call?: (e: CallEvent) => void } = {};

  observe(l: typeof this.listener): void {
    this.listener = l;
  }

  stateOf(): UserState {
    return 'offline';
  }

  peerOf(): null {
    return null;
  }
}

/** Polls until `cond` holds; every wait bounded. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('while the broker is away: the last N events are kept, stale doorbells dropped, state re-sent', async (t) => {
  const port = await freePort();
  const clock = new FakeClock();
  const source = new FakeSource();
  const door = { id: 'u1', name: 'door' };
  const flat = { id: 'u2', name: 'flat' };
  const bridge = new MqttBridge({
    url: `mqtt://127.0.0.1:${port}`,
    baseTopic: 'babel',
    source,
    users: () => [door, flat],
    log: testLog,
    clock,
    backoff: new Backoff({ minMs: 100, maxMs: 100, jitter: 0 }),
    maxQueuedEvents: 4,
    doorbellTtlMs: 1000,
  });
  let mosquitto: Mosquitto | null = null;
  try {
    bridge.start();
    // The first attempt fails (nothing listens): a retry is armed on the fake clock.
    await until(() => clock.pending === 1, 'retry armed');
    t.false(bridge.connected);

    const call = (n: number): CallInfo => ({
      id: `call-${n}`,
      caller: door,
      callee: flat,
      relayed: false,
    });
    const ev = (event: CallEvent['event'], n: number): CallEvent => ({
      event,
      call: call(n),
      reason: event === 'ended' ? 'ended' : null,
      durationMs: 0,
    });
    source.listener.call?.(ev('ended', 1));
    source.listener.call?.(ev('ended', 2));
    source.listener.call?.(ev('ringing', 3)); // + doorbell 3
    clock.advance(2000); // doorbell 3 goes stale; the retry fires and fails again
    await until(() => clock.pending === 1, 'retry re-armed');
    source.listener.call?.(ev('ringing', 4)); // + doorbell 4: ended 1 and 2 fall out
    source.listener.presence?.({
      user: door,
      state: 'calling',
      peer: 'flat',
      since: Date.UTC(2026, 0, 1),
    });
    t.is(bridge.droppedEvents, 2);

    mosquitto = await Mosquitto.start({ port });
    const w = await MqttWatch.connect(mosquitto.url, ['babel/#']);
    try {
      clock.advance(100); // the retry
      await w.waitTopic(topics.bridgeState, 'online');
      await w.waitTopic(topics.doorbell('door'));
      await w.waitJson(topics.user('door'), {
        state: 'calling',
        peer: 'flat',
        since: '2026-01-01T00:00:00.000Z',
      });
      await w.waitTopic(topics.availability('flat'), 'offline');
      await w.client.publishAsync('babel/zz-marker', 'x');
      await w.waitTopic('babel/zz-marker');
      t.deepEqual(
        w.on(topics.calls).map((m) => JSON.parse(m.payload).call_id),
        ['call-3', 'call-4'],
      );
      t.deepEqual(
        w.on(topics.doorbell('door')).map((m) => JSON.parse(m.payload).call_id),
        ['call-4'],
      );
      t.true(bridge.connected);
    } finally {
      await w.close();
    }
  } finally {
    await bridge.stop();
    await mosquitto?.dispose();
  }
});
