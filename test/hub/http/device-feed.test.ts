/**
 * The device feed's payload parsers as tables (what devices publish on `<base>/<name>/stats`
 * and `<base>/<name>/door` [S-10]), random bytes that never throw, and the feed's topic
 * routing through a fake MQTT client: known stations only, anything else dropped.
 */
import { EventEmitter } from 'node:events';
import test from 'ava';
import type { MqttClient } from 'mqtt';
import { DeviceFeed, parseDeviceStats, parseDoorEvent } from '../../../hub/metrics/device-feed.ts';
import { testLog } from '../../helpers/log.ts';

const STATS = {
  packets: 250,
  loss_pct: 1.5,
  late: 2,
  concealed: 4,
  jitter_ms: 3.25,
  buffer_ms: 60,
  bitrate_kbps: 24,
};

test('stats: the documented fields, with the wave-2 ones optional', (t) => {
  t.deepEqual(parseDeviceStats(JSON.stringify(STATS)), STATS);
  const secure = { ...STATS, srtp: true, srtp_auth_failed: 1, srtp_replayed: 0 };
  t.deepEqual(parseDeviceStats(Buffer.from(JSON.stringify(secure))), secure);
  // unknown fields are not carried on
  t.deepEqual(parseDeviceStats(JSON.stringify({ ...STATS, extra: 'x' })), STATS);
});

const BAD_STATS: Array<[string, string]> = [
  ['not JSON', 'packets=1'],
  ['null', 'null'],
  ['a number', '5'],
  ['a field missing', JSON.stringify({ ...STATS, jitter_ms: undefined })],
  ['a string number', JSON.stringify({ ...STATS, packets: '250' })],
  ['negative', JSON.stringify({ ...STATS, loss_pct: -1 })],
  ['not finite', JSON.stringify(STATS).replace('"late":2', '"late":1e400')],
];
for (const [name, payload] of BAD_STATS) {
  test(`stats refused: ${name}`, (t) => t.is(parseDeviceStats(payload), null));
}

test('door events: result and source from the documented sets, texts capped', (t) => {
  t.deepEqual(parseDoorEvent('{"result":"opened","by":"dtmf","from":"kitchen","reason":null}'), {
    result: 'opened',
    by: 'dtmf',
    from: 'kitchen',
    reason: null,
  });
  t.deepEqual(
    parseDoorEvent(JSON.stringify({ result: 'failed', by: 'button', reason: 'x'.repeat(500) })),
    {
      result: 'failed',
      by: 'button',
      from: null,
      reason: 'x'.repeat(200),
    },
  );
  for (const bad of [
    '{}',
    '{"result":"opened"}',
    '{"result":"blown","by":"dtmf"}',
    '{"result":"opened","by":"magic"}',
    '[]',
    '',
  ]) {
    t.is(parseDoorEvent(bad), null, bad);
  }
});

test('random payloads never throw', (t) => {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(Array.from({ length: rnd() % 64 }, () => rnd() & 0xff));
    t.notThrows(() => {
      parseDeviceStats(b);
      parseDoorEvent(b);
    });
  }
});

class FakeMqtt extends EventEmitter {
  subscribed: string[] = [];
  subscribe(topics: string[], _o: unknown, cb: (err: Error | null) => void) {
    this.subscribed.push(...topics);
    cb(null);
  }
  end(_f: boolean, _o: unknown, cb: () => void) {
    cb();
  }
}

test("the feed hands known stations' payloads on and drops the rest", async (t) => {
  const fake = new FakeMqtt();
  const got: string[] = [];
  const feed = new DeviceFeed({
    url: 'mqtt://broker',
    baseTopic: 'home/babel',
    sinks: [
      {
        deviceStats: (s, st) => got.push(`stats ${s} ${st.packets}`),
        doorEvent: (s, e) => got.push(`door ${s} ${e.result}`),
      },
    ],
    isStation: (n) => n === 'door',
    log: testLog,
    connectFn: () => fake as unknown as MqttClient,
  });
  feed.start();
  t.false(feed.connected);
  fake.emit('connect');
  t.true(feed.connected);
  t.deepEqual(fake.subscribed, ['home/babel/+/stats', 'home/babel/+/door']);
  const msg = (topic: string, payload: string) => fake.emit('message', topic, Buffer.from(payload));
  msg('home/babel/door/stats', JSON.stringify(STATS));
  msg('home/babel/door/door', '{"result":"refused","by":"mqtt"}');
  msg('home/babel/stranger/stats', JSON.stringify(STATS));
  msg('home/babel/door/stats', 'garbage');
  msg('home/babel/door/state', JSON.stringify(STATS));
  msg('other/door/stats', JSON.stringify(STATS));
  t.deepEqual(got, ['stats door 250', 'door door refused']);
  t.is(feed.invalid, 1);
  fake.emit('close');
  t.false(feed.connected);
  await feed.stop();
});
