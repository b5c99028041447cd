// The C jitter buffer and transit percentile (native/media/src/jitter.c, transit.c) against
// their specification, the TypeScript ones (device/media/jitter/): seeded traces run through
// both side by side, every answer and every statistic compared exactly after every step.
// jitter-table.test.ts has the C buffer on its own.
import test, { type ExecutionContext } from 'ava';
import {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterPop,
  type JitterStats,
} from '../../../device/media/jitter/buffer.ts';
import { TransitPercentile } from '../../../device/media/jitter/estimator.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import {
  chaos,
  MAX_PAYLOAD,
  native,
  type Op,
  type Trace,
  type TransitOptions,
  trace,
} from './jitter-harness.ts';

// biome-ignore format: a list
const STATS: Array<keyof JitterStats> = [
  'received', 'lost', 'late', 'concealed', 'duplicates', 'discarded', 'dropped', 'inserted',
  'underruns', 'resets', 'jitterMs', 'depthMs', 'targetMs',
];

const show = (x: unknown) =>
  JSON.stringify(x, (_k, v) =>
    v?.type === 'Buffer'
      ? `<${v.data.length} bytes ${Buffer.from(v.data).toString('hex').slice(0, 16)}>`
      : v,
  );

function samePop(a: JitterPop, b: JitterPop): boolean {
  if (a.kind !== 'frame' || b.kind !== 'frame') return a.kind === b.kind;
  return a.sequence === b.sequence && a.timestamp === b.timestamp && a.payload.equals(b.payload);
}

/**
 * Runs `ops` through both buffers; fails at the first difference with the step and both
 * answers. A payload over MAX_PAYLOAD goes to the C buffer only (its one departure: counted
 * received and discarded, otherwise as if it never came). Returns the tally of answers.
 */
function differential(t: ExecutionContext, ops: Op[], options?: JitterBufferOptions) {
  const ts = new JitterBuffer(options);
  const c = new native.Jitter(options);
  const tally: Record<string, number> = {};
  let oversize = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    let a: unknown;
    let b: unknown;
    let same = true;
    if (op.op === 'push') {
      b = c.push(op.seq, op.ts, op.payload, op.arrival, op.ssrc);
      if (op.payload.length > MAX_PAYLOAD) {
        a = 'discarded';
        oversize++;
      } else {
        const p = { sequence: op.seq, timestamp: op.ts, payload: op.payload, arrival: op.arrival };
        a = ts.push(op.ssrc === undefined ? p : { ...p, ssrc: op.ssrc });
      }
      same = a === b;
    } else if (op.op === 'note') {
      ts.noteSequence(op.seq);
      c.noteSequence(op.seq);
    } else {
      a = ts.pop(op.now);
      b = c.pop(op.now);
      same = samePop(a as JitterPop, b as JitterPop);
      a = (a as JitterPop).kind;
    }
    const sa = { ...ts.stats() };
    sa.received += oversize;
    sa.discarded += oversize;
    const sb = c.stats();
    if (same) same = STATS.every((k) => Object.is(sa[k], sb[k]));
    if (!same) {
      const differs = STATS.filter((k) => !Object.is(sa[k], sb[k])).join(', ') || 'the answer';
      t.fail(
        `step ${i} of ${ops.length}, ${show(op)}, differs in ${differs}:\n  TS ${show(a)} ${show(sa)}\n  C  ${show(b)} ${show(sb)}`,
      );
      return { tally, stats: sb, ok: false };
    }
    const key = typeof a === 'string' ? a : op.op;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  t.pass();
  return { tally, stats: c.stats(), ok: true };
}

const NON_DEFAULT: JitterBufferOptions = {
  minDepthMs: 30,
  maxDepthMs: 300,
  initialDepthMs: 80,
  marginMs: 5,
  windowMs: 4000,
  maxUnderrunMs: 300,
  maxDropWaitMs: 400,
};
const IMPAIRED = { loss: 0.05, reorder: 0.03, dup: 0.02, jitterMs: 20, stall: 0.002, stallMs: 250 };
const INCIDENTS = {
  ssrcChange: [20],
  seqJump: [30],
  stray: [8, 35],
  tsJump: [40],
  outage: [12],
  pause: [50],
};

