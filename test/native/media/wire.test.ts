/**
 * babel-media's RTP and RFC 4733 ports (native/media/src/wire.c) against the TypeScript
 * they port (device/media/rtp.ts, dtmf.ts): the same seeded inputs through both must give
 * the same answers. SRTP: wire-srtp.test.ts.
 */
import test from 'ava';
import {
  type DtmfKey,
  DtmfReceiver,
  DtmfSender,
  parseTelephoneEvent,
} from '../../../device/media/dtmf.ts';
import { parseRtp, RtpSender } from '../../../device/media/rtp.ts';
import { SrtpSender } from '../../../protocol/srtp/index.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { bytes, c, hex, int, KEYS, mangle, randomRtp, tsParse } from './wire-helpers.ts';

test('rtpParse: the same answers as parseRtp on random, mangled and garbage datagrams', (t) => {
  const rand = mulberry32(1);
  let parsed = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const good = randomRtp(rand);
    for (const buf of [good, mangle(rand, good)]) {
      const want = tsParse(buf);
      t.deepEqual(c.rtpParse(buf), want, buf.toString('hex'));
      if (want) parsed++;
    }
  }
  t.true(parsed > n && parsed < 2 * n, `both kinds seen: ${parsed} of ${2 * n} parsed`);
  t.is(c.rtpParse(Buffer.alloc(0)), null);
  t.is(c.rtpParse(hex('80c8000100000001000000020000')), null, 'RTCP SR: PT 72 with M [M-2]');
});

test('RtpSender: long runs with sequence and timestamp wrap, the same datagrams', (t) => {
  const rand = mulberry32(2);
  for (let run = 0; run < 20; run++) {
    const start = {
      payloadType: run % 2 ? 111 : int(rand, 72),
      ssrc: int(rand, 2 ** 32),
      sequence: 0x10000 - int(rand, 300),
      timestamp: 2 ** 32 - int(rand, 300000),
    };
    start.sequence &= 0xffff;
    const ts = new RtpSender(start);
    const cs = new c.RtpSender(start);
    for (let i = 0; i < 600; i++) {
      const r = rand();
      const payload = bytes(rand, int(rand, 160));
      if (r < 0.7) {
        const samples = [480, 960, 1920, 2880][int(rand, 4)]!;
        t.deepEqual(cs.nextAudio(payload, samples), ts.nextAudio(payload, samples));
      } else if (r < 0.85) {
        const samples = int(rand, 5000);
        cs.silence(samples);
        ts.silence(samples);
      } else {
        const pt = rand() < 0.2 ? 72 + int(rand, 5) : int(rand, 128);
        const stamp = int(rand, 2 ** 32);
        const marker = rand() < 0.5;
        let want: Buffer | RangeError;
        try {
          want = ts.packet(pt, payload, stamp, marker);
        } catch (err) {
          want = err as RangeError;
        }
        if (want instanceof Buffer) t.deepEqual(cs.packet(pt, payload, stamp, marker), want);
        else t.throws(() => cs.packet(pt, payload, stamp, marker), { instanceOf: RangeError });
      }
      t.is(cs.sequence, ts.sequence);
      t.is(cs.timestamp, ts.timestamp);
      t.is(cs.ssrc, ts.ssrc);
    }
  }
});

test('DtmfSender: presses queued while one goes out, interleaved with audio, same datagrams', (t) => {
  const rand = mulberry32(3);
  const durations = [0, 1, 20, 40, 59, 60, 100, 250, 600, 1360];
  let events = 0;
  for (let run = 0; run < 30; run++) {
    const start = {
      ssrc: int(rand, 2 ** 32),
      sequence: (0x10000 - int(rand, 200)) & 0xffff,
      timestamp: 2 ** 32 - int(rand, 50000),
    };
    const options = [
      {},
      { packetMs: 10 },
      { packetMs: 60, volume: 0 },
      { clockRate: 8000, payloadType: 96, volume: 63 },
    ][run % 4]!;
    const tsRtp = new RtpSender({ ...start, payloadType: 111 });
    const ts = new DtmfSender(tsRtp, options);
    const cs = new c.DtmfSender({ ...start, ...options });
    for (let step = 0; step < 400; step++) {
      if (rand() < 0.06) {
        const key = KEYS[int(rand, 16)]! as DtmfKey;
        const ms = durations[int(rand, durations.length)]!;
        // Only presses that fit the 16-bit duration (the next test covers the others).
        const ticks = Math.round(((options.clockRate ?? 48000) * (options.packetMs ?? 20)) / 1000);
        if (Math.max(1, Math.ceil(ms / (options.packetMs ?? 20))) * ticks <= 0xffff) {
          ts.press(key, ms);
          cs.press(key, ms);
        }
      }
      t.is(cs.active, ts.active);
      const want = ts.tick();
      const got = cs.tick();
      t.deepEqual(got, want);
      if (want) {
        events++;
        continue;
      }
      // The pipeline sends audio when no event takes the slot.
      const payload = bytes(rand, int(rand, 80));
      t.deepEqual(cs.nextAudio(payload, 960), tsRtp.nextAudio(payload, 960));
    }
  }
  t.true(events > 1000, `${events} event packets`);
});

