import test from 'ava';
import dsp from 'babel-dsp';
import { mulberry32 } from '../helpers/prng.ts';

const frame = (n = 960) => Buffer.alloc(n * 2);

test('the addon says what it is', (t) => {
  t.is(dsp.library, 'speexdsp');
  t.is(dsp.SAMPLE_RATE, 48000);
});

test('a frame in, a frame out, for 10 and 20 ms, with and without a canceller', (t) => {
  for (const n of [480, 960]) {
    for (const tail of [0, 150]) {
      const p = new dsp.Processor(n, tail);
      t.is(p.process(frame(n), frame(n)).length, n * 2);
      t.is(p.process(frame(n), null).length, n * 2);
      t.is(p.process(frame(n)).length, n * 2);
    }
  }
});

test('an odd byteOffset is fine (copied inside)', (t) => {
  const big = Buffer.alloc(1921);
  const p = new dsp.Processor(960, 150);
  t.is(p.process(big.subarray(1), big.subarray(1)).length, 1920);
});

test('bad arguments throw TypeError or RangeError', (t) => {
  const bad: Array<[() => unknown, typeof TypeError | typeof RangeError]> = [
    [() => new dsp.Processor(961, 0), RangeError],
    [() => new dsp.Processor(960, 10), RangeError],
    [() => new dsp.Processor(960, 1001), RangeError],
    [() => new dsp.Processor('960' as unknown as number, 0), TypeError],
    [() => (dsp.Processor as unknown as () => void)(), TypeError],
    [() => new dsp.Processor(960, 0).process(frame(480)), RangeError],
    [() => new dsp.Processor(960, 150).process(frame(), frame(480)), RangeError],
    [() => new dsp.Processor(960, 0).process('pcm' as unknown as Buffer), TypeError],
    [() => new dsp.Processor(960, 0).process(new Int16Array(960) as unknown as Buffer), TypeError],
    [() => new dsp.Processor(960, 0).process(null as unknown as Buffer), TypeError],
    [() => (new dsp.Processor(960, 0).process as (a?: unknown) => unknown)(), TypeError],
    [() => dsp.Processor.prototype.process.call({}, frame(), frame()), TypeError],
    [
      () => {
        new dsp.Processor(960, 0).denoise = 1 as unknown as boolean;
      },
      TypeError,
    ],
    [
      () => {
        new dsp.Processor(960, 0).noiseSuppressDb = 5;
      },
      RangeError,
    ],
    [
      () => {
        new dsp.Processor(960, 0).agcLevel = 0;
      },
      RangeError,
    ],
  ];
  for (const [fn, type] of bad) t.throws(fn, { instanceOf: type });
});

test('settings read back; reset keeps them', (t) => {
  const p = new dsp.Processor(960, 150);
  t.true(p.denoise);
  t.false(p.agc);
  p.agc = true;
  p.denoise = false;
  p.noiseSuppressDb = -25;
  p.echoSuppressDb = -50;
  p.echoSuppressActiveDb = -10;
  p.agcLevel = 16000;
  p.reset();
  t.true(p.agc);
  t.false(p.denoise);
  t.is(p.noiseSuppressDb, -25);
  t.is(p.echoSuppressDb, -50);
  t.is(p.echoSuppressActiveDb, -10);
  t.is(p.agcLevel, 16000);
});

test('everything off passes the microphone through bit-exact', (t) => {
  const p = new dsp.Processor(960, 0);
  p.denoise = false;
  const mic = Buffer.alloc(1920);
  for (let i = 0; i < 960; i++) mic.writeInt16LE((i * 37) % 2000, i * 2);
  t.deepEqual(p.process(mic), mic);
});

test('fuzz: random frames, full-scale and random sizes never crash', (t) => {
  const rnd = mulberry32(12);
  const p = new dsp.Processor(960, 150);
  for (let i = 0; i < 300; i++) {
    const n = rnd() < 0.1 ? Math.floor(rnd() * 4000) : 1920;
    const a = Buffer.alloc(n);
    const b = Buffer.alloc(n);
    for (let k = 0; k < n; k++) {
      a[k] = Math.floor(rnd() * 256);
      b[k] = Math.floor(rnd() * 256);
    }
    try {
      t.is(p.process(a, b).length, 1920);
    } catch (err) {
      t.true(err instanceof RangeError);
      t.not(n, 1920);
    }
  }
});
