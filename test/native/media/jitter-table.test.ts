// The C jitter buffer (native/media/src/jitter.c) on its own: one table row or test per
// behaviour of device/media/jitter/buffer.ts' file comment, the expectations of the TS's
// own tests (test/device/media/jitter/buffer.test.ts); jitter.test.ts runs the two side by side.
import test from 'ava';
import {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterStats,
} from '../../../device/media/jitter/buffer.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { MAX_PAYLOAD, native } from './jitter-harness.ts';

const show = (x: unknown) => JSON.stringify(x);

test('the constructors refuse what the TS refuses, and options the C types cannot hold', (t) => {
  for (const o of [{ frameMs: 0 }, { frameMs: 20, clockRate: 44101 }, { clockRate: -1 }]) {
    t.throws(() => new JitterBuffer(o), { instanceOf: RangeError });
    t.throws(() => new native.Jitter(o), { instanceOf: RangeError });
  }
  t.throws(() => new native.Jitter({ maxDepthMs: Number.POSITIVE_INFINITY }), {
    instanceOf: RangeError,
  });
  t.throws(() => new native.Jitter({ windowMs: Number.NaN }), { instanceOf: RangeError });
  t.throws(() => new native.Jitter({ isQuiet: () => true }), { instanceOf: TypeError });
  const jb = new native.Jitter();
  t.throws(() => jb.push(65536, 0, Buffer.alloc(3), 0), { instanceOf: RangeError });
  t.throws(() => jb.push(1, -1, Buffer.alloc(3), 0), { instanceOf: RangeError });
  t.throws(() => jb.push(1, 0, 'x' as unknown as Buffer, 0), { instanceOf: TypeError });
});

const F = 20;
const SAMPLES = 960;
type Token = number | 'C' | '-';
interface Arrival {
  i: number;
  t: number;
  seq?: number;
  ts?: number;
  ssrc?: number;
  len?: number;
}
const steady = (n: number, from = 0): Arrival[] =>
  Array.from({ length: n }, (_, k) => ({ i: from + k, t: (from + k) * F + 5 }));
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);

/** Pops every 20 ms from t = 0, pushing each arrival before the first pop at or after it. */
function run(arrivals: Arrival[], until = 600, options?: JitterBufferOptions) {
  const jb = new native.Jitter(options);
  const queue = [...arrivals].sort((a, b) => a.t - b.t);
  const out: Token[] = [];
  const results: string[] = [];
  let k = 0;
  for (let now = 0; now <= until; now += F) {
    while (k < queue.length && queue[k]!.t <= now) {
      const a = queue[k++]!;
      const payload = Buffer.alloc(a.len ?? 4);
      if (payload.length >= 4) payload.writeUInt32BE(a.i);
      else if (payload.length === 2) payload.writeUInt16BE(a.i);
      results.push(jb.push(a.seq ?? a.i, a.ts ?? a.i * SAMPLES, payload, a.t, a.ssrc ?? 1));
    }
    const r = jb.pop(now);
    const index =
      r.kind === 'frame'
        ? r.payload.length >= 4
          ? r.payload.readUInt32BE(0)
          : r.payload.readUInt16BE(0)
        : 0;
    out.push(r.kind === 'frame' ? index : r.kind === 'conceal' ? 'C' : '-');
  }
  const first = out.findIndex((x) => typeof x === 'number');
  let last = out.length - 1;
  while (last >= 0 && typeof out[last] !== 'number') last--;
  return { out, played: first < 0 ? [] : out.slice(first, last + 1), stats: jb.stats(), results };
}

