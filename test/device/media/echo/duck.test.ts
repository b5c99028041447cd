import test from 'ava';
import { Ducker } from '../../../../device/media/echo/duck.ts';
import { levelDbfs } from '../../../../device/media/echo/gain.ts';
import { generateTone } from '../../../../device/media/tone.ts';

const tone = (dbfs: number) =>
  generateTone(1000, 20, 48000, 10 ** (dbfs / 20) * 32767 * Math.SQRT2);
const loud = tone(-20);
const quiet = tone(-60);
const mic = tone(-20);

/** Attenuation of the mic frame at `now`, dB (after a frame to glide). */
function attenuation(d: Ducker, now: number): number {
  d.mic(mic, now - 20);
  return levelDbfs(mic) - levelDbfs(d.mic(mic, now));
}

test('attenuates the microphone by its depth while the far end speaks', (t) => {
  const d = new Ducker({ depthDb: 24 });
  d.far(loud, 0);
  t.true(Math.abs(attenuation(d, 40) - 24) < 0.1, `${attenuation(d, 40)}`);
});

test('no attenuation while the far end is silent or below the threshold', (t) => {
  const d = new Ducker();
  t.is(attenuation(d, 40), 0);
  d.far(quiet, 100);
  d.far(Buffer.alloc(1920), 120);
  t.is(attenuation(d, 160), 0);
});

test('the attenuation holds for holdMs after the far end, then lifts', (t) => {
  const d = new Ducker({ holdMs: 300 });
  d.far(loud, 1000);
  t.true(d.active(1300));
  t.false(d.active(1301));
  t.true(attenuation(d, 1300) > 20);
  t.is(attenuation(d, 1400), 0);
});

test('the gain glides across a frame (no click)', (t) => {
  const d = new Ducker({ depthDb: 40 });
  const ones = Buffer.alloc(1920);
  for (let i = 0; i < 960; i++) ones.writeInt16LE(10000, i * 2);
  d.far(loud, 0);
  const out = d.mic(ones, 0);
  t.true(out.readInt16LE(0) > 9900, 'starts near full');
  t.true(out.readInt16LE(958 * 2) > 90 && out.readInt16LE(959 * 2) <= 101, 'ends ducked');
  for (let i = 1; i < 960; i++) t.true(out.readInt16LE(i * 2) <= out.readInt16LE((i - 1) * 2));
});
