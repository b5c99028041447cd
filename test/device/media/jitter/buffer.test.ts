import test from 'ava';
import {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterStats,
} from '../../../../device/media/jitter/buffer.ts';
import { mulberry32 } from '../../../helpers/prng.ts';

const F = 20; // ms per frame
const SAMPLES = 960; // RTP timestamp step per frame

/** One packet on the wire: frame `i` of the sender, arriving at `t` ms. */
interface Arrival {
  i: number;
  t: number;
  ssrc?: number;
  seq?: number;
  ts?: number;
}

/** Frame index carried in the payload, so the output can be read back. */
function payloadOf(i: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(i);
  return b;
}

type Token = number | 'C' | '-';

interface RunOptions {
  seq0?: number;
  ts0?: number;
  until?: number;
  jitter?: JitterBufferOptions;
}

/** Pops every 20 ms from t = 0 and pushes each arrival before the first pop at or after it. */
function run(arrivals: Arrival[], o: RunOptions = {}) {
  const { seq0 = 0, ts0 = 0, until = 600 } = o;
  const jb = new JitterBuffer(o.jitter);
  const queue = [...arrivals].sort((a, b) => a.t - b.t);
  const out: Token[] = [];
  const results: string[] = [];
  let k = 0;
  for (let now = 0; now <= until; now += F) {
    while (k < queue.length && queue[k]!.t <= now) {
      const a = queue[k++]!;
      results.push(
        jb.push({
          sequence: a.seq ?? (seq0 + a.i) & 0xffff,
          timestamp: a.ts ?? (ts0 + a.i * SAMPLES) >>> 0,
          payload: payloadOf(a.i),
          arrival: a.t,
          ssrc: a.ssrc ?? 1,
        }),
      );
    }
    const r = jb.pop(now);
    out.push(r.kind === 'frame' ? r.payload.readUInt32BE(0) : r.kind === 'conceal' ? 'C' : '-');
  }
  return { out, played: trim(out), stats: jb.stats(), results };
}

/** The output from the first frame to the last frame (start-up and tail cut off). */
function trim(out: Token[]): Token[] {
  const first = out.findIndex((x) => typeof x === 'number');
  let last = out.length - 1;
  while (last >= 0 && typeof out[last] !== 'number') last--;
  return first < 0 ? [] : out.slice(first, last + 1);
}

