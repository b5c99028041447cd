/**
 * babel-media's RTP, RFC 4733 and SRTP ports (native/media/src/wire.c, srtp.c) against the
 * TypeScript they port (device/media/rtp.ts, dtmf.ts, protocol/srtp/): the same seeded
 * inputs through both must give the same answers, plus RFC 3711's known answers.
 */
import { createRequire } from 'node:module';
import test from 'ava';
import {
  type DtmfKey,
  DtmfReceiver,
  DtmfSender,
  parseTelephoneEvent,
} from '../../../device/media/dtmf.ts';
import { encodeRtp, parseRtp, RtpSender } from '../../../device/media/rtp.ts';
import { SrtpReceiver, SrtpSender } from '../../../protocol/srtp/index.ts';
import { mulberry32 } from '../../helpers/prng.ts';

interface Parsed {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}
interface Start {
  ssrc: number;
  sequence: number;
  timestamp: number;
}
interface CRtpSender {
  nextAudio(payload: Buffer, samples: number): Buffer;
  silence(samples: number): void;
  packet(pt: number, payload: Buffer, ts: number, marker: boolean): Buffer;
  readonly ssrc: number;
  readonly sequence: number;
  readonly timestamp: number;
}
interface CDtmfSender {
  press(key: string, durationMs?: number): void;
  tick(): Buffer | null;
  nextAudio(payload: Buffer, samples: number): Buffer;
  readonly active: boolean;
}
type Drop = 'malformed' | 'auth' | 'replay';
interface Stats {
  ok: number;
  auth: number;
  replay: number;
  malformed: number;
}
interface WireTest {
  rtpParse(buf: Buffer): Parsed | null;
  parseTelephoneEvent(payload: Buffer): ReturnType<typeof parseTelephoneEvent>;
  srtpKeystream(key: Buffer, iv: Buffer, length: number): Buffer;
  srtpDerive(master: Buffer, label: number, length: number): Buffer;
  RtpSender: new (o: Start & { payloadType: number }) => CRtpSender;
  DtmfSender: new (
    o: Start & { payloadType?: number; packetMs?: number; clockRate?: number; volume?: number },
  ) => CDtmfSender;
  DtmfReceiver: new () => { push(datagram: Buffer): string | null };
  SrtpSender: new (master: Buffer) => { protect(rtp: Buffer): Buffer };
  SrtpReceiver: new (master: Buffer) => { unprotect(srtp: Buffer): Buffer | Drop; stats: Stats };
}

const native = createRequire(import.meta.url)('../../../native/media/index.js') as {
  _test: WireTest;
};
const c = native._test;
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const KEYS = '0123456789*#ABCD';