interface Row {
  arrivals: Arrival[];
  until?: number;
  options?: JitterBufferOptions;
  /** The output from the first frame to the last. */
  played?: Token[];
  /** The frames alone, in order. */
  frames?: number[];
  stats: Partial<JitterStats>;
  /** push() answers from the fifth packet on. */
  results?: string[];
}
const restarted = (patch: (a: Arrival) => Arrival) => [...steady(5), ...steady(10, 5).map(patch)];
const table: Array<[string, Row]> = [
  ['timeline: in order', { arrivals: steady(10), played: range(0, 10), stats: { lost: 0 } }],
  [
    'timeline: a lost packet is a conceal in its slot',
    {
      arrivals: steady(10).filter((a) => a.i !== 4),
      played: [0, 1, 2, 3, 'C', 5, 6, 7, 8, 9],
      stats: { lost: 1 },
    },
  ],
  [
    'packets: reordered within the depth',
    {
      arrivals: steady(10).map((a) => (a.i === 3 ? { i: 3, t: 95 } : a)),
      played: range(0, 10),
      stats: { late: 0, lost: 0 },
    },
  ],
  [
    'packets: duplicates before and after their slot',
    {
      arrivals: [...steady(10), { i: 5, t: 112 }, { i: 2, t: 200 }],
      played: range(0, 10),
      stats: { duplicates: 2, received: 12 },
    },
  ],
  [
    'packets: late, its slot given up',
    {
      arrivals: steady(10).map((a) => (a.i === 6 ? { i: 6, t: 225 } : a)),
      played: [0, 1, 2, 3, 4, 5, 'C', 7, 8, 9],
      stats: { late: 1, lost: 0 },
    },
  ],
  [
    'packets: sequence and timestamp wrap',
    {
      arrivals: steady(10).map((a) => ({
        ...a,
        seq: (65533 + a.i) & 0xffff,
        ts: (2 ** 32 - 2 * SAMPLES + a.i * SAMPLES) >>> 0,
      })),
      played: range(0, 10),
      stats: { lost: 0 },
    },
  ],
  [
    'packets: a new SSRC restarts at once',
    {
      arrivals: restarted((a) => ({ ...a, ssrc: 2, seq: 40000 + a.i, ts: 9e8 + a.i * SAMPLES })),
      frames: [0, 1, 2, ...range(5, 15)],
      stats: { resets: 1, lost: 0 },
      results: ['ok', 'reset', 'ok'],
    },
  ],
  [
    'packets: a confirmed sequence jump restarts',
    {
      arrivals: restarted((a) => ({ ...a, seq: 20000 + a.i })),
      frames: [0, 1, 2, 3, ...range(5, 15)],
      stats: { resets: 1, discarded: 0, lost: 0 },
      results: ['ok', 'discarded', 'reset', 'ok'],
    },
  ],
  [
    'packets: a lone stray is discarded',
    {
      arrivals: [...steady(10), { i: 99, t: 87, seq: 30000 }],
      played: range(0, 10),
      stats: { resets: 0, discarded: 1 },
    },
  ],
  [
    'packets: a timestamp jump past the buffer restarts',
    {
      arrivals: restarted((a) => ({ ...a, ts: (a.i + 250) * SAMPLES })),
      frames: [0, 1, 2, ...range(5, 15)],
      stats: { resets: 1, lost: 0 },
      results: ['ok', 'reset', 'ok'],
    },
  ],
  [
    'packets: a payload over JITTER_MAX_PAYLOAD is discarded',
    {
      arrivals: steady(10).map((a) => (a.i === 4 ? { ...a, len: MAX_PAYLOAD + 1 } : a)),
      played: [0, 1, 2, 3, 'C', 5, 6, 7, 8, 9],
      stats: { discarded: 1, received: 10, lost: 1 },
    },
  ],
  [
    'level: a missing slot is dropped first, then a quiet frame',
    {
      arrivals: range(0, 150)
        .filter((i) => i !== 30)
        .map((i) => ({ i, t: i * F - 90, ...(i === 45 ? { len: 2 } : {}) })),
      until: 3200,
      options: { marginMs: 40 },
      played: range(0, 150).filter((i) => i !== 30 && i !== 45),
      stats: { targetMs: 60, dropped: 2, inserted: 0, depthMs: 0 },
    },
  ],
];

for (const [name, row] of table) {
  test(`C buffer: ${name}`, (t) => {
    const r = run(row.arrivals, row.until, row.options);
    if (row.played) t.deepEqual(r.played, row.played);
    if (row.frames)
      t.deepEqual(
        r.played.filter((x) => typeof x === 'number'),
        row.frames,
      );
    if (row.results) t.deepEqual(r.results.slice(4, 4 + row.results.length), row.results);
    t.like(r.stats, row.stats);
  });
}

test('C buffer: depth: start-up waits for the target (60 ms) before the first frame', (t) => {
  const r = run(steady(10));
  t.deepEqual(r.out.slice(0, 5), ['-', '-', '-', 0, 1]);
  t.is(r.stats.targetMs, 60);
});

test('C buffer: underrun: held as conceals, then start-up again after maxUnderrunMs', (t) => {
  const r = run(steady(10), 800);
  const tail = r.out.slice(r.out.lastIndexOf(9) + 1);
  t.deepEqual(tail.slice(0, 10), new Array(10).fill('C'));
  t.true(tail.slice(10).every((x) => x === '-'));
  t.like(r.stats, { underruns: 10 });
  const resumed = run([...steady(10), ...steady(10, 40)], 1200);
  t.deepEqual(resumed.played.slice(-10), range(40, 50));
});

test('C buffer: level: the excess of a burst is worked off within seconds', (t) => {
  const jb = new native.Jitter({ marginMs: 40 });
  const depthAt = new Map<number, number>();
  for (let now = 0, i = 0; now <= 4000; now += F) {
    for (; i < 150 && i * F - 300 <= now; i++)
      jb.push(i, i * SAMPLES, Buffer.alloc(4), i * F - 300);
    depthAt.set(now, jb.stats().depthMs);
    jb.pop(now);
  }
  t.is(depthAt.get(0), 320);
  t.true(depthAt.get(1000)! <= 140 && depthAt.get(2000)! <= 80, show([...depthAt.values()]));
  t.like(jb.stats(), { dropped: 13, inserted: 0, concealed: 10 });
});

test('C buffer: level: a target that rises makes the control insert conceals', (t) => {
  // Five calm seconds (target 40 ms), then 0-80 ms of jitter: the target rises above the
  // level and the control holds the play position, one conceal at a time.
  const rnd = mulberry32(3);
  const arrivals = range(0, 500).map((i) => ({ i, t: i * F + 5 + (i >= 250 ? rnd() * 80 : 0) }));
  const r = run(arrivals, 10_500);
  t.true(r.stats.inserted >= 2, show(r.stats));
  t.true(r.stats.targetMs >= 100, show(r.stats));
  const frames = r.played.filter((x) => typeof x === 'number');
  t.deepEqual(
    frames,
    [...frames].sort((a, b) => a - b),
    'in order',
  );
});

test('C buffer: noteSequence keeps RFC 4733 events out of the loss count', (t) => {
  const jb = new native.Jitter();
  for (const i of range(0, 12).filter((x) => x !== 4 && x !== 5)) {
    jb.push(i, i * SAMPLES, Buffer.alloc(4), i * F);
    if (i === 3) for (const s of [4, 5, 5]) jb.noteSequence(s);
  }
  t.is(jb.stats().lost, 0);
  t.is(run(steady(12).filter((a) => a.i !== 4 && a.i !== 5)).stats.lost, 2);
});