// [name, trace, options, what the trace must have exercised (final stats, at least)]
const traces: Array<[string, Trace, JitterBufferOptions | undefined, Partial<JitterStats>]> = [
  ['clean, 20 ms', { seed: 1, seconds: 10 }, undefined, { received: 500 }],
  ['clean, 10 ms', { seed: 2, seconds: 10, frameMs: 10 }, { frameMs: 10 }, { received: 1000 }],
  [
    'impaired, 20 ms',
    { seed: 3, seconds: 60, ...IMPAIRED },
    undefined,
    { duplicates: 1, lost: 1, late: 1 },
  ],
  [
    'impaired, 10 ms, other options',
    { seed: 4, seconds: 60, frameMs: 10, ...IMPAIRED },
    { frameMs: 10, ...NON_DEFAULT },
    { duplicates: 1, lost: 1 },
  ],
  [
    '+200 ppm drift, 20 ms',
    { seed: 5, seconds: 120, driftPpm: 200, jitterMs: 10, loss: 0.01 },
    undefined,
    { dropped: 1 },
  ],
  [
    '-200 ppm drift, 10 ms',
    { seed: 6, seconds: 90, frameMs: 10, driftPpm: -200, jitterMs: 10, reorder: 0.01 },
    { frameMs: 10 },
    { inserted: 1 },
  ],
  [
    '+200 ppm drift, DTX and events, 20 ms',
    { seed: 7, seconds: 90, driftPpm: 200, jitterMs: 15, dtx: 0.004, events: 0.004, loss: 0.01 },
    undefined,
    { dropped: 1 },
  ],
  [
    '-200 ppm drift, DTX and events, 10 ms, other options',
    { seed: 8, seconds: 70, frameMs: 10, driftPpm: -200, jitterMs: 8, dtx: 0.003, events: 0.003 },
    { frameMs: 10, ...NON_DEFAULT },
    { inserted: 1 },
  ],
  [
    'incidents, wrap-around, 20 ms',
    { seed: 9, seconds: 60, seq0: 65500, ts0: 2 ** 32 - 3000, jitterMs: 10, ...INCIDENTS },
    undefined,
    { resets: 3, underruns: 1, discarded: 2 },
  ],
  [
    'incidents, wrap-around, 10 ms, other options',
    {
      seed: 10,
      seconds: 60,
      frameMs: 10,
      seq0: 65530,
      ts0: 2 ** 32 - 480,
      ...IMPAIRED,
      ...INCIDENTS,
    },
    { frameMs: 10, ...NON_DEFAULT },
    { resets: 3, underruns: 1 },
  ],
  [
    'no SSRC, stalls past twice the largest level',
    { seed: 11, seconds: 40, noSsrc: true, jitterMs: 30, stall: 0.003, stallMs: 900, dtx: 0.002 },
    undefined,
    { dropped: 1 },
  ],
  [
    '8 kHz clock',
    { seed: 12, seconds: 30, clockRate: 8000, ...IMPAIRED },
    { clockRate: 8000 },
    { lost: 1 },
  ],
  [
    'exact clocks, +1000 ppm drift',
    { seed: 14, seconds: 60, exact: true, driftPpm: 1000 },
    undefined,
    { dropped: 1 },
  ],
  [
    'exact clocks, 10 ms, -200 ppm drift',
    { seed: 15, seconds: 60, frameMs: 10, exact: true, driftPpm: -200 },
    { frameMs: 10 },
    { inserted: 1 },
  ],
  [
    'exact clocks, 25 ms: the target comes down exactly 10 s after the need did',
    { seed: 16, seconds: 20, frameMs: 25, exact: true },
    { frameMs: 25, initialDepthMs: 100 },
    { received: 800 },
  ],
  [
    'exact clocks, stalls, no quiet frames: due drops called off as the level sinks',
    { seed: 21, seconds: 40, exact: true, quiet: 0, stall: 0.01, stallMs: 120, driftPpm: -300 },
    { minDepthMs: 160, maxDropWaitMs: 5000 },
    { dropped: 1, inserted: 1 },
  ],
  [
    'exact clocks, no margin: the target comes down to one frame',
    { seed: 18, seconds: 20, exact: true },
    { marginMs: 0, initialDepthMs: 40 },
    { received: 1000 },
  ],
  [
    'payloads over JITTER_MAX_PAYLOAD',
    { seed: 13, seconds: 10, jitterMs: 5, oversize: [2, 2.02, 5] },
    undefined,
    { discarded: 3 },
  ],
];

for (const [name, tr, options, least] of traces) {
  test(`differential: ${name}`, (t) => {
    const r = differential(t, trace(tr), options);
    if (!r.ok) return;
    for (const [k, v] of Object.entries(least)) {
      t.true(
        r.stats[k as keyof JitterStats] >= v,
        `${k} ${r.stats[k as keyof JitterStats]} < ${v}: ${show(r.stats)}`,
      );
    }
  });
}

