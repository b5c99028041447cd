import test from 'ava';
import {
  DTMF_PAYLOAD_TYPE,
  encodeRtp,
  OPUS_CLOCK_RATE,
  OPUS_PAYLOAD_TYPE,
  parseRtp,
  type RtpPacket,
  RtpSender,
} from '../../../device/media/rtp.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function packet(fields: Partial<RtpPacket>): RtpPacket {
  return {
    version: 2,
    padding: false,
    marker: false,
    payloadType: OPUS_PAYLOAD_TYPE,
    sequence: 1,
    timestamp: 0x01020304,
    ssrc: 0xdeadbeef,
    csrcs: [],
    payload: Buffer.from('abc'),
    ...fields,
  };
}

// [M-1] One fixture per row: the packet, and its bytes on the wire.
const fixtures: Array<[string, RtpPacket, string]> = [
  ['opus, no marker', packet({}), '80 6f 0001 01020304 deadbeef 616263'],
  [
    'telephone-event with marker',
    packet({ marker: true, payloadType: DTMF_PAYLOAD_TYPE, payload: hex('01 0a 03c0') }),
    '80 e5 0001 01020304 deadbeef 010a03c0',
  ],
  [
    'highest sequence, timestamp and ssrc',
    packet({ sequence: 0xffff, timestamp: 0xffffffff, ssrc: 0xffffffff }),
    '80 6f ffff ffffffff ffffffff 616263',
  ],
  ['empty payload', packet({ payload: Buffer.alloc(0) }), '80 6f 0001 01020304 deadbeef'],
  [
    'two CSRCs',
    packet({ csrcs: [1, 0xfffffffe] }),
    '82 6f 0001 01020304 deadbeef 00000001 fffffffe 616263',
  ],
  [
    'header extension',
    packet({ extension: { profile: 0xbede, data: hex('10ff0000') } }),
    '90 6f 0001 01020304 deadbeef bede 0001 10ff0000 616263',
  ],
  [
    'empty header extension',
    packet({ extension: { profile: 0x1000, data: Buffer.alloc(0) } }),
    '90 6f 0001 01020304 deadbeef 1000 0000 616263',
  ],
  ['padding to 4 bytes', packet({ padding: true }), 'a0 6f 0001 01020304 deadbeef 616263 01'],
  [
    'padding a whole word when already aligned',
    packet({ padding: true, payload: Buffer.from('abcd') }),
    'a0 6f 0001 01020304 deadbeef 61626364 000000 04',
  ],
  [
    'everything',
    packet({
      padding: true,
      marker: true,
      payloadType: 0,
      csrcs: [7],
      extension: { profile: 1, data: hex('aabbccdd 11223344') },
      payload: hex('ff'),
    }),
    'b1 80 0001 01020304 deadbeef 00000007 0001 0002 aabbccdd11223344 ff 0000 03',
  ],
];

for (const [name, p, bytes] of fixtures) {
  test(`encodeRtp: ${name}`, (t) => {
    t.deepEqual(encodeRtp(p).toString('hex'), hex(bytes).toString('hex'));
  });
  test(`parseRtp: ${name}`, (t) => {
    t.deepEqual(parseRtp(hex(bytes)), p);
  });
  test(`round trip: ${name}`, (t) => {
    t.deepEqual(parseRtp(encodeRtp(p)), p);
  });
}

test('parseRtp strips padding longer than one word (another sender)', (t) => {
  const p = parseRtp(hex('a0 6f 0001 01020304 deadbeef 616263 0000000000000008'));
  t.truthy(p);
  t.true(p!.padding);
  t.is(p!.payload.toString(), 'abc');
});

test('parseRtp returns views, not copies', (t) => {
  const buf = hex('80 6f 0001 01020304 deadbeef 616263');
  const p = parseRtp(buf)!;
  buf[12] = 0x7a;
  t.is(p.payload.toString(), 'zbc');
});

// [M-2] Anything that is not valid RTP v2 is null.
const invalid: Array<[string, string]> = [
  ['empty', ''],
  ['shorter than the fixed header', '80 6f 0001 01020304 deadbe'],
  ['version 0', '00 6f 0001 01020304 deadbeef 616263'],
  ['version 1', '40 6f 0001 01020304 deadbeef 616263'],
  ['version 3', 'c0 6f 0001 01020304 deadbeef 616263'],
  ['CSRC list past the end', '82 6f 0001 01020304 deadbeef 00000001'],
  ['CSRC count 15 in a short packet', '8f 6f 0001 01020304 deadbeef 00000001 00000002'],
  ['extension bit without extension header', '90 6f 0001 01020304 deadbeef bede'],
  ['extension length past the end', '90 6f 0001 01020304 deadbeef bede 0002 10ff0000'],
  ['padding bit on an empty payload', 'a0 6f 0001 01020304 deadbeef'],
  ['padding count 0', 'a0 6f 0001 01020304 deadbeef 616263 00'],
  ['padding count past the payload', 'a0 6f 0001 01020304 deadbeef 6162 05'],
  ['padding eating into the extension', 'b0 6f 0001 01020304 deadbeef bede 0001 10ff0000 02'],
  ['RTCP sender report (RFC 5761)', '80 c8 0006 01020304 deadbeef 00000000 00000000'],
  ['RTCP receiver report', '81 c9 0007 deadbeef 00000001 00000000 00000000'],
  ['RTCP BYE', '81 cb 0001 deadbeef'],
];

for (const [name, bytes] of invalid) {
  test(`parseRtp rejects: ${name}`, (t) => {
    t.is(parseRtp(hex(bytes)), null);
  });
}

