import test from 'ava';
import { dominantFrequency } from '../../device/media/tone.ts';
import { TonePlayer, toneLoop } from '../../device/tones.ts';
import { FakeClock } from '../../shared/clock.ts';

test('generated loops are whole frames and carry their first note', (t) => {
  const ring = toneLoop('ring', 'generated', 960);
  t.is(ring.length % 1920, 0);
  t.is(ring.length, 2 * 48 * 2500); // 400 + 600 + 1500 ms
  t.true(Math.abs(dominantFrequency(ring.subarray(0, 1920 * 10), 48000) - 660) <= 2);
  const ringback = toneLoop('ringback', 'generated', 480);
  t.is(ringback.length, 2 * 48 * 5000);
});

test('the player emits one frame per frame interval and stops on none', (t) => {
  const clock = new FakeClock();
  const frames: Buffer[] = [];
  const p = new TonePlayer({
    clock,
    frameSamples: 960,
    sink: (f) => frames.push(f),
    sources: { ring: 'generated', ringback: 'generated' },
  });
  p.play('ringback');
  clock.advance(1000);
  t.is(frames.length, 51); // one at once, then 50 in a second
  t.true(frames.every((f) => f.length === 1920));
  p.play('none');
  clock.advance(1000);
  t.is(frames.length, 51);
  t.is(clock.pending, 0);
});
