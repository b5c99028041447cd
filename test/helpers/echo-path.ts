/**
 * A simulated echo path for the echo-control tests and bench/echo.ts: speech rendered by
 * espeak-ng (Debian's, at test time) at 48 kHz, a room impulse response (a direct path
 * after 30-200 ms and decaying early reflections), and the levels that tests compare.
 * Everything is 48 kHz mono, Float64 in [-1, 1) until `toPcm`.
 */
import { execFileSync } from 'node:child_process';
import { mulberry32 } from './prng.ts';

const RATE = 48_000;

/** Speech from espeak-ng (`voice` e.g. `en+m3`), resampled to 48 kHz, `seconds` long (looped). */
export function speech(text: string, voice: string, seconds: number): Float64Array {
  const wav = execFileSync('espeak-ng', ['-v', voice, '-s', '160', '--stdout', text], {
    maxBuffer: 64 << 20,
  });
  // espeak-ng writes a WAV with an unknown (streamed) data size: find "data" and read on.
  const at = wav.indexOf('data');
  if (at < 0) throw new Error('espeak-ng: no WAV data');
  const rate = wav.readUInt32LE(24);
  const pcm = wav.subarray(at + 8);
  const n = Math.floor(pcm.length / 2);
  const src = new Float64Array(n);
  for (let i = 0; i < n; i++) src[i] = pcm.readInt16LE(i * 2) / 32768;
  const out = new Float64Array(Math.round(seconds * RATE));
  const step = rate / RATE;
  const len = Math.floor((n - 1) / step);
  for (let i = 0; i < out.length; i++) {
    const t = (i % len) * step; // linear interpolation is plenty for a test signal
    const k = Math.floor(t);
    const f = t - k;
    out[i] = (src[k]! * (1 - f) + src[k + 1]! * f) * 0.9;
  }
  return out;
}

/** A room impulse response: direct path at `delayMs`, 40 reflections over the next 80 ms. */
export function roomImpulse(delayMs: number, gain: number, seed = 1): Float64Array {
  const rnd = mulberry32(seed);
  const d = Math.round((delayMs * RATE) / 1000);
  const tail = Math.round(0.08 * RATE);
  const h = new Float64Array(d + tail + 1);
  h[d] = gain;
  for (let i = 0; i < 40; i++) {
    const at = 1 + Math.floor(rnd() * tail);
    const decay = Math.exp((-at / tail) * 4); // -35 dB by the end of the tail
    h[d + at]! += gain * 0.5 * decay * (rnd() < 0.5 ? -1 : 1);
  }
  return h;
}

/** `x` through the impulse response `h` (sparse: only non-zero taps cost). */
export function convolve(x: Float64Array, h: Float64Array): Float64Array {
  const taps: Array<[number, number]> = [];
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) taps.push([i, h[i]!]);
  const y = new Float64Array(x.length);
  for (const [lag, g] of taps) for (let i = lag; i < x.length; i++) y[i]! += g * x[i - lag]!;
  return y;
}

/** The sum of any number of signals of one length. */
export function mix(...xs: Float64Array[]): Float64Array {
  const y = new Float64Array(xs[0]!.length);
  for (const x of xs) for (let i = 0; i < y.length; i++) y[i]! += x[i]!;
  return y;
}

/** White noise at `dbfs` RMS (a microphone's self noise). */
export function noise(n: number, dbfs: number, seed = 7): Float64Array {
  const rnd = mulberry32(seed);
  const a = 10 ** (dbfs / 20) * Math.sqrt(3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (rnd() * 2 - 1) * a;
  return y;
}

/** s16le PCM, clipped. */
export function toPcm(x: Float64Array): Buffer {
  const b = Buffer.alloc(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(x[i]! * 32768))), i * 2);
  }
  return b;
}

/** Frames of `frameSamples` from PCM (the tail that does not fill a frame is dropped). */
export function frames(pcm: Buffer, frameSamples = 960): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o + frameSamples * 2 <= pcm.length; o += frameSamples * 2) {
    out.push(pcm.subarray(o, o + frameSamples * 2));
  }
  return out;
}

/** Mean power of s16le PCM between two sample offsets. */
export function power(pcm: Buffer, from = 0, to = pcm.length / 2): number {
  let s = 0;
  for (let i = from; i < to; i++) {
    const v = pcm.readInt16LE(i * 2) / 32768;
    s += v * v;
  }
  return s / Math.max(1, to - from);
}

/** 10·log10 of a power ratio. */
export function db(ratio: number): number {
  return 10 * Math.log10(ratio);
}

/** Where levels are compared: after the first 2 s (the canceller has converged), samples. */
export const CONVERGED = 2 * 48_000;

/**
 * The door scene of the echo tests and benchmarks: `far`, the visitor's speech from the
 * speaker; `near`, the resident's at the microphone; `floor`, a -70 dBFS noise floor; all
 * `seconds` long.
 */
export function doorScene(seconds: number): {
  far: Float64Array;
  near: Float64Array;
  floor: Float64Array;
} {
  const far = speech(
    'The quick brown fox jumps over the lazy dog. Please come to the front door, the parcel is here.',
    'en+m3',
    seconds,
  );
  const near = speech(
    'Hello, who is there? I will be down in a minute, wait for me please.',
    'en+f3',
    seconds,
  );
  return { far, near, floor: noise(far.length, -70) };
}