const badFields: Array<[string, Partial<RtpPacket>]> = [
  ['payload type 128', { payloadType: 128 }],
  ['payload type reserved for RTCP', { payloadType: 72 }],
  ['negative payload type', { payloadType: -1 }],
  ['sequence 65536', { sequence: 65536 }],
  ['fractional sequence', { sequence: 1.5 }],
  ['timestamp 2^32', { timestamp: 2 ** 32 }],
  ['negative ssrc', { ssrc: -1 }],
  ['16 CSRCs', { csrcs: new Array(16).fill(1) }],
  ['CSRC out of range', { csrcs: [2 ** 32] }],
  ['extension not a whole word', { extension: { profile: 1, data: Buffer.alloc(3) } }],
  ['extension profile out of range', { extension: { profile: 0x10000, data: Buffer.alloc(0) } }],
];

for (const [name, fields] of badFields) {
  test(`encodeRtp throws RangeError: ${name}`, (t) => {
    t.throws(() => encodeRtp(packet(fields)), { instanceOf: RangeError });
  });
}

test('parseRtp never throws on 100,000 random buffers; what it accepts re-encodes', (t) => {
  const rnd = mulberry32(0x5eed);
  let accepted = 0;
  for (let i = 0; i < 100_000; i++) {
    const len = Math.floor(rnd() * 48);
    const buf = Buffer.allocUnsafe(len);
    for (let j = 0; j < len; j++) buf[j] = Math.floor(rnd() * 256);
    // Half of them start like RTP v2, to reach the CSRC, extension and padding checks.
    if (len > 0 && i % 2 === 0) buf[0] = 0x80 | (buf[0]! & 0x3f);
    const p = parseRtp(buf);
    if (p === null) continue;
    accepted++;
    const again = parseRtp(encodeRtp(p));
    if (!again) {
      t.fail(`re-encoded packet did not parse: ${buf.toString('hex')}`);
      return;
    }
    if (!again.payload.equals(p.payload) || again.sequence !== p.sequence) {
      t.fail(`re-encoded packet differs: ${buf.toString('hex')}`);
      return;
    }
  }
  t.true(accepted > 2_000, `only ${accepted} accepted`);
});

test('RtpSender numbers packets: +1 sequence, +samples timestamp, marker on the first', (t) => {
  const s = new RtpSender({ ssrc: 42, sequence: 65534, timestamp: 0xffffffff - 959 });
  const payload = Buffer.from([1, 2, 3]);
  const got = [0, 1, 2].map(() => parseRtp(s.nextAudio(payload, 960))!);
  t.deepEqual(
    got.map((p) => [p.sequence, p.timestamp, p.marker, p.payloadType, p.ssrc]),
    [
      [65534, 0xffffffff - 959, true, OPUS_PAYLOAD_TYPE, 42],
      [65535, 0, false, OPUS_PAYLOAD_TYPE, 42],
      [0, 960, false, OPUS_PAYLOAD_TYPE, 42],
    ],
  );
  t.true(got.every((p) => p.payload.equals(payload)));
});

test('RtpSender: after silence the timestamp has moved on and the marker is set again', (t) => {
  const s = new RtpSender({ ssrc: 1, sequence: 10, timestamp: 1000 });
  s.nextAudio(Buffer.alloc(1), 960);
  s.silence(960 * 5);
  const p = parseRtp(s.nextAudio(Buffer.alloc(1), 960))!;
  t.is(p.sequence, 11);
  t.is(p.timestamp, 1000 + 960 * 6);
  t.true(p.marker);
  t.false(parseRtp(s.nextAudio(Buffer.alloc(1), 960))!.marker);
});

test('RtpSender: packet() shares the sequence space and takes an explicit timestamp', (t) => {
  const s = new RtpSender({ ssrc: 1, sequence: 0, timestamp: 500 });
  const e = parseRtp(s.packet(DTMF_PAYLOAD_TYPE, Buffer.alloc(4), 123, true))!;
  t.deepEqual(
    [e.payloadType, e.sequence, e.timestamp, e.marker],
    [DTMF_PAYLOAD_TYPE, 0, 123, true],
  );
  t.is(s.sequence, 1);
  t.is(s.timestamp, 500);
  t.throws(() => s.packet(200 & 0x7f, Buffer.alloc(1), 0, false), { instanceOf: RangeError });
});

test('RtpSender: SSRC, sequence and timestamp start at random per leg [M-1]', (t) => {
  const legs = Array.from({ length: 20 }, () => new RtpSender());
  for (const leg of legs) {
    t.true(Number.isInteger(leg.ssrc) && leg.ssrc >= 0 && leg.ssrc <= 0xffffffff);
    t.true(leg.sequence >= 0 && leg.sequence <= 0xffff);
    t.true(leg.timestamp >= 0 && leg.timestamp <= 0xffffffff);
  }
  t.true(new Set(legs.map((l) => l.ssrc)).size > 15);
  t.true(new Set(legs.map((l) => l.sequence)).size > 10);
  t.true(new Set(legs.map((l) => l.timestamp)).size > 15);
});

test('RtpSender rejects bad start values', (t) => {
  t.throws(() => new RtpSender({ sequence: 70000 }), { instanceOf: RangeError });
  t.throws(() => new RtpSender({ payloadType: 300 }), { instanceOf: RangeError });
});

test('constants [M-1]', (t) => {
  t.deepEqual([OPUS_PAYLOAD_TYPE, OPUS_CLOCK_RATE, DTMF_PAYLOAD_TYPE], [111, 48000, 101]);
});
