import test from 'ava';
import { createToneCapture, TONE_AMPLITUDE } from '../../../device/audio/capture-tone.ts';
import { dominantFrequency, generateTone, rms } from '../../../device/media/tone.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';

async function record(hz: number, frameSamples: number, ms: number): Promise<Buffer[]> {
  const clock = new FakeClock();
  const capture = createToneCapture(hz, { log, clock, frameSamples });
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  clock.advance(ms);
  await capture.stop();
  return frames;
}

for (const [hz, frameSamples] of [
  [440, 960],
  [1000, 480],
  [2500, 960],
  [697, 480],
] as const) {
  test(`tone:${hz} in frames of ${frameSamples}: right frequency and level`, async (t) => {
    const frames = await record(hz, frameSamples, 500);
    t.is(frames.length, (500 * 48) / frameSamples);
    t.true(frames.every((f) => f.length === frameSamples * 2));
    const all = Buffer.concat(frames);
    t.is(dominantFrequency(all, 48000), hz);
    t.true(Math.abs(rms(all) - TONE_AMPLITUDE / Math.SQRT2) < 20);
  });
}

test('the phase runs on across frames: frames joined equal one long tone', async (t) => {
  const frames = await record(1000.5, 960, 1000);
  const joined = Buffer.concat(frames);
  const whole = generateTone(1000.5, 1000, 48000, TONE_AMPLITUDE);
  t.is(joined.length, whole.length);
  let worst = 0;
  for (let i = 0; i < whole.length; i += 2) {
    worst = Math.max(worst, Math.abs(joined.readInt16LE(i) - whole.readInt16LE(i)));
  }
  t.true(worst <= 1, `differs by ${worst}`);
});
