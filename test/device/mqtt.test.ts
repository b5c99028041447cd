/**
 * The device's MQTT link without a broker: `parseCommand` (every shape a command can take
 * on `<base>/<name>/set`, and every way it can be wrong), `deviceStats` (the figures of
 * `<base>/<name>/stats` from a MediaStats), and `DeviceMqtt` on a fake MQTT.js client.
 */
import { EventEmitter } from 'node:events';
import test from 'ava';
import type mqtt from 'mqtt';
import type { MediaStats } from '../../device/media/pipeline.ts';
import { DeviceMqtt, deviceStats, parseCommand } from '../../device/mqtt.ts';
import type { DeviceCommand } from '../../protocol/mqtt/topics.ts';
import { packageVersion } from '../../shared/version.ts';
import { testLog } from '../helpers/log.ts';

const valid: Array<[string, DeviceCommand]> = [
  ['{"action":"call","target":"kitchen"}', { action: 'call', target: 'kitchen' }],
  ['{"action":"accept"}', { action: 'accept' }],
  ['{"action":"hangup"}', { action: 'hangup' }],
  ['{"action":"door"}', { action: 'door' }],
  // Whitespace, extra keys (dropped), key order.
  [' { "target" : "flat-2.b_1" , "action" : "call" } ', { action: 'call', target: 'flat-2.b_1' }],
  ['{"action":"door","target":"kitchen","x":[1]}', { action: 'door' }],
  ['{"action":"accept","target":"kitchen"}', { action: 'accept' }],
  // Names are lowercased as the hub does [T-4]; 32 characters is the longest.
  ['{"action":"call","target":"Kitchen"}', { action: 'call', target: 'kitchen' }],
  [`{"action":"call","target":"${'a'.repeat(32)}"}`, { action: 'call', target: 'a'.repeat(32) }],
  ['{"action":"call","target":"0"}', { action: 'call', target: '0' }],
  ['{"action":"volume","value":0}', { action: 'volume', value: 0 }],
  ['{"action":"volume","value":55}', { action: 'volume', value: 55 }],
  ['{"action":"volume","value":100}', { action: 'volume', value: 100 }],
  // [G-2] a page names a group as a call names a user.
  ['{"action":"page","target":"floors"}', { action: 'page', target: 'floors' }],
  ['{"action":"page","target":"Floors"}', { action: 'page', target: 'floors' }],
];

for (const [payload, want] of valid) {
  test(`parseCommand: ${payload.slice(0, 60)}`, (t) => {
    t.deepEqual(parseCommand(payload), want);
    t.deepEqual(parseCommand(Buffer.from(payload)), want, 'as a Buffer, as MQTT.js gives it');
  });
}

const malformed: Array<[string, string]> = [
  ['empty (a cleared retained message)', ''],
  ['not JSON', 'not json'],
  ['truncated JSON', '{"action":"door"'],
  ['null', 'null'],
  ['a number', '42'],
  ['a string', '"door"'],
  ['an array', '[{"action":"door"}]'],
  ['an array with action', '[]'],
  ['no action', '{"target":"kitchen"}'],
  ['an unknown action', '{"action":"explode"}'],
  ['an action in capitals', '{"action":"DOOR"}'],
  ['an action that is not a string', '{"action":["door"]}'],
  ['an inherited name', '{"action":"toString"}'],
  ['call without target', '{"action":"call"}'],
  ['call with a null target', '{"action":"call","target":null}'],
  ['call with a numeric target', '{"action":"call","target":7}'],
  ['volume without value', '{"action":"volume"}'],
  ['volume above 100', '{"action":"volume","value":101}'],
  ['volume below 0', '{"action":"volume","value":-1}'],
  ['volume not whole', '{"action":"volume","value":50.5}'],
  ['volume as a string', '{"action":"volume","value":"50"}'],
  ['call with an empty target', '{"action":"call","target":""}'],
  ['call with a space', '{"action":"call","target":"the kitchen"}'],
  ['call with a slash', '{"action":"call","target":"kitchen/set"}'],
  ['call with a wildcard', '{"action":"call","target":"+"}'],
  ['call with a line break', '{"action":"call","target":"kitchen\\nHANGUP x"}'],
  ['call with a leading dot', '{"action":"call","target":".kitchen"}'],
  ['call with a leading dash', '{"action":"call","target":"-kitchen"}'],
  ['call with 33 characters', `{"action":"call","target":"${'a'.repeat(33)}"}`],
  ['page without target', '{"action":"page"}'],
  ['page with a slash', '{"action":"page","target":"floors/set"}'],
  ['page with a line break', '{"action":"page","target":"floors\\nPAGE x"}'],
  ['call with a Kelvin sign', '{"action":"call","target":"\u212Aitchen"}'],
  ['call with a dotless i', '{"action":"call","target":"k\u0131tchen"}'],
];