/** Frames 0..n-1 sent every 20 ms, arriving 5 ms later. */
function steady(n: number): Arrival[] {
  return Array.from({ length: n }, (_, i) => ({ i, t: i * F + 5 }));
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

// Each row: arrivals, what playback yields from the first frame to the last, statistics.
const scenarios: Array<[string, Arrival[], RunOptions, Token[], Partial<JitterStats>]> = [
  ['in order', steady(10), {}, range(0, 10), { lost: 0, late: 0, duplicates: 0 }],
  [
    'reordered within the depth',
    steady(10).map((a) => (a.i === 3 ? { i: 3, t: 4 * F + 15 } : a)),
    {},
    range(0, 10),
    { late: 0, lost: 0 },
  ],
  [
    'duplicates, before and after their slot',
    [...steady(10), { i: 5, t: 5 * F + 12 }, { i: 2, t: 200 }],
    {},
    range(0, 10),
    { duplicates: 2, late: 0, received: 12 },
  ],
  [
    'late: its slot was given up because later packets were there',
    steady(10).map((a) => (a.i === 6 ? { i: 6, t: 6 * F + 105 } : a)),
    {},
    [0, 1, 2, 3, 4, 5, 'C', 7, 8, 9],
    { late: 1, lost: 0 },
  ],
  [
    'one lost',
    steady(10).filter((a) => a.i !== 4),
    {},
    [0, 1, 2, 3, 'C', 5, 6, 7, 8, 9],
    { lost: 1, late: 0 },
  ],
  [
    'loss burst longer than the depth: held once (could be late), then given up',
    steady(10).filter((a) => a.i < 3 || a.i > 5),
    {},
    [0, 1, 2, 'C', 'C', 'C', 'C', 6, 7, 8, 9],
    { lost: 3, late: 0 },
  ],
  ['sequence wrap at 65535', steady(10), { seq0: 65532 }, range(0, 10), { lost: 0 }],
  [
    'loss across the sequence wrap',
    steady(10).filter((a) => a.i !== 4),
    { seq0: 65532 },
    [0, 1, 2, 3, 'C', 5, 6, 7, 8, 9],
    { lost: 1 },
  ],
  ['timestamp wrap at 2^32', steady(10), { ts0: 2 ** 32 - 5 * SAMPLES }, range(0, 10), { lost: 0 }],
  [
    'both wrap, with reordering and a loss',
    steady(10)
      .filter((a) => a.i !== 6)
      .map((a) => (a.i === 2 ? { i: 2, t: 3 * F + 9 } : a)),
    { seq0: 65533, ts0: 2 ** 32 - 2 * SAMPLES },
    [0, 1, 2, 3, 4, 5, 'C', 7, 8, 9],
    { lost: 1, late: 0 },
  ],
  [
    'start-up: an earlier packet arriving first moves the start back',
    [{ i: 1, t: 5 }, { i: 2, t: 25 }, { i: 0, t: 35 }, ...steady(10).slice(3)],
    {},
    range(0, 10),
    { late: 0 },
  ],
];

for (const [name, arrivals, options, played, stats] of scenarios) {
  test(`scenario: ${name}`, (t) => {
    const r = run(arrivals, options);
    t.deepEqual(r.played, played);
    t.like(r.stats, stats);
  });
}

test('start-up waits for the target depth before the first frame', (t) => {
  const r = run(steady(10));
  // 60 ms initial target: frames 0, 1, 2 must be held (at t = 45) before anything plays.
  t.deepEqual(r.out.slice(0, 5), ['-', '-', '-', 0, 1]);
  t.is(r.stats.targetMs, 60);
});

test('after a long underrun the buffer starts up again: empty, not endless concealment', (t) => {
  const r = run(steady(10), { until: 800 });
  const tail = r.out.slice(r.out.lastIndexOf(9) + 1);
  t.deepEqual(tail.slice(0, 10), new Array(10).fill('C'));
  t.true(tail.slice(10).every((x) => x === '-'));
  // A new talkspurt after the pause plays again after start-up.
  const resumed = run([...steady(10), ...range(40, 50).map((i) => ({ i, t: i * F + 5 }))], {
    until: 1200,
  });
  t.deepEqual(resumed.played.slice(-10), range(40, 50));
});

test('a new SSRC restarts the stream at once', (t) => {
  const b = (i: number) => ({
    i,
    t: i * F + 5,
    ssrc: 2,
    seq: 40000 + i,
    ts: 900_000_000 + i * SAMPLES,
  });
  const r = run([...steady(5), ...range(5, 15).map(b)]);
  t.deepEqual(r.results.slice(4, 7), ['ok', 'reset', 'ok']);
  t.deepEqual(
    r.played.filter((x) => typeof x === 'number'),
    [0, 1, 2, ...range(5, 15)],
  );
  t.like(r.stats, { resets: 1, lost: 0, late: 0 });
});

test('a sequence jump restarts the stream once the next packet confirms it', (t) => {
  const jump = (i: number) => ({ i, t: i * F + 5, seq: 20000 + i });
  const r = run([...steady(5), ...range(5, 15).map(jump)]);
  t.deepEqual(r.results.slice(4, 8), ['ok', 'discarded', 'reset', 'ok']);
  t.deepEqual(r.played.slice(-10), range(5, 15));
  t.like(r.stats, { resets: 1, discarded: 0, lost: 0 });
});

test('a lone stray sequence number is discarded and the stream goes on', (t) => {
  const r = run([...steady(10), { i: 99, t: 4 * F + 7, seq: 30000 }]);
  t.deepEqual(r.played, range(0, 10));
  t.like(r.stats, { resets: 0, discarded: 1, lost: 0 });
});

test('a timestamp jump past the buffer with an ordinary sequence number restarts it', (t) => {
  const later = (i: number) => ({ i, t: i * F + 5, ts: (i + 250) * SAMPLES });
  const r = run([...steady(5), ...range(5, 15).map(later)]);
  t.is(r.results[5], 'reset');
  t.deepEqual(r.played.slice(-10), range(5, 15));
  t.like(r.stats, { resets: 1, lost: 0 });
});

test('noteSequence keeps RFC 4733 events out of the loss count', (t) => {
  const audio = steady(12).filter((a) => a.i !== 4 && a.i !== 5);
  const jb = new JitterBuffer();
  for (const a of audio) {
    jb.push({ sequence: a.i, timestamp: a.i * SAMPLES, payload: payloadOf(a.i), arrival: a.t });
    if (a.i === 3) {
      jb.noteSequence(4);
      jb.noteSequence(5);
      jb.noteSequence(5);
    }
  }
  t.is(jb.stats().lost, 0);
  t.is(run(audio).stats.lost, 2);
});

test('interarrival jitter (RFC 3550): 0 for constant transit, ~10 ms for alternating 0/10', (t) => {
  t.is(run(steady(50), { until: 1200 }).stats.jitterMs, 0);
  const alternating = range(0, 200).map((i) => ({ i, t: i * F + (i % 2) * 10 }));
  const j = run(alternating, { until: 4200 }).stats.jitterMs;
  t.true(Math.abs(j - 10) < 0.01, `jitter ${j}`);
});

test('the target follows the jitter, within one frame and 200 ms', (t) => {
  const rnd = mulberry32(7);
  const jb = new JitterBuffer({ marginMs: 0 });
  let i = 0;
  const phase = (seconds: number, jitterMs: number) => {
    const end = i + (seconds * 1000) / F;
    let maxDepth = 0;
    for (; i < end; i++) {
      const arrival = i * F + rnd() * jitterMs;
      jb.push({ sequence: i & 0xffff, timestamp: i * SAMPLES, payload: payloadOf(i), arrival });
      jb.pop(i * F + 1000);
      maxDepth = Math.max(maxDepth, jb.depthMs);
    }
    return { target: jb.targetMs, maxDepth };
  };
  t.is(phase(15, 0).target, 20, 'no jitter, no margin: one frame');
  const jittery = phase(5, 100).target;
  t.true(jittery >= 100 && jittery <= 140, `target ${jittery} for 100 ms jitter`);
  const wild = phase(5, 1000);
  t.is(wild.target, 200, 'never more than 200 ms');
  t.true(wild.maxDepth <= 2 * 200 + F, `depth ${wild.maxDepth}`);
  t.is(phase(30, 0).target, 20, 'and back down once the network is calm');
});

test('level control drops a missing slot first, then a quiet frame', (t) => {
  // Every packet arrives 90 ms early and the target stays at 60 ms: two frames too many.
  const arrivals = range(0, 150)
    .filter((i) => i !== 30)
    .map((i) => ({ i, t: i * F - 90 }));
  const r = run(arrivals, {
    until: 3200,
    jitter: { marginMs: 40, isQuiet: (p) => p.readUInt32BE(0) === 45 },
  });
  // The drops wait for a slot that costs nothing: the missing 30, then the quiet 45.
  t.false(r.played.includes('C'), 'the missing slot 30 was dropped, never concealed');
  t.deepEqual(
    r.played,
    range(0, 150).filter((i) => i !== 30 && i !== 45),
  );
  t.like(r.stats, { targetMs: 60, dropped: 2, inserted: 0, depthMs: 0 });
});

test('level control: the excess a burst leaves is worked off within seconds', (t) => {
  // 300 ms early: thirteen frames above target, and no missing or quiet slot to wait for.
  const jb = new JitterBuffer({ marginMs: 40 });
  const depthAt = new Map<number, number>();
  for (let now = 0, i = 0; now <= 4000; now += F) {
    for (; i < 150 && i * F - 300 <= now; i++) {
      jb.push({ sequence: i, timestamp: i * SAMPLES, payload: payloadOf(i), arrival: i * F - 300 });
    }
    depthAt.set(now, jb.depthMs);
    jb.pop(now);
  }
  t.is(depthAt.get(0), 320);
  t.true(depthAt.get(1000)! <= 140, `${depthAt.get(1000)} ms after a second`);
  t.true(depthAt.get(2000)! <= 80, `${depthAt.get(2000)} ms after two seconds`);
  t.like(jb.stats(), { dropped: 13, inserted: 0, concealed: 10 /* the tail */ });
});

/** Sender frames with loss, uniform jitter, reordering and duplicates, in arrival order. */
function impaired(seed: number, n: number, sendMs: number, loss: number, jitter: number) {
  const rnd = mulberry32(seed);
  const arrivals: Arrival[] = [];
  const sent: number[] = [];
  let dups = 0;
  for (let i = 0; i < n; i++) {
    if (rnd() < loss) continue;
    sent.push(i);
    let t = i * sendMs + 5 + rnd() * jitter;
    if (rnd() < 0.03) t += F * (1 + rnd()); // overtaken by the next one or two
    arrivals.push({ i, t });
    if (rnd() < 0.02) {
      arrivals.push({ i, t: t + rnd() * 30 });
      dups++;
    }
  }
  arrivals.sort((a, b) => a.t - b.t);
  const first = sent[0]!;
  const lastSent = sent[sent.length - 1]!;
  // RFC 3550 counts losses between the first and the highest sequence number received.
  return { arrivals, dups, lastSent, lost: lastSent - first + 1 - sent.length };
}

/**
 * Plays `arrivals` against a playback clock of exactly 20 ms, from the first frame out
 * until the last frame sent is out: the number of output slots (frames and conceals), the
 * longest run of conceals, the largest depth.
 */
function playback(arrivals: Arrival[], lastSent: number, jb: JitterBuffer) {
  let k = 0;
  let slots = 0;
  let run = 0;
  let longestRun = 0;
  let maxDepth = 0;
  const end = arrivals[arrivals.length - 1]!.t + 1000;
  for (let now = 3.3; now < end; now += F) {
    while (k < arrivals.length && arrivals[k]!.t <= now) {
      const a = arrivals[k++]!;
      jb.push({
        sequence: (50000 + a.i) & 0xffff,
        timestamp: (4_000_000_000 + a.i * SAMPLES) >>> 0,
        payload: payloadOf(a.i),
        arrival: a.t,
      });
    }
    const r = jb.pop(now);
    if (r.kind === 'empty') continue;
    slots++;
    maxDepth = Math.max(maxDepth, jb.depthMs);
    if (r.kind === 'conceal') {
      longestRun = Math.max(longestRun, ++run);
      continue;
    }
    run = 0;
    if (r.payload.readUInt32BE(0) === lastSent) break;
  }
  return { slots, longestRun, maxDepth };
}

test('impaired network (5 % loss, 20 ms jitter, reordering, duplicates): output tracks input', (t) => {
  const { arrivals, lost, dups, lastSent } = impaired(0xc0ffee, 3000, F, 0.05, 20); // a minute
  const jb = new JitterBuffer();
  const r = playback(arrivals, lastSent, jb);
  const s = jb.stats();
  t.true(Math.abs(r.slots - (lastSent + 1)) <= 1, `${r.slots} slots for ${lastSent + 1} frames`);
  t.true(s.late < 0.01 * s.received, `late ${s.late} of ${s.received}`);
  t.is(s.duplicates, dups);
  t.is(s.lost, lost);
  t.true(s.jitterMs > 3 && s.jitterMs < 15, `jitter ${s.jitterMs}`);
  t.true(r.maxDepth <= 120, `depth ${r.maxDepth}`);
});

for (const ppm of [200, -200]) {
  test(`an hour of ${ppm > 0 ? '+' : ''}${ppm} ppm clock drift: bounded depth, no steady underrun`, (t) => {
    const n = 180_000; // an hour of 20 ms frames
    // The sender's sound card runs fast (+) or slow (-) against the playback clock, on a
    // network with 1 % loss, 10 ms jitter, reordering and duplicates.
    const sendMs = F * (1 - ppm * 1e-6);
    const { arrivals, lastSent } = impaired(ppm + 1000, n, sendMs, 0.01, 10);
    const jb = new JitterBuffer();
    const r = playback(arrivals, lastSent, jb);
    const s = jb.stats();
    // 200 ppm of an hour is 720 ms: 36 frames to take out (fast sender) or put in (slow).
    const drift = Math.round(ppm * 1e-6 * n);
    t.true(Math.abs(r.slots - (lastSent + 1 - drift)) <= 2, `${r.slots} slots`);
    const removed = s.dropped - s.inserted - s.underruns;
    t.true(Math.abs(removed - drift) <= 2, `${JSON.stringify(s)}`);
    t.true(s.underruns <= 20, `${s.underruns} underruns`);
    t.true(r.longestRun <= 4, `longest run of conceals ${r.longestRun}`);
    t.true(r.maxDepth <= 120, `depth reached ${r.maxDepth} ms`);
    t.is(s.targetMs, 60);
    t.true(s.late < 0.001 * s.received, `late ${s.late}`);
  });
}

test('rejects a frame size that is not a whole number of samples', (t) => {
  t.throws(() => new JitterBuffer({ frameMs: 0 }), { instanceOf: RangeError });
  t.throws(() => new JitterBuffer({ frameMs: 20, clockRate: 44101 }), { instanceOf: RangeError });
});
