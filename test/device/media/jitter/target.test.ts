import test from 'ava';
import { JitterTarget, type JitterTargetOptions } from '../../../../device/media/jitter/target.ts';

const F = 20; // ms per frame
const SAMPLES = 960; // RTP timestamp step per frame

/** `JitterBuffer`'s defaults. */
const DEFAULTS: JitterTargetOptions = {
  frameMs: F,
  clockRate: 48000,
  minDepthMs: F,
  maxDepthMs: 200,
  initialDepthMs: 60,
  marginMs: 10,
  windowMs: 10_000,
};

/** Feeds frames `from..to-1`, sent every 20 ms from timestamp 0, frame `i` `delay(i)` late. */
function feed(t: JitterTarget, from: number, to: number, delay: (i: number) => number) {
  for (let i = from; i < to; i++) t.note(i * SAMPLES, i * F + delay(i));
}

// Each row: options, delay of frame i, frames fed, expected target (frames).
const rows: Array<[string, Partial<JitterTargetOptions>, (i: number) => number, number, number]> = [
  ['initial depth during the first second', {}, () => 5, 40, 3],
  ['steady: comes down to 1 + ceil(margin / frame) after the hold', {}, () => 5, 700, 2],
  ['20 ms of spread: one frame more', {}, (i) => (i % 3) * 10, 700, 3],
  [
    'a steady burst pattern covers its ~95th percentile',
    {},
    (i) => (i % 10 === 0 ? 70 : 0),
    700,
    5,
  ],
  ['clamped to maxDepthMs', { maxDepthMs: 100 }, (i) => (i % 2) * 300, 200, 5],
  ['at least minDepthMs', { minDepthMs: 80 }, () => 5, 700, 4],
];

for (const [name, options, delay, n, frames] of rows) {
  test(`target: ${name}`, (t) => {
    const target = new JitterTarget({ ...DEFAULTS, ...options });
    feed(target, 0, n, delay);
    t.is(target.frames, frames);
  });
}

test('interarrival jitter (RFC 3550): 0 for constant transit, ~10 ms for alternating 0/10', (t) => {
  const steady = new JitterTarget(DEFAULTS);
  feed(steady, 0, 100, () => 7);
  t.is(steady.jitterMs, 0);
  const alternating = new JitterTarget(DEFAULTS);
  feed(alternating, 0, 300, (i) => (i % 2) * 10);
  t.true(Math.abs(alternating.jitterMs - 10) < 0.01, String(alternating.jitterMs));
});

test('note() returns the transit, across timestamp wrap; sentMs() is its other half', (t) => {
  const target = new JitterTarget(DEFAULTS);
  const ts0 = 2 ** 32 - 2 * SAMPLES;
  target.reset(ts0);
  for (let i = 0; i < 5; i++) {
    const ts = (ts0 + i * SAMPLES) >>> 0;
    t.is(target.note(ts, 1000 + i * F + 3), 1003);
    t.is(target.sentMs(ts), i * F);
  }
});

test('the target rises at once and comes down only after the hold', (t) => {
  const target = new JitterTarget(DEFAULTS);
  feed(target, 0, 600, () => 0);
  t.is(target.frames, 2);
  // A spike of 100 ms in a few packets: up within one recompute (16 packets).
  feed(target, 600, 616, (i) => (i % 4 === 0 ? 100 : 0));
  const raised = target.frames;
  t.true(raised > 2, String(raised));
  // Quiet again: the jitter decays within ~50 packets, the target is held for 10 s after
  // that, then comes back down.
  feed(target, 616, 1100, () => 0);
  t.is(target.frames, raised);
  feed(target, 1100, 1700, () => 0);
  t.is(target.frames, 2);
});

test('reset() starts a new timeline and window; the target and jitter carry on', (t) => {
  const target = new JitterTarget(DEFAULTS);
  feed(target, 0, 300, (i) => (i % 2) * 30);
  const frames = target.frames;
  const jitter = target.jitterMs;
  target.reset(123_456);
  t.is(target.frames, frames);
  t.is(target.jitterMs, jitter);
  t.is(target.sentMs(123_456 + SAMPLES), F);
  // The first packet of the new timeline sets no jitter (nothing to compare it with).
  t.is(target.note(123_456, 50_000), 50_000);
  t.is(target.jitterMs, jitter);
});
