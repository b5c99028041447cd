/**
 * Level arithmetic of the device's audio, as pure functions over s16le mono PCM: the
 * microphone's gain in dB and the speaker's volume (0-100).
 */

/** A level in dB as an amplitude factor. */
export function dbToGain(db: number): number {
  return 10 ** (db / 20);
}

/**
 * The amplitude factor of a speaker volume 0..100: the square of the fraction, so the
 * steps sound even (50 is about -12 dB, 10 is -40 dB), 0 is silence and 100 is unchanged.
 */
export function volumeGain(volume: number): number {
  const v = Math.max(0, Math.min(100, volume)) / 100;
  return v * v;
}

/**
 * `pcm` scaled by `gain`, clipped to 16 bits, as a new Buffer; a gain of 1 returns the
 * input itself (no copy, bit-exact).
 */
export function applyGain(pcm: Buffer, gain: number): Buffer {
  if (gain === 1) return pcm;
  const out = Buffer.allocUnsafe(pcm.length & ~1);
  for (let o = 0; o + 1 < pcm.length; o += 2) {
    const v = Math.round(pcm.readInt16LE(o) * gain);
    out.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : v, o);
  }
  return out;
}

/** RMS level of s16le PCM in dBFS (a full-scale sine is -3); -Infinity for silence. */
export function levelDbfs(pcm: Buffer): number {
  let s = 0;
  const n = pcm.length >> 1;
  for (let o = 0; o + 1 < pcm.length; o += 2) {
    const v = pcm.readInt16LE(o);
    s += v * v;
  }
  return n === 0 || s === 0 ? Number.NEGATIVE_INFINITY : 10 * Math.log10(s / n / 32768 ** 2);
}

/** The largest absolute sample of s16le PCM, as a fraction of full scale. */
export function peak(pcm: Buffer): number {
  let m = 0;
  for (let o = 0; o + 1 < pcm.length; o += 2) m = Math.max(m, Math.abs(pcm.readInt16LE(o)));
  return m / 32768;
}
