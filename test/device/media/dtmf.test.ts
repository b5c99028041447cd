import test from 'ava';
import {
  DTMF_KEYS,
  type DtmfKey,
  DtmfReceiver,
  DtmfSender,
  encodeTelephoneEvent,
  eventToKey,
  isDtmfKey,
  keyPressPackets,
  keyToEvent,
  parseTelephoneEvent,
  type TelephoneEvent,
} from '../../../device/media/dtmf.ts';
import {
  DTMF_PAYLOAD_TYPE,
  parseRtp,
  type RtpPacket,
  RtpSender,
} from '../../../device/media/rtp.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 4733 §2.3 payloads.
const fixtures: Array<[string, TelephoneEvent, string]> = [
  ['key 1, first update', { event: 1, end: false, volume: 10, duration: 960 }, '01 0a 03c0'],
  ['key #, end', { event: 11, end: true, volume: 0, duration: 4800 }, '0b 80 12c0'],
  [
    'key D, every field at its maximum',
    { event: 15, end: true, volume: 63, duration: 65535 },
    '0f bf ffff',
  ],
  ['key 0, zero duration', { event: 0, end: false, volume: 63, duration: 0 }, '00 3f 0000'],
];

for (const [name, event, bytes] of fixtures) {
  test(`telephone event encode / parse / round trip: ${name}`, (t) => {
    t.is(encodeTelephoneEvent(event).toString('hex'), hex(bytes).toString('hex'));
    t.deepEqual(parseTelephoneEvent(hex(bytes)), event);
    t.deepEqual(parseTelephoneEvent(encodeTelephoneEvent(event)), event);
  });
}

test('parseTelephoneEvent ignores the reserved bit and rejects short payloads', (t) => {
  t.deepEqual(parseTelephoneEvent(hex('05 4a 03c0')), {
    event: 5,
    end: false,
    volume: 10,
    duration: 960,
  });
  t.is(parseTelephoneEvent(hex('05 4a 03')), null);
  t.is(parseTelephoneEvent(Buffer.alloc(0)), null);
});

const badEvents: Array<[string, TelephoneEvent]> = [
  ['volume 64', { event: 1, end: false, volume: 64, duration: 0 }],
  ['duration 65536', { event: 1, end: false, volume: 0, duration: 65536 }],
  ['event 256', { event: 256, end: false, volume: 0, duration: 0 }],
  ['negative duration', { event: 1, end: false, volume: 0, duration: -1 }],
];
for (const [name, event] of badEvents) {
  test(`encodeTelephoneEvent throws RangeError: ${name}`, (t) => {
    t.throws(() => encodeTelephoneEvent(event), { instanceOf: RangeError });
  });
}

test('the sixteen keys map to events 0..15 and back', (t) => {
  t.is(DTMF_KEYS.length, 16);
  for (const [i, key] of [...DTMF_KEYS].entries()) {
    t.true(isDtmfKey(key));
    t.is(keyToEvent(key as DtmfKey), i);
    t.is(eventToKey(i), key as DtmfKey);
  }
  t.deepEqual(
    [keyToEvent('*'), keyToEvent('#'), keyToEvent('A'), keyToEvent('D')],
    [10, 11, 12, 15],
  );
  t.is(eventToKey(16), undefined);
  t.is(eventToKey(-1), undefined);
  t.false(isDtmfKey('E'));
  t.false(isDtmfKey('12'));
  t.false(isDtmfKey('a'));
});

test('a 100 ms press at 20 ms: five growing updates, the end sent three times', (t) => {
  const packets = [...keyPressPackets('5')];
  t.deepEqual(
    packets.map((p) => [p.marker, p.event.event, p.event.end, p.event.duration]),
    [
      [true, 5, false, 960],
      [false, 5, false, 1920],
      [false, 5, false, 2880],
      [false, 5, false, 3840],
      [false, 5, true, 4800],
      [false, 5, true, 4800],
      [false, 5, true, 4800],
    ],
  );
  t.true(packets.every((p) => p.payload.equals(encodeTelephoneEvent(p.event))));
});

test('a press shorter than a packet still gives one update, ended, three times', (t) => {
  const packets = [...keyPressPackets('#', { durationMs: 5, packetMs: 10, clockRate: 8000 })];
  t.deepEqual(
    packets.map((p) => [p.marker, p.event.end, p.event.duration]),
    [
      [true, true, 80],
      [false, true, 80],
      [false, true, 80],
    ],
  );
});

test('a press too long for the 16-bit duration is refused', (t) => {
  t.throws(() => [...keyPressPackets('1', { durationMs: 1400 })], { instanceOf: RangeError });
  t.notThrows(() => [...keyPressPackets('1', { durationMs: 1360 })]);
  t.throws(() => [...keyPressPackets('x' as DtmfKey)], { instanceOf: RangeError });
});

function sendPresses(keys: Array<[DtmfKey, number]>, start = 1000) {
  const rtp = new RtpSender({ ssrc: 7, sequence: 65533, timestamp: start });
  const dtmf = new DtmfSender(rtp);
  for (const [key, ms] of keys) dtmf.press(key, ms);
  const datagrams: Buffer[] = [];
  for (let d = dtmf.tick(); d !== null; d = dtmf.tick()) datagrams.push(d);
  return { rtp, dtmf, packets: datagrams.map((d) => parseRtp(d)!) };
}