function bytes(rand: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
const int = (rand: () => number, n: number) => Math.floor(rand() * n);

/** The fields the C parser reports, from the TS parser. */
function tsParse(buf: Buffer): Parsed | null {
  const p = parseRtp(buf);
  if (!p) return null;
  const { payloadType, marker, sequence, timestamp, ssrc, payload } = p;
  return { payloadType, marker, sequence, timestamp, ssrc, payload };
}

/** A random RTP packet: CSRCs, an extension and padding each some of the time. */
function randomRtp(rand: () => number, maxPayload = 200): Buffer {
  let payloadType = int(rand, 128);
  if (payloadType >= 72 && payloadType <= 76) payloadType = 111;
  return encodeRtp({
    version: 2,
    padding: rand() < 0.3,
    marker: rand() < 0.5,
    payloadType,
    sequence: int(rand, 0x10000),
    timestamp: int(rand, 0x1_0000_0000),
    ssrc: int(rand, 0x1_0000_0000),
    csrcs: Array.from({ length: rand() < 0.3 ? int(rand, 16) : 0 }, () => int(rand, 2 ** 32)),
    ...(rand() < 0.3
      ? { extension: { profile: 0xbede, data: bytes(rand, 4 * int(rand, 5)) } }
      : {}),
    payload: bytes(rand, int(rand, maxPayload)),
  });
}

/** Variations of a packet that a parser must survive: cuts, flipped bytes, odd counts. */
function mangle(rand: () => number, p: Buffer): Buffer {
  const b = Buffer.from(p);
  switch (int(rand, 5)) {
    case 0:
      return b.subarray(0, int(rand, b.length + 1));
    case 1:
      b[int(rand, Math.min(b.length, 20))] = int(rand, 256);
      return b;
    case 2:
      if (b.length > 0) b[b.length - 1] = int(rand, 256);
      return b;
    case 3:
      b[0] = (b[0]! & 0xc0) | int(rand, 64);
      return b;
    default:
      return bytes(rand, int(rand, 40));
  }
}

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

test('parseTelephoneEvent: the same fields, null under 4 bytes', (t) => {
  const rand = mulberry32(5);
  for (let i = 0; i < 2000; i++) {
    const b = bytes(rand, int(rand, 7));
    t.deepEqual(c.parseTelephoneEvent(b), parseTelephoneEvent(b));
  }
});

const MASTER = hex('E1F97A0D3E018BE0D64FA32C06DE41390EC675AD498AFEEBB6960B3AABE6');

test('RFC 3711 B.2: the AES-CM keystream, and B.3: key derivation', (t) => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const ks = c.srtpKeystream(key, hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'), 1044512);
  const block = (n: number) =>
    ks
      .subarray(16 * n, 16 * n + 16)
      .toString('hex')
      .toUpperCase();
  t.is(block(0x0000), 'E03EAD0935C95E80E166B16DD92B4EB4');
  t.is(block(0x0001), 'D23513162B02D0F72A43A2FE4A5F97AB');
  t.is(block(0x0002), '41E95B3BB0A2E8DD477901E4FCA894C0');
  t.is(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  t.is(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  t.is(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
  t.is(
    c.srtpDerive(MASTER, 0, 16).toString('hex').toUpperCase(),
    'C61E7A93744F39EE10734AFE3FF7A087',
  );
  t.is(c.srtpDerive(MASTER, 2, 14).toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
  t.is(
    c.srtpDerive(MASTER, 1, 94).toString('hex').toUpperCase(),
    'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE' +
      'E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25' +
      '6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2',
  );
});

test("libsrtp's reference packet: protect and unprotect", (t) => {
  const plain = hex(`800f1234decafbadcafebabe${'ab'.repeat(16)}`);
  const srtp = hex('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
  t.deepEqual(new c.SrtpSender(MASTER).protect(plain), srtp);
  const rx = new c.SrtpReceiver(MASTER);
  t.deepEqual(rx.unprotect(srtp), plain);
  t.deepEqual(rx.stats, { ok: 1, auth: 0, replay: 0, malformed: 0 });
});

/** Both implementations of each side under one random master key. */
function pair(rand: () => number) {
  const master = bytes(rand, 30);
  const b64 = master.toString('base64');
  return {
    tsTx: new SrtpSender(b64),
    cTx: new c.SrtpSender(master),
    tsRx: new SrtpReceiver(b64),
    cRx: new c.SrtpReceiver(master),
  };
}

/** An RTP packet of stream `ssrc` at `seq`, with random extras from `rand`. */
function packetAt(rand: () => number, ssrc: number, seq: number): Buffer {
  const p = randomRtp(rand, 180);
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

test('SRTP interop: C and TS protect to the same bytes and each unprotects the other, across wraps', (t) => {
  const rand = mulberry32(6);
  const { tsTx, cTx, tsRx, cRx } = pair(rand);
  const ssrc = 0xdecafbad;
  // 2 wraps of the sequence number with reordering around them.
  const seqs: number[] = [];
  for (let i = 0; i < 5000; i++) seqs.push(65000 + i * 30 + (i % 7 === 3 ? -40 : 0));
  let ok = 0;
  const sent: Buffer[] = [];
  for (const [i, seq] of seqs.entries()) {
    const plain = packetAt(rand, ssrc, seq);
    const fromTs = tsTx.protect(plain);
    const fromC = cTx.protect(plain);
    t.deepEqual(fromC, fromTs);
    const a = cRx.unprotect(fromTs);
    const b = tsRx.unprotect(fromC);
    t.deepEqual(a, b);
    if (Buffer.isBuffer(a) && a.equals(plain)) ok++;
    sent.push(fromC);
    // Now and then a resend of the previous packet (a replay) or of one long gone.
    if (i % 50 === 10) t.is(cRx.unprotect(sent[i - 1]!), tsRx.unprotect(sent[i - 1]!));
    if (i % 50 === 20) t.is(cRx.unprotect(sent[i - 20]!), tsRx.unprotect(sent[i - 20]!));
  }
  t.is(ok, seqs.length, 'every packet, the reordered ones too');
  t.deepEqual(cRx.stats, tsRx.stats);
  t.deepEqual(cRx.stats, { ok, auth: 0, replay: 200, malformed: 0 });
});

test('SRTP receiver: tampering, replay, the window, truncation and counters, as the TS', (t) => {
  const rand = mulberry32(7);
  const { tsTx, tsRx, cRx } = pair(rand);
  const feed = (b: Buffer) => {
    const want = tsRx.unprotect(b);
    const got = cRx.unprotect(b);
    t.deepEqual(got, want);
    return got;
  };
  const ssrc = 42;
  const packets = Array.from({ length: 400 }, (_, i) =>
    tsTx.protect(packetAt(rand, ssrc, 65400 + i)),
  );
  t.true(Buffer.isBuffer(feed(packets[0]!)));
  t.is(feed(packets[0]!), 'replay');
  // Every byte tampered with in turn: dropped (mostly 'auth'), never accepted.
  for (let i = 0; i < packets[1]!.length; i++) {
    const bad = Buffer.from(packets[1]!);
    bad[i]! ^= 1 << int(rand, 8);
    t.false(Buffer.isBuffer(feed(bad)), `byte ${i}`);
  }
  t.true(cRx.stats.auth >= packets[1]!.length - 12);
  // In order with holes, then the held ones: inside the window accepted once, beyond dropped.
  for (let i = 200; i < 400; i++) if (i !== 271 && i !== 272 && i !== 300) feed(packets[i]!);
  t.is(feed(packets[271]!), 'replay', 'older than the window');
  t.true(Buffer.isBuffer(feed(packets[272]!)), 'the oldest the window takes');
  t.true(Buffer.isBuffer(feed(packets[300]!)), 'reordered within the window');
  t.is(feed(packets[300]!), 'replay');
  for (const cut of [0, 1, 11, 21, packets[5]!.length - 11]) {
    const r = feed(packets[5]!.subarray(0, cut));
    if (cut < 22) t.is(r, 'malformed');
    else t.false(Buffer.isBuffer(r));
  }
  t.deepEqual(cRx.stats, tsRx.stats);
});

test('SRTP: more SSRCs than the 16 tracked, the oldest forgotten as in the TS', (t) => {
  const rand = mulberry32(8);
  const { tsTx, cTx, tsRx, cRx } = pair(rand);
  for (let i = 0; i < 3000; i++) {
    const ssrc = 1000 + int(rand, 20);
    const plain = packetAt(rand, ssrc, int(rand, 0x10000));
    const a = tsTx.protect(plain);
    t.deepEqual(cTx.protect(plain), a);
    t.deepEqual(cRx.unprotect(a), tsRx.unprotect(a));
  }
  t.deepEqual(cRx.stats, tsRx.stats);
});

test('fuzz: random and mangled datagrams through unprotect and rtpParse, the same answers', (t) => {
  const rand = mulberry32(9);
  const { tsTx, tsRx, cRx } = pair(rand);
  for (let i = 0; i < 20000; i++) {
    const good = tsTx.protect(packetAt(rand, 77 + int(rand, 3), 100 + i));
    const b = rand() < 0.3 ? good : mangle(rand, good);
    t.deepEqual(cRx.unprotect(b), tsRx.unprotect(b));
    t.deepEqual(c.rtpParse(b), tsParse(b));
  }
  t.deepEqual(cRx.stats, tsRx.stats);
  t.true(cRx.stats.ok > 1000 && cRx.stats.malformed > 100 && cRx.stats.auth > 1000);
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