test('differential: chaos (anything near the stream), 20 and 10 ms, four options', (t) => {
  const options: Array<JitterBufferOptions | undefined> = [
    undefined,
    NON_DEFAULT,
    { frameMs: 10 },
    { frameMs: 10, ...NON_DEFAULT, maxDepthMs: 100 },
  ];
  for (let seed = 1; seed <= 8; seed++) {
    const o = options[seed % options.length];
    const r = differential(t, chaos(seed, 6000, o?.frameMs ?? 20), o);
    if (!r.ok) return;
    for (const kind of [
      'ok',
      'duplicate',
      'late',
      'reset',
      'discarded',
      'frame',
      'conceal',
      'empty',
    ]) {
      t.true((r.tally[kind] ?? 0) > 0, `seed ${seed}: no '${kind}' in ${show(r.tally)}`);
    }
  }
});

test('differential: random networks, random options', (t) => {
  for (let seed = 100; seed < 160; seed++) {
    const rnd = mulberry32(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const frameMs = pick([10, 20, 20, 40]);
    const tr: Trace = {
      seed,
      seconds: 20,
      frameMs,
      loss: pick([0, 0.01, 0.1]),
      reorder: pick([0, 0.02, 0.1]),
      dup: pick([0, 0.05]),
      jitterMs: pick([0, 5, 30, 120]),
      stall: pick([0, 0.005]),
      stallMs: pick([100, 400, 1200]),
      driftPpm: pick([0, 300, -300, 3000, -3000]),
      dtx: pick([0, 0.005]),
      events: pick([0, 0.01]),
      exact: rnd() < 0.3,
    };
    const options: JitterBufferOptions = { frameMs };
    if (rnd() < 0.5)
      Object.assign(options, { marginMs: pick([0, 5, 40]), maxDropWaitMs: pick([0, 200, 3000]) });
    if (rnd() < 0.5)
      Object.assign(options, {
        minDepthMs: pick([0, 40]),
        maxDepthMs: pick([60, 400]),
        initialDepthMs: pick([20, 100]),
      });
    if (rnd() < 0.5)
      Object.assign(options, { windowMs: pick([500, 3000]), maxUnderrunMs: pick([0, 60, 1000]) });
    if (!differential(t, trace(tr), options).ok) {
      t.log(`seed ${seed}: ${show(tr)} ${show(options)}`);
      return;
    }
  }
});

test('differential: TransitPercentile with drift, an SSRC change, a reset jump, wrap-around', (t) => {
  const cases: Array<[number, TransitOptions | undefined]> = [
    [0.05, undefined],
    [0.5, {}],
    [0.95, { clockRate: 8000, startPackets: 4, stepMs: 0.25, resetMs: 500 }],
    [0.3, { startPackets: 0 }],
  ];
  for (const [q, options] of cases) {
    const rnd = mulberry32(Math.round(q * 100));
    const a = new TransitPercentile(q, options);
    const b = new native.Transit(q, options);
    const samples = ((options?.clockRate ?? 48000) * 20) / 1000;
    const resetMs = options?.resetMs ?? 2000;
    const msPerTick = 1000 / (options?.clockRate ?? 48000);
    let ssrc = 7;
    let ts = 2 ** 32 - 50 * samples;
    let start = 0; // the timestamp the estimate last started over from
    for (let i = 0; i < 6000; i++) {
      if (i === 2000) ssrc = 8;
      if (i === 4000) ts += 100_000 * samples; // the sender restarted its timeline
      ts = (ts + samples) >>> 0;
      let arrival = i * 20 * (1 + 200e-6) + rnd() * 30 + (rnd() < 0.01 ? 400 : 0);
      // Either side of resetMs, half a ms away: the estimate starts over only past it.
      const probe = { 1000: 0.5, 1500: -0.5, 3000: 0.5, 5000: -0.5 }[i];
      if (probe !== undefined && Number.isFinite(a.value)) {
        arrival = a.value + resetMs + probe + ((ts - start) | 0) * msPerTick;
      }
      a.note(ssrc, ts, arrival);
      b.note(ssrc, ts, arrival);
      if (i === 0 || i === 2000 || i === 4000 || (probe! > 0 && a.value === arrival)) start = ts;
      if (probe! > 0) t.is(a.value, Number.isFinite(a.value) ? arrival : a.value, 'started over');
      if (!Object.is(a.value, b.value)) {
        t.fail(
          `q ${q} ${show(options)} step ${i} (ssrc ${ssrc}, ts ${ts}, arrival ${arrival}): TS ${a.value} C ${b.value}`,
        );
        return;
      }
    }
    t.true(Number.isFinite(b.value) || q === 0.3);
  }
  t.true(Number.isNaN(new native.Transit(0.5).value), 'NaN before the first packet');
  t.throws(() => new native.Transit(1), { instanceOf: RangeError });
  t.throws(() => new native.Transit(0), { instanceOf: RangeError });
});
