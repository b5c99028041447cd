import test from 'ava';
import {
  DelayTracker,
  envelope,
  estimateDelay,
  MIN_MIC_VARIATION,
  variation,
} from '../../../../device/media/echo/delay.ts';
import { FarReference } from '../../../../device/media/echo/reference.ts';
import { convolve, frames, mix, noise, roomImpulse, toPcm } from '../../../helpers/echo-path.ts';
import { mulberry32 } from '../../../helpers/prng.ts';

/** Bursts of noise (speech-like on and off), 48 kHz. */
function bursts(seconds: number, seed: number): Float64Array {
  const rnd = mulberry32(seed);
  const n = noise(seconds * 48_000, -20, seed);
  let on = true;
  for (let o = 0; o < n.length; o += 2400) {
    if (rnd() < 0.4) on = !on;
    if (!on) n.fill(0, o, o + 2400);
  }
  return n;
}

test('envelope: one mean absolute value per 1 ms block', (t) => {
  const pcm = Buffer.alloc(48 * 2 * 2 + 10);
  for (let i = 0; i < 48; i++) pcm.writeInt16LE(i % 2 ? -16384 : 16384, (48 + i) * 2);
  t.deepEqual(Array.from(envelope(pcm)), [0, 0.5]);
});

for (const delayMs of [0, 30, 117, 200, 350]) {
  test(`estimateDelay finds ${delayMs} ms through a room`, (t) => {
    const far = bursts(2, delayMs + 1);
    const mic = mix(convolve(far, roomImpulse(delayMs, 0.3, 3)), noise(far.length, -50));
    const est = estimateDelay(envelope(toPcm(far)), envelope(toPcm(mic)), 400);
    t.truthy(est);
    t.true(Math.abs(est!.delayMs - delayMs) <= 2, `found ${est!.delayMs}`);
    t.true(est!.confidence > 0.6);
  });
}

test('estimateDelay: null for a still far end, or nothing to compare', (t) => {
  t.is(estimateDelay(new Float64Array(500), envelope(toPcm(bursts(1, 2))), 400), null);
  t.is(estimateDelay(new Float64Array(0), new Float64Array(0), 400), null);
});

test('DelayTracker: nothing until it holds the longest lag and more, then the delay', (t) => {
  const far = toPcm(bursts(2, 9));
  const mic = toPcm(convolve(bursts(2, 9), roomImpulse(80, 0.5, 4)));
  const tr = new DelayTracker({ windowMs: 1000, maxLagMs: 400 });
  const f = frames(far);
  const m = frames(mic);
  for (let i = 0; i < 20; i++) tr.push(f[i]!, m[i]!);
  t.is(tr.estimate(), null);
  for (let i = 20; i < f.length; i++) tr.push(f[i]!, m[i]!);
  t.is(tr.filledMs, 1400);
  t.true(Math.abs(tr.estimate()!.delayMs - 80) <= 2);
});

test('FarReference: frames follow each other; a pause is silence; old audio is gone', (t) => {
  const r = new FarReference(4800);
  const one = Buffer.alloc(960 * 2, 1); // samples of 0x0101
  r.write(one, 0);
  r.write(one, 5); // early: placed right after the first frame
  t.is(r.read(1919, 2).readInt16LE(0), 0x0101);
  t.is(r.read(1920, 1).readInt16LE(0), 0, 'nothing after the end');
  r.write(one, 100); // after a pause: at its own time, the gap silent
  t.is(r.read(2000, 1).readInt16LE(0), 0);
  t.is(r.read(4800, 1).readInt16LE(0), 0x0101);
  t.is(r.read(0, 1).readInt16LE(0), 0, 'beyond the ring: silence');
  t.is(r.read(-5, 1).readInt16LE(0), 0);
});

test('variation: speech-like bursts move, a steady tone does not; a still signal gives no estimate', (t) => {
  const tone = Buffer.alloc(48_000 * 2);
  for (let i = 0; i < 48_000; i++) {
    tone.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000)), i * 2);
  }
  t.true(variation(envelope(toPcm(bursts(1, 4)))) > 0.5);
  t.true(variation(envelope(tone)) < MIN_MIC_VARIATION);
  t.is(variation(new Float64Array(10)), 0);
  t.is(estimateDelay(envelope(tone), envelope(tone), 400), null);
  t.is(estimateDelay(envelope(toPcm(bursts(1, 4))), envelope(tone), 400), null);
});
