import test from 'ava';
import type { DtmfKey } from '../../../device/media/dtmf.ts';
import {
  type MediaEndpoint,
  MediaPipeline,
  type MediaPipelineOptions,
  type MediaStats,
} from '../../../device/media/pipeline.ts';
import { encodeRtp, parseRtp } from '../../../device/media/rtp.ts';
import { dominantFrequency, generateTone } from '../../../device/media/tone.ts';
import { Impairment, type ImpairmentOptions } from '../../helpers/impairment.ts';

const F = 20;
const RATE = 48000;
const ALICE: MediaEndpoint = { address: '192.0.2.1', port: 5004 };
const BOB: MediaEndpoint = { address: '192.0.2.2', port: 6006 };
// Both wrap early in the call: sequence numbers at 65536, timestamps at 2^32.
const TS0 = 2 ** 32 - 10 * 960;
const SEQ0 = 65530;

/** Frame `k` of a continuous tone. */
function toneFrame(hz: number, k: number): Buffer {
  return generateTone(hz, F, RATE, 8000, (2 * Math.PI * hz * k * F) / 1000);
}

/** A tiny discrete-event simulator: callbacks in time order, `now` passed along. */
class Sim {
  now = 0;
  #events: Array<{ at: number; n: number; fn: () => void }> = [];
  #n = 0;

  at(at: number, fn: () => void): void {
    this.#events.push({ at, n: this.#n++, fn });
  }

  run(until: number): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.#events.length; i++) {
        const e = this.#events[i]!;
        const b = this.#events[best];
        if (!b || e.at < b.at || (e.at === b.at && e.n < b.n)) best = i;
      }
      const next = this.#events[best];
      if (!next || next.at > until) return;
      this.#events.splice(best, 1);
      this.now = next.at;
      next.fn();
    }
  }
}

interface Played {
  pcm: Buffer;
  kind: 'frame' | 'conceal' | 'silence';
  ts: number;
}

interface Side {
  p: MediaPipeline;
  self: MediaEndpoint;
  hz: number;
  played: Played[];
  sent: Buffer[];
  keys: DtmfKey[];
}

interface CallOptions {
  frames: number;
  /** Network of each direction; default 1 ms of delay, nothing else. */
  net?: ImpairmentOptions;
  pipeline?: Partial<MediaPipelineOptions>;
  /** How long the simulation runs on after the last frame. Default 1000. */
  tailMs?: number;
  /** Called before side `who` captures frame `k`. */
  beforeCapture?: (who: 'alice' | 'bob', k: number, side: Side) => void;
}

/**
 * Alice (440 Hz) and Bob (1000 Hz) talk for `frames` frames over a simulated network, each
 * capturing every 20 ms and playing out on the schedule `nextPlayoutAt()` gives, the two
 * clocks at arbitrary phases. Runs a second past the last frame.
 */
function call(o: CallOptions) {
  const sim = new Sim();
  const make = (self: MediaEndpoint, remote: MediaEndpoint, hz: number, ssrc: number): Side => ({
    p: new MediaPipeline({
      remote,
      rtp: { ssrc, sequence: SEQ0, timestamp: TS0 },
      ...o.pipeline,
    }),
    self,
    hz,
    played: [],
    sent: [],
    keys: [],
  });
  const alice = make(ALICE, BOB, 440, 0xa11ce);
  const bob = make(BOB, ALICE, 1000, 0xb0b);
  const net = { delayMs: 1, ...o.net };
  const wire = new Map([
    [alice, new Impairment({ ...net, seed: (net.seed ?? 1) * 2 })],
    [bob, new Impairment({ ...net, seed: (net.seed ?? 1) * 2 + 1 })],
  ]);
  for (const [who, from, to, phase] of [
    ['alice', alice, bob, 0.4],
    ['bob', bob, alice, 13.1],
  ] as const) {
    for (let k = 0; k < o.frames; k++) {
      sim.at(k * F + phase, () => {
        o.beforeCapture?.(who, k, from);
        for (const datagram of from.p.captureFrame(toneFrame(from.hz, k), sim.now)) {
          from.sent.push(datagram);
          for (const delay of wire.get(from)!.next()) {
            sim.at(sim.now + delay, () => {
              const r = to.p.receive(datagram, from.self, sim.now);
              if (r.dtmf) to.keys.push(r.dtmf);
            });
          }
        }
      });
    }
    // Playout clocks start at arbitrary phases; the pipeline moves them.
    const tick = (t: number) => {
      const pcm = to.p.playoutFrame(t);
      to.played.push({ pcm, kind: to.p.lastPlayout.kind, ts: to.p.lastPlayout.timestamp });
      sim.at(to.p.nextPlayoutAt(t), () => tick(sim.now));
    };
    sim.at(phase + 7.7, () => tick(sim.now));
  }
  sim.run(o.frames * F + (o.tailMs ?? 1000));
  return { alice, bob, wire };
}