for (const [what, payload] of malformed) {
  test(`parseCommand refuses ${what}`, (t) => {
    t.is(parseCommand(payload), null);
    t.is(parseCommand(Buffer.from(payload)), null);
  });
}

test('parseCommand refuses a payload over 1024 bytes, valid JSON or not', (t) => {
  const pad = (n: number) => `{"action":"door","pad":"${'x'.repeat(n)}"}`;
  const at = pad(1024 - pad(0).length);
  t.is(Buffer.byteLength(at), 1024);
  t.deepEqual(parseCommand(at), { action: 'door' });
  t.is(parseCommand(pad(1025 - pad(0).length)), null);
  t.is(parseCommand(Buffer.from(pad(1_000_000))), null);
  // Bytes, not characters: 400 three-byte characters are 1200 bytes.
  const wide = `{"action":"door","pad":"${'\u20AC'.repeat(400)}"}`;
  t.true(wide.length < 1024);
  t.is(parseCommand(wide), null);
  t.is(parseCommand(Buffer.from(wide)), null);
});

test('parseCommand: invalid UTF-8 does no harm', (t) => {
  t.is(parseCommand(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])), null);
});

function media(over: Partial<MediaStats> = {}): MediaStats {
  return {
    packetsSent: 0,
    bytesSent: 0,
    received: 0,
    lost: 0,
    late: 0,
    concealed: 0,
    duplicates: 0,
    wrongSource: 0,
    invalid: 0,
    srtp: false,
    srtpAuthFailed: 0,
    srtpReplayed: 0,
    unknownPayload: 0,
    decodeErrors: 0,
    dtmfSent: 0,
    dtmfReceived: 0,
    jitterMs: 0,
    depthMs: 0,
    targetMs: 0,
    bitrate: 0,
    sendBitrate: 0,
    ...over,
  };
}