test('DtmfSender: one datagram per tick, one timestamp, the leg sequence space', (t) => {
  const { rtp, dtmf, packets } = sendPresses([['9', 100]]);
  t.is(packets.length, 7);
  t.true(packets.every((p) => p.payloadType === DTMF_PAYLOAD_TYPE && p.ssrc === 7));
  t.true(packets.every((p) => p.timestamp === 1000));
  t.deepEqual(
    packets.map((p) => p.sequence),
    [65533, 65534, 65535, 0, 1, 2, 3],
  );
  t.deepEqual(
    packets.map((p) => p.marker),
    [true, false, false, false, false, false, false],
  );
  t.false(dtmf.active);
  // The event took seven packet intervals of the audio timeline; audio resumes with a marker.
  t.is(rtp.timestamp, 1000 + 7 * 960);
  const audio = parseRtp(rtp.nextAudio(Buffer.alloc(3), 960))!;
  t.deepEqual([audio.sequence, audio.timestamp, audio.marker], [4, 1000 + 7 * 960, true]);
});

test('DtmfSender: queued presses follow one another with their own timestamps', (t) => {
  const { packets } = sendPresses([
    ['1', 40],
    ['2', 40],
  ]);
  t.is(packets.length, 8);
  t.deepEqual([...new Set(packets.map((p) => p.timestamp))], [1000, 1000 + 4 * 960]);
  t.throws(() => new DtmfSender(new RtpSender()).press('Z' as DtmfKey), { instanceOf: RangeError });
});

function receive(packets: RtpPacket[]): string {
  const rx = new DtmfReceiver();
  return packets.map((p) => rx.push(p)?.key ?? '').join('');
}

test('DtmfReceiver reports each key once despite updates and the repeated end', (t) => {
  const { packets } = sendPresses([
    ['1', 100],
    ['2', 60],
    ['2', 60],
    ['#', 100],
  ]);
  t.is(receive(packets), '122#');
});

test('DtmfReceiver: start packets lost, the key still comes once', (t) => {
  const { packets } = sendPresses([['7', 100]]);
  t.is(receive(packets.slice(3)), '7');
  t.is(receive(packets.slice(5)), '7');
});

test('DtmfReceiver: duplicates and reordering within an event change nothing', (t) => {
  const { packets } = sendPresses([['4', 100]]);
  const shuffled = [packets[4]!, packets[0]!, packets[0]!, packets[2]!, packets[1]!, packets[6]!];
  t.is(receive(shuffled), '4');
});

test('DtmfReceiver: a straggler of an older event is ignored', (t) => {
  const { packets } = sendPresses([
    ['1', 40],
    ['2', 40],
  ]);
  const straggler = packets[3]!; // an end packet of '1'
  t.is(straggler.timestamp, 1000);
  t.is(receive([...packets.slice(0, 2), ...packets.slice(4), straggler]), '12');
});

test('DtmfReceiver: the next segment of a long event is not a new key (RFC 4733 §2.5.1.3)', (t) => {
  const seg = (ts: number, marker: boolean, end: boolean, duration: number): RtpPacket => ({
    version: 2,
    padding: false,
    marker,
    payloadType: DTMF_PAYLOAD_TYPE,
    sequence: 0,
    timestamp: ts,
    ssrc: 1,
    csrcs: [],
    payload: encodeTelephoneEvent({ event: 3, end, volume: 10, duration }),
  });
  const base = 0xffffffff - 1000; // the segments straddle the timestamp wrap
  t.is(
    receive([
      seg(base, true, false, 30000),
      seg(base, false, false, 65535),
      seg((base + 65535) >>> 0, false, false, 960),
      seg((base + 65535) >>> 0, false, true, 2000),
      seg((base + 65535 + 2000 + 48000) >>> 0, true, false, 960),
    ]),
    '33',
  );
});

test('DtmfReceiver: a new SSRC starts afresh; non-DTMF events and junk are ignored', (t) => {
  const rx = new DtmfReceiver();
  const p = (ssrc: number, ts: number, payload: Buffer) => ({
    ssrc,
    timestamp: ts,
    marker: true,
    payload,
  });
  t.is(
    rx.push(p(1, 5000, encodeTelephoneEvent({ event: 8, end: false, volume: 0, duration: 0 })))
      ?.key,
    '8',
  );
  t.is(
    rx.push(p(2, 10, encodeTelephoneEvent({ event: 8, end: false, volume: 0, duration: 0 })))?.key,
    '8',
  );
  t.is(
    rx.push(p(2, 9000, encodeTelephoneEvent({ event: 32, end: false, volume: 0, duration: 0 }))),
    null,
  );
  t.is(rx.push(p(2, 9000, Buffer.from([1, 2]))), null);
  t.deepEqual(
    rx.push(p(2, 9600, encodeTelephoneEvent({ event: 12, end: true, volume: 5, duration: 9 }))),
    {
      key: 'A',
      timestamp: 9600,
      volume: 5,
    },
  );
});
