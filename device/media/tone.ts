/**
 * Test tones and their measurement, over 16-bit little-endian mono PCM (the format of
 * `OpusCodec`). Used by the codec tests and by the device's loopback self-test.
 */

/**
 * A sine of `hz` lasting `ms`, as s16le PCM. `amplitude` is in sample units (0..32767);
 * `phase` (radians) is the phase of the first sample, so consecutive frames can continue
 * one tone: frame n starts at `2π · hz · n · ms / 1000`.
 */
export function generateTone(
  hz: number,
  ms: number,
  sampleRate: number,
  amplitude: number,
  phase = 0,
): Buffer {
  const n = Math.round((sampleRate * ms) / 1000);
  const out = Buffer.allocUnsafe(n * 2);
  const step = (2 * Math.PI * hz) / sampleRate;
  for (let i = 0; i < n; i++) {
    const v = Math.round(amplitude * Math.sin(phase + step * i));
    out.writeInt16LE(Math.max(-32768, Math.min(32767, v)), i * 2);
  }
  return out;
}

/** The samples of s16le PCM as numbers in [-1, 1). */
export function pcmToFloat(pcm: Buffer): Float64Array {
  const n = pcm.length >> 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = pcm.readInt16LE(i * 2) / 32768;
  return out;
}

/**
 * Power of `hz` in the signal (Goertzel filter), normalised so that a full-scale sine at
 * exactly `hz` gives about 0.25 whatever the length.
 */
export function goertzelPower(pcm: Buffer | Float64Array, hz: number, sampleRate: number): number {
  const x = pcm instanceof Float64Array ? pcm : pcmToFloat(pcm);
  const n = x.length;
  if (n === 0) return 0;
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = x[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (n * n);
}

/** Root mean square of the signal, in sample units (a sine of amplitude A gives A/√2). */
export function rms(pcm: Buffer): number {
  const n = pcm.length >> 1;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = pcm.readInt16LE(i * 2);
    sum += v * v;
  }
  return Math.sqrt(sum / n);
}

/**
 * The frequency (to 1 Hz) with the most power between `minHz` and `maxHz`. Hann-windowed
 * Goertzel scans: first over the opening 100 ms in steps of half its resolution (so no
 * tone can fall between two probes), then over the whole signal, 1 Hz apart, around the
 * best probe. 0 for a signal shorter than two samples.
 */
export function dominantFrequency(
  pcm: Buffer | Float64Array,
  sampleRate: number,
  minHz = 50,
  maxHz = 4000,
): number {
  const x = pcm instanceof Float64Array ? pcm : pcmToFloat(pcm);
  if (x.length < 2) return 0;
  const head = hann(x.subarray(0, Math.min(x.length, Math.round(sampleRate / 10))));
  const step = sampleRate / head.length / 2;
  let coarse = minHz;
  let bestPower = -1;
  for (let hz = minHz; hz <= maxHz; hz += step) {
    const p = goertzelPower(head, hz, sampleRate);
    if (p > bestPower) {
      bestPower = p;
      coarse = hz;
    }
  }
  const whole = hann(x);
  let best = Math.round(coarse);
  bestPower = -1;
  const from = Math.max(minHz, Math.floor(coarse - 2 * step));
  const to = Math.min(maxHz, Math.ceil(coarse + 2 * step));
  for (let hz = from; hz <= to; hz++) {
    const p = goertzelPower(whole, hz, sampleRate);
    if (p > bestPower) {
      bestPower = p;
      best = hz;
    }
  }
  return best;
}

function hann(x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  return out;
}
