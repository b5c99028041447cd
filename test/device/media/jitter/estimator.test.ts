import test from 'ava';
import { TransitPercentile } from '../../../../device/media/jitter/estimator.ts';
import { mulberry32 } from '../../../helpers/prng.ts';

const F = 20;
const TS0 = 2 ** 32 - 10 * 960;

// The transit percentile behind the playout phase (device/media/jitter/estimator.ts).

test('TransitPercentile settles on the percentile of uniform jitter, across timestamp wrap', (t) => {
  const rnd = mulberry32(9);
  for (const q of [0.25, 0.5, 0.75]) {
    const est = new TransitPercentile(q);
    // 20 ms frames from a timestamp near 2^32, arriving 100 ms + 0..20 ms after sending.
    for (let k = 0; k < 3000; k++) est.note(1, (TS0 + k * 960) >>> 0, k * F + 100 + rnd() * 20);
    t.true(Math.abs(est.value - (100 + 20 * q)) < 1.5, `q ${q}: ${est.value}`);
  }
});

test('TransitPercentile: outliers move it one step; a new SSRC or timeline starts it over', (t) => {
  const est = new TransitPercentile(0.75);
  t.true(Number.isNaN(est.value));
  for (let k = 0; k < 100; k++) est.note(1, k * 960, k * F + 5);
  t.is(est.value, 5);
  est.note(1, 100 * 960, 100 * F + 505); // one packet half a second late
  t.is(est.value, 5.375);
  est.note(2, 123_456, 5000); // another stream: its own timeline
  t.is(est.value, 5000);
  est.note(2, 123_456 + 960, 5020.5);
  est.note(2, 123_456 + 1920, 9000); // its timeline jumped by seconds
  t.is(est.value, 9000);
  t.throws(() => new TransitPercentile(1), { instanceOf: RangeError });
});