test('DtmfSender: a press too long for the duration field is refused, as the TS drops it', (t) => {
  const start = { ssrc: 7, sequence: 1, timestamp: 2 };
  const tsRtp = new RtpSender({ ...start, payloadType: 111 });
  const ts = new DtmfSender(tsRtp);
  const cs = new c.DtmfSender(start);
  // 1380 ms is 69 packets of 960 ticks: 66,240 > 65,535. The TS throws from tick() when the
  // press comes up and goes on with the next; C refuses it at press().
  ts.press('1', 1380);
  t.throws(() => cs.press('1', 1380), { instanceOf: RangeError });
  ts.press('2', 40);
  cs.press('2', 40);
  t.throws(() => ts.tick(), { instanceOf: RangeError });
  for (let i = 0; i < 6; i++) t.deepEqual(cs.tick(), ts.tick());
  t.is(cs.tick(), null);
  t.false(cs.active);
  t.throws(() => cs.press('x', 100), { instanceOf: RangeError });
  t.throws(() => cs.press('11', 100), { instanceOf: RangeError });
  t.throws(() => cs.press('1', -1), { instanceOf: RangeError });
});

test('DtmfReceiver: reordered, duplicated, continuation and non-DTMF packets, same keys', (t) => {
  const rand = mulberry32(4);
  let keys = 0;
  for (let run = 0; run < 40; run++) {
    const ssrcs = [int(rand, 2 ** 32), int(rand, 2 ** 32)];
    const packets: Buffer[] = [];
    const tx = new RtpSender({ ssrc: ssrcs[0]!, sequence: 65500, timestamp: 2 ** 32 - 20000 });
    const sender = new DtmfSender(tx);
    for (let i = 0; i < 12; i++) sender.press(KEYS[int(rand, 16)]! as DtmfKey, 40 + int(rand, 200));
    for (let p = sender.tick(); p; p = sender.tick()) packets.push(p);
    // A long event's continuation segment (§2.5.1.3), other events, another SSRC.
    const other = new RtpSender({ ssrc: ssrcs[1]!, sequence: 0, timestamp: 5 });
    const last = parseRtp(packets.at(-4)!)!;
    const e = parseTelephoneEvent(last.payload)!;
    const seg = Buffer.from([e.event, 0x0a, 0x03, 0xc0]);
    packets.push(tx.packet(101, seg, (last.timestamp + e.duration) >>> 0, false));
    packets.push(
      tx.packet(101, Buffer.from([16 + int(rand, 200), 0x0a, 0, 0]), tx.timestamp, true),
    );
    packets.push(other.packet(101, Buffer.from([3, 0x0a, 1, 0]), 5, true));
    packets.push(tx.packet(101, Buffer.from([1, 2, 3]), tx.timestamp + 99, true));
    const stream: Buffer[] = [];
    for (const p of packets) {
      stream.push(p);
      if (rand() < 0.15) stream.push(p); // duplicate
      if (rand() < 0.1) stream.push(packets[int(rand, packets.length)]!); // stale
      if (rand() < 0.1 && stream.length > 2) {
        const i = stream.length - 1;
        [stream[i - 1], stream[i]] = [stream[i]!, stream[i - 1]!];
      }
    }
    stream.push(bytes(rand, 30), Buffer.alloc(0));
    const ts = new DtmfReceiver();
    const cr = new c.DtmfReceiver();
    for (const d of stream) {
      const p = parseRtp(d);
      const want = p ? (ts.push(p)?.key ?? null) : null;
      t.is(cr.push(d), want);
      if (want) keys++;
    }
  }
  t.true(keys > 250, `${keys} keys`);
});