test('deviceStats: every DeviceStats field from a call in progress', (t) => {
  const s = deviceStats(
    media({
      packetsSent: 999,
      received: 250,
      lost: 0,
      late: 3,
      concealed: 7,
      jitterMs: 2.345,
      depthMs: 60,
      targetMs: 80,
      bitrate: 32_123,
      sendBitrate: 99_999,
    }),
  );
  t.deepEqual(s, {
    packets: 250,
    loss_pct: 0,
    late: 3,
    concealed: 7,
    jitter_ms: 2.3,
    buffer_ms: 60,
    bitrate_kbps: 32.1,
    srtp: false,
    srtp_auth_failed: 0,
    srtp_replayed: 0,
    relay_fallbacks: 0,
  });
  t.deepEqual(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
});

test('deviceStats: loss in percent of expected, one decimal', (t) => {
  t.is(deviceStats(media({ received: 90, lost: 10 })).loss_pct, 10);
  t.is(deviceStats(media({ received: 2, lost: 1 })).loss_pct, 33.3);
  t.is(deviceStats(media({ received: 999, lost: 1 })).loss_pct, 0.1);
  t.is(deviceStats(media({ received: 0, lost: 5 })).loss_pct, 100);
});

test('deviceStats: before the first packet, nothing is divided by zero', (t) => {
  t.deepEqual(deviceStats(media()), {
    packets: 0,
    loss_pct: 0,
    late: 0,
    concealed: 0,
    jitter_ms: 0,
    buffer_ms: 0,
    bitrate_kbps: 0,
    srtp: false,
    srtp_auth_failed: 0,
    srtp_replayed: 0,
    relay_fallbacks: 0,
  });
});

test('[G-3] deviceStats: calls moved to the relay are counted', (t) => {
  t.is(deviceStats(media(), 2).relay_fallbacks, 2);
});

test('[S-5] deviceStats: SRTP drops are published, by kind', (t) => {
  const s = deviceStats(media({ srtp: true, srtpAuthFailed: 3, srtpReplayed: 2, received: 40 }));
  t.like(s, { srtp: true, srtp_auth_failed: 3, srtp_replayed: 2, packets: 40 });
});

test('deviceStats: duplicates are not expected packets (RFC 3550)', (t) => {
  // 90 packets arrived twice each, 10 never: 10 % lost, not 10 of 190.
  const s = deviceStats(media({ received: 180, duplicates: 90, lost: 10 }));
  t.is(s.loss_pct, 10);
  t.is(s.packets, 180, 'packets counts every valid RTP packet received');
});

test('deviceStats: rounding of jitter and bitrate', (t) => {
  t.is(deviceStats(media({ jitterMs: 0.04 })).jitter_ms, 0);
  t.is(deviceStats(media({ jitterMs: 12.96 })).jitter_ms, 13);
  t.is(deviceStats(media({ bitrate: 24_000 })).bitrate_kbps, 24);
  t.is(deviceStats(media({ bitrate: 49 })).bitrate_kbps, 0);
  t.is(deviceStats(media({ bitrate: 51 })).bitrate_kbps, 0.1);
});

/** Just enough of an MQTT.js client to drive `DeviceMqtt`. */
class FakeClient extends EventEmitter {
  /** What DeviceMqtt tunes while running (the reconnect period after a refused login). */
  readonly options: { reconnectPeriod?: number } = {};
  connected = false;
  ended = false;
  readonly published: Array<{ topic: string; payload: string; opts: unknown }> = [];
  readonly subscribed: string[] = [];
  publish(topic: string, payload: string, opts?: unknown): void {
    this.published.push({ topic, payload, opts });
  }
  /** Granted at once, as a broker's SUBACK would be. */
  subscribe(topic: string, _opts?: unknown, done?: (err: Error | null) => void): void {
    this.subscribed.push(topic);
    done?.(null);
  }
  async endAsync(): Promise<void> {
    this.ended = true;
  }
  up(): void {
    this.connected = true;
    this.emit('connect');
  }
  deliver(payload: string, retain = false): void {
    this.emit('message', 'babel/door/set', Buffer.from(payload), { retain });
  }
}

function link(door: boolean) {
  const client = new FakeClient();
  const commands: DeviceCommand[] = [];
  const urls: string[] = [];
  const m = new DeviceMqtt({
    url: 'mqtt://broker:1883',
    baseTopic: 'babel',
    name: 'door',
    door,
    log: testLog,
    onCommand: (c) => commands.push(c),
    connectFn: ((url: string) => {
      urls.push(url);
      return client;
    }) as unknown as typeof mqtt.connect,
  });
  m.start();
  return { m, client, commands, urls };
}

test('DeviceMqtt: announces itself retained and subscribes on every connect', async (t) => {
  const { m, client, urls } = link(true);
  t.deepEqual(urls, ['mqtt://broker:1883']);
  client.up();
  client.up(); // a reconnect
  const announce = client.published.filter((p) => p.topic === 'babel/door/device');
  t.is(announce.length, 2);
  t.deepEqual(JSON.parse(announce[0]!.payload), {
    door: true,
    model: 'babel-device',
    sw_version: packageVersion(),
  });
  t.like(announce[0]!.opts, { retain: true, qos: 1 });
  t.deepEqual(client.subscribed, ['babel/door/set', 'babel/door/set']);
  const kitchen = link(false).client;
  kitchen.up();
  t.like(JSON.parse(kitchen.published[0]!.payload), { door: false });
  await m.stop();
  t.true(client.ended);
});

test('DeviceMqtt: the volume is announced, and announced again when it changes', (t) => {
  const client = new FakeClient();
  const m = new DeviceMqtt({
    url: 'mqtt://broker:1883',
    baseTopic: 'babel',
    name: 'door',
    door: false,
    volume: 80,
    log: testLog,
    onCommand: () => {},
    connectFn: (() => client) as unknown as typeof mqtt.connect,
  });
  m.start();
  client.up();
  m.setVolume(80); // unchanged: nothing new
  m.setVolume(35);
  const announce = client.published.filter((p) => p.topic === 'babel/door/device');
  t.deepEqual(
    announce.map((p) => JSON.parse(p.payload).volume),
    [80, 35],
  );
  t.like(announce[1]!.opts, { retain: true, qos: 1 });
});

test('DeviceMqtt: commands reach the agent; malformed and stale (retained) ones do not', (t) => {
  const { client, commands } = link(true);
  client.up();
  client.deliver('{"action":"door"}', true); // left retained on the broker: stale
  client.deliver('{"action":"call","target":"kitchen"}', true);
  client.deliver('not json');
  client.deliver('{"action":"explode"}');
  client.deliver('{"action":"call","target":"kitchen"}');
  client.deliver('{"action":"door"}');
  t.deepEqual(commands, [{ action: 'call', target: 'kitchen' }, { action: 'door' }]);
});

test('DeviceMqtt: statistics only while connected, on the stats topic, not retained', (t) => {
  const { m, client } = link(false);
  m.publishStats(media({ received: 10 }));
  t.is(client.published.length, 0, 'nothing queued while the broker is away');
  client.up();
  m.publishStats(media({ received: 10, bitrate: 24_000 }));
  const stats = client.published.filter((p) => p.topic === 'babel/door/stats');
  t.is(stats.length, 1);
  t.like(JSON.parse(stats[0]!.payload), { packets: 10, bitrate_kbps: 24 });
  t.falsy((stats[0]!.opts as { retain?: boolean } | undefined)?.retain);
});
