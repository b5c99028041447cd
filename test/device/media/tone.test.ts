import test from 'ava';
import {
  dominantFrequency,
  generateTone,
  goertzelPower,
  pcmToFloat,
  rms,
} from '../../../device/media/tone.ts';

test('generateTone: length, start phase and amplitude', (t) => {
  const a = generateTone(1000, 20, 48000, 10000);
  t.is(a.length, 960 * 2);
  t.is(a.readInt16LE(0), 0);
  t.is(a.readInt16LE(2 * 12), 10000); // a quarter period of 1 kHz at 48 kHz is 12 samples
  const b = generateTone(1000, 20, 48000, 10000, Math.PI / 2);
  t.is(b.readInt16LE(0), 10000);
  t.is(generateTone(1000, 10, 8000, 1).length, 160);
});

test('generateTone: frames started at the running phase continue one tone', (t) => {
  const whole = generateTone(440, 60, 48000, 12000);
  const frames = [0, 1, 2].map((n) =>
    generateTone(440, 20, 48000, 12000, 2 * Math.PI * 440 * n * 0.02),
  );
  t.true(Buffer.concat(frames).equals(whole));
});

test('generateTone clips to 16 bits', (t) => {
  const pcm = generateTone(100, 20, 48000, 40000);
  const samples = pcmToFloat(pcm);
  t.is(Math.max(...samples), 32767 / 32768);
  t.is(Math.min(...samples), -1);
});

test('goertzelPower: a sine at the probed frequency against a neighbour and silence', (t) => {
  const pcm = generateTone(1000, 100, 48000, 16384);
  const on = goertzelPower(pcm, 1000, 48000);
  t.true(Math.abs(on - 0.0625) < 0.002, `power ${on}`); // (0.5)^2 / 4
  t.true(goertzelPower(pcm, 1500, 48000) < on / 1000);
  t.is(goertzelPower(Buffer.alloc(1920), 1000, 48000), 0);
  t.is(goertzelPower(Buffer.alloc(0), 1000, 48000), 0);
});

for (const hz of [300, 440, 1000, 1234, 3400]) {
  test(`dominantFrequency finds ${hz} Hz`, (t) => {
    const pcm = generateTone(hz, 200, 48000, 8000, 0.3);
    t.true(Math.abs(dominantFrequency(pcm, 48000) - hz) <= 2);
  });
}

test('dominantFrequency picks the louder of two tones', (t) => {
  const a = pcmToFloat(generateTone(700, 200, 48000, 9000));
  const b = pcmToFloat(generateTone(2100, 200, 48000, 3000));
  const mix = a.map((v, i) => v + b[i]!);
  t.true(Math.abs(dominantFrequency(mix, 48000) - 700) <= 2);
});

test('rms of a sine is amplitude / sqrt(2)', (t) => {
  t.true(Math.abs(rms(generateTone(1000, 100, 48000, 10000)) - 10000 / Math.SQRT2) < 5);
  t.is(rms(Buffer.alloc(0)), 0);
});

test('dominantFrequency of nothing is 0', (t) => {
  t.is(dominantFrequency(Buffer.alloc(0), 48000), 0);
  t.is(dominantFrequency(Buffer.alloc(2), 48000), 0);
});