/** Frame index of an RTP timestamp of the simulated senders. */
const indexOf = (ts: number) => ((ts - TS0) >>> 0) / 960;

/** The played slots from the first decoded frame up to the decoded frame of `last`. */
function span(played: Played[], last: number): Played[] {
  const first = played.findIndex((x) => x.kind === 'frame');
  const end = played.findIndex((x) => x.kind === 'frame' && indexOf(x.ts) === last);
  return first < 0 || end < 0 ? [] : played.slice(first, end + 1);
}

function longestRun(slots: Played[], kind: Played['kind']): number {
  let run = 0;
  let longest = 0;
  for (const s of slots) {
    run = s.kind === kind ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

/** The dominant frequency of a second of the slots, from the middle. */
function toneOf(slots: Played[]): number {
  const mid = Math.floor(slots.length / 2);
  return dominantFrequency(Buffer.concat(slots.slice(mid - 25, mid + 25).map((s) => s.pcm)), RATE);
}

test('captureFrame: one Opus RTP packet per frame [M-1]', (t) => {
  const p = new MediaPipeline({ remote: BOB, rtp: { ssrc: 7, sequence: 65535, timestamp: 5 } });
  const packets = [0, 1, 2].map((k) => p.captureFrame(toneFrame(440, k), k * F));
  t.true(packets.every((d) => d.length === 1));
  const parsed = packets.map((d) => parseRtp(d[0]!)!);
  t.deepEqual(
    parsed.map((r) => [r.payloadType, r.ssrc, r.sequence, r.timestamp, r.marker]),
    [
      [111, 7, 65535, 5, true],
      [111, 7, 0, 965, false],
      [111, 7, 1, 1925, false],
    ],
  );
  t.like(p.stats(), { packetsSent: 3, bytesSent: packets.reduce((n, d) => n + d[0]!.length, 0) });
  t.throws(() => p.captureFrame(Buffer.alloc(100), 60), { instanceOf: RangeError });
});

test('a new pipeline is a new leg: random SSRC, sequence and timestamp [M-1]', (t) => {
  const heads = [0, 1, 2].map(() => {
    const p = new MediaPipeline({ remote: BOB });
    const r = parseRtp(p.captureFrame(toneFrame(440, 0), 0)[0]!)!;
    return `${r.ssrc}/${r.sequence}/${r.timestamp}`;
  });
  t.is(new Set(heads).size, 3);
});

test('playoutFrame yields exactly one frame every time: silence before the stream', (t) => {
  const p = new MediaPipeline({ remote: BOB });
  for (let k = 0; k < 3; k++) {
    const pcm = p.playoutFrame(k * F);
    t.is(pcm.length, 1920);
    t.true(pcm.every((b) => b === 0));
    t.deepEqual(p.lastPlayout, { kind: 'silence', timestamp: -1 });
  }
  const p10 = new MediaPipeline({ remote: BOB, frameMs: 10 });
  t.is(p10.playoutFrame(0).length, 960);
});

test('loopback: each side plays the tone of the other, both directions at once', (t) => {
  const { alice, bob } = call({ frames: 150 });
  for (const [side, peer] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    const slots = span(side.played, 149);
    // Every frame played once, in order, nothing concealed: a clean network.
    t.deepEqual(
      slots.map((s) => indexOf(s.ts)),
      Array.from({ length: 150 }, (_, i) => i),
    );
    t.is(toneOf(slots), peer.hz);
    t.like(side.p.stats(), { received: 150, lost: 0, late: 0, duplicates: 0, wrongSource: 0 });
    t.true(slots.every((s) => s.pcm.length === 1920));
  }
});

test('impaired network (5 % loss, 20 ms jitter, reordering, duplicates): continuous output, length kept', (t) => {
  const net = { seed: 5, loss: 0.05, jitterMs: 20, reorder: 0.03, duplicate: 0.02, delayMs: 1 };
  const frames = 1000;
  // The buffer starts at the depth this network needs (80 ms); starting lower, as the
  // default two frames do, it would grow by a conceal per frame of depth it lacks.
  const pipeline = { jitter: { initialDepthMs: 80 } };
  const { alice, bob, wire } = call({ frames, net, pipeline });
  for (const [side, peer] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    const fate = wire.get(peer)!.counts;
    // The seed delivers the last frame; the first few may be lost or overtaken.
    const slots = span(side.played, frames - 1);
    const first = indexOf(slots[0]!.ts);
    t.true(first <= 3, `starts at frame ${first}`);
    t.true(Math.abs(slots.length - (frames - first)) <= 1, `${slots.length} slots`);
    t.false(
      slots.some((s) => s.kind === 'silence'),
      'no gap of silence: losses are concealed',
    );
    t.true(longestRun(slots, 'conceal') <= 4, `conceal run ${longestRun(slots, 'conceal')}`);
    t.is(toneOf(slots), peer.hz);
    const s = side.p.stats();
    t.is(s.duplicates, fate.duplicated);
    t.true(
      Math.abs(s.lost - fate.lost) <= 2,
      `lost ${s.lost}, dropped by the network ${fate.lost}`,
    );
    t.true(s.late < 0.01 * s.received, `late ${s.late} of ${s.received}`);
    t.true(s.concealed >= s.lost, 'every loss concealed');
  }
});

test('DTMF end to end: one key on the other side, audio muted while it goes out', (t) => {
  const { alice, bob } = call({
    frames: 100,
    net: { seed: 3, duplicate: 0.3, jitterMs: 5 },
    beforeCapture: (who, k, side) => {
      if (who === 'alice' && k === 40) side.p.pressKey('7');
    },
  });
  t.deepEqual(bob.keys, ['7']);
  t.deepEqual(alice.keys, []);
  // Alice's wire: audio up to frame 39, seven event packets (five updates, the end thrice)
  // in place of audio, then audio again with the marker bit of a new talkspurt.
  const sent = alice.sent.map((d) => parseRtp(d)!);
  t.deepEqual(
    sent.slice(38, 49).map((r) => r.payloadType),
    [111, 111, 101, 101, 101, 101, 101, 101, 101, 111, 111],
  );
  t.true(sent[47]!.marker);
  t.is(sent[47]!.timestamp, (TS0 + 47 * 960) >>> 0, 'audio resumes in step');
  t.like(alice.p.stats(), { dtmfSent: 1, packetsSent: 100 });
  // Bob lost nothing (the event packets count as received) and played a conceal in
  // each of the event's slots: the output keeps its length.
  const slots = span(bob.played, 99);
  t.is(slots.length, 100);
  t.like(bob.p.stats(), { dtmfReceived: 1, lost: 0 });
  t.deepEqual(
    slots.slice(40, 47).map((s) => s.kind),
    new Array(7).fill('conceal'),
  );
});

test('[M-2] datagrams from another source and packets that are not RTP are dropped and counted', (t) => {
  const p = new MediaPipeline({ remote: BOB });
  const rtp = (pt: number, seq: number) =>
    encodeRtp({
      version: 2,
      padding: false,
      marker: false,
      payloadType: pt,
      sequence: seq,
      timestamp: seq * 960,
      ssrc: 9,
      csrcs: [],
      payload: Buffer.from([0xf8, 0xff, 0xfe]),
    });
  t.deepEqual(p.receive(rtp(111, 1), { address: BOB.address, port: 6007 }, 0), {});
  p.receive(rtp(111, 2), { address: '192.0.2.3', port: BOB.port }, 1);
  t.like(p.stats(), { wrongSource: 2, received: 0 });
  // Not RTP: too short, version 1, RTCP (PT 200 reads as RTP PT 72), CSRCs past the end.
  const v1 = rtp(111, 3);
  v1[0] = 0x40;
  const rtcp = Buffer.from('80c8000600000009', 'hex');
  const cc = rtp(111, 4).subarray(0, 14);
  cc[0] = 0x82;
  for (const bad of [Buffer.alloc(0), Buffer.from('8000', 'hex'), v1, rtcp, cc]) {
    p.receive(bad, BOB, 2);
  }
  t.like(p.stats(), { invalid: 5, received: 0, lost: 0 });
  // Another payload type is RTP from the right place: received, counted apart.
  p.receive(rtp(13, 5), BOB, 3);
  t.like(p.stats(), { unknownPayload: 1, received: 1 });
  // An IPv4 source reported by a dual-stack socket is the same source.
  p.receive(rtp(111, 6), { address: `::ffff:${BOB.address}`, port: BOB.port }, 4);
  t.like(p.stats(), { received: 2, wrongSource: 2 });
});

test('a packet the decoder refuses is concealed and counted', (t) => {
  const alice = new MediaPipeline({ remote: BOB, rtp: { sequence: 0, timestamp: 0, ssrc: 1 } });
  const bob = new MediaPipeline({ remote: ALICE });
  for (let k = 0; k < 10; k++) {
    let d = alice.captureFrame(toneFrame(440, k), k * F)[0]!;
    if (k === 5) d = Buffer.concat([d.subarray(0, 12), Buffer.from([0xfb, 0x00, 0x00])]);
    bob.receive(d, ALICE, k * F + 1);
  }
  const kinds = Array.from({ length: 12 }, (_, k) => {
    t.is(bob.playoutFrame(60 + k * F).length, 1920);
    return bob.lastPlayout.kind;
  });
  t.deepEqual(kinds.slice(kinds.indexOf('frame'), kinds.indexOf('frame') + 10), [
    'frame',
    'frame',
    'frame',
    'frame',
    'frame',
    'conceal',
    'frame',
    'frame',
    'frame',
    'frame',
  ]);
  t.is(bob.stats().decodeErrors, 1);
});

test('nextPlayoutAt: ticks just after most arrivals; at once before the first frame, then gliding', (t) => {
  const sender = new MediaPipeline({ remote: BOB });
  const p = new MediaPipeline({ remote: ALICE, playoutGuardMs: 2 });
  t.is(p.nextPlayoutAt(100), 120, 'no packet yet: one frame on');
  // Packets sent every 20 ms arrive 5 ms after each multiple of 20, one in ten 15 ms late:
  // the ticks belong at 7 past (5 + the 2 ms guard), 12 past before the first frame.
  for (let k = 0; k < 50; k++) {
    p.receive(sender.captureFrame(toneFrame(440, k), k * F)[0]!, ALICE, k * F + (k % 10 ? 5 : 20));
  }
  t.deepEqual(
    [p.nextPlayoutAt(1019), p.nextPlayoutAt(1031.5)],
    [1032, 1052],
    'silence: next point',
  );
  p.playoutFrame(1000);
  t.is(p.lastPlayout.kind, 'frame');
  // Playing: +8 wanted, +5 allowed per tick.
  const ticks = [1019];
  for (let i = 0; i < 4; i++) ticks.push(p.nextPlayoutAt(ticks[ticks.length - 1]!));
  t.deepEqual(ticks, [1019, 1044, 1067, 1087, 1107]);
});

test('stats: bitrates over the last second, jitter buffer gauges', (t) => {
  let during: MediaStats | undefined;
  const { alice } = call({
    frames: 150,
    tailMs: 2500,
    beforeCapture: (who, k, side) => {
      if (who === 'alice' && k === 140) during = side.p.stats();
    },
  });
  const s = during!;
  t.true(s.bitrate > 8000 && s.bitrate < 40000, `received ${s.bitrate} bit/s`);
  t.true(s.sendBitrate > 8000 && s.sendBitrate < 40000, `sent ${s.sendBitrate} bit/s`);
  t.true(s.targetMs >= 20 && s.depthMs >= 20 && s.jitterMs >= 0);
  // Two seconds after the call the rates have fallen to nothing.
  t.like(alice.p.stats(), { bitrate: 0, sendBitrate: 0, packetsSent: 150 });
});