test('DtmfReceiver: a long event continued in segments is one key; after its end, a new one', (t) => {
  const tx = new RtpSender({ ssrc: 9, sequence: 0, timestamp: 0 });
  const te = (event: number, end: boolean, duration: number) =>
    Buffer.from([event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
  // [datagram, the key it reports] (§2.5.1.3 segments: same event, no marker, ts + duration)
  const table: Array<[Buffer, string | null]> = [
    [tx.packet(101, te(5, false, 960), 1000, true), '5'],
    [tx.packet(101, te(5, false, 1920), 1000, false), null],
    [tx.packet(101, te(5, false, 960), 2920, false), null],
    [tx.packet(101, te(5, true, 1920), 2920, false), null],
    [tx.packet(101, te(5, false, 960), 4840, false), '5'],
    [tx.packet(101, te(7, false, 960), 3000, true), null],
    [tx.packet(101, te(200, false, 960), 9000, true), null],
    [tx.packet(101, te(5, false, 960), 5800, false), null],
    [tx.packet(101, te(6, false, 960), 6760, false), '6'],
    [
      new RtpSender({ ssrc: 10, sequence: 0, timestamp: 0 }).packet(
        101,
        te(6, false, 1),
        6760,
        false,
      ),
      '6',
    ],
  ];
  const ts = new DtmfReceiver();
  const cr = new c.DtmfReceiver();
  for (const [i, [d, key]] of table.entries()) {
    t.is<string | null, string | null>(ts.push(parseRtp(d)!)?.key ?? null, key, `TS row ${i}`);
    t.is(cr.push(d), key, `C row ${i}`);
  }
});

test('parseTelephoneEvent: the same fields, null under 4 bytes', (t) => {
  const rand = mulberry32(5);
  for (let i = 0; i < 2000; i++) {
    const b = bytes(rand, int(rand, 7));
    t.deepEqual(c.parseTelephoneEvent(b), parseTelephoneEvent(b));
  }
});

test('bad arguments throw TypeError or RangeError', (t) => {
  const start = { payloadType: 111, ssrc: 1, sequence: 2, timestamp: 3 };
  const bad: Array<[() => unknown, typeof TypeError | typeof RangeError]> = [
    [() => c.rtpParse('x' as unknown as Buffer), TypeError],
    [() => new c.RtpSender({ ...start, sequence: 65536 }), RangeError],
    [() => new c.RtpSender({ ...start, ssrc: -1 }), RangeError],
    [() => new c.RtpSender({ ...start, timestamp: 1.5 }), RangeError],
    [() => new c.RtpSender({ ssrc: 1, sequence: 2, timestamp: 3 } as typeof start), TypeError],
    [() => new c.RtpSender(null as unknown as typeof start), TypeError],
    [() => new c.RtpSender(start).nextAudio([1] as unknown as Buffer, 960), TypeError],
    [() => new c.RtpSender(start).packet(73, Buffer.alloc(1), 0, false), RangeError],
    [() => new c.RtpSender(start).packet(128, Buffer.alloc(1), 0, false), RangeError],
    [() => new c.DtmfSender({ ...start, packetMs: 0 }), RangeError],
    [() => new c.DtmfSender({ ...start, volume: 64 }), RangeError],
    [() => new c.DtmfSender({ ...start, payloadType: 74 }), RangeError],
    [() => new c.SrtpSender(Buffer.alloc(29)), RangeError],
    [() => new c.SrtpReceiver('k' as unknown as Buffer), TypeError],
    [() => new c.SrtpSender(Buffer.alloc(30)).protect(Buffer.alloc(12)), TypeError],
    [() => new c.SrtpReceiver(Buffer.alloc(30)).unprotect(null as unknown as Buffer), TypeError],
  ];
  for (const [fn, type] of bad) t.throws(fn, { instanceOf: type }, fn.toString());
  // The TS throws the same for a packet that is not RTP.
  t.throws(() => new SrtpSender(Buffer.alloc(30).toString('base64')).protect(Buffer.alloc(12)), {
    instanceOf: TypeError,
  });
});
