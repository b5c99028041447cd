/**
 * What a device's `file:` speaker played: the dominant tone of each loud 200 ms window,
 * and waits on the file's growth (it writes each frame as it plays it).
 */
import fs from 'node:fs';
import { decodeWav } from '../../device/audio/wav.ts';
import { dominantFrequency, rms } from '../../device/media/tone.ts';

/**
 * Dominant frequency of each loud 200 ms window of a WAV written by `file:` playback,
 * between two file offsets. Read it once the device has stopped (the header is complete).
 */
export function tones(file: string, fromBytes = 44, toBytes = Infinity): number[] {
  if (!fs.existsSync(file)) return [];
  const pcm = decodeWav(fs.readFileSync(file)).subarray(
    Math.max(0, fromBytes - 44),
    Math.max(0, toBytes - 44),
  );
  const win = 48000 * 2 * 0.2;
  const out: number[] = [];
  for (let o = 0; o + win <= pcm.length; o += win) {
    const w = pcm.subarray(o, o + win);
    if (rms(w) > 300) out.push(dominantFrequency(w, 48000));
  }
  return out;
}

export const near = (hz: number, target: number) => Math.abs(hz - target) <= 3;

/** How many loud windows of `file` (from `fromBytes`) are at `hz`. */
export const windowsAt = (file: string, hz: number, fromBytes = 44) =>
  tones(file, fromBytes).filter((f) => near(f, hz)).length;

/** Bytes a `file:` speaker holds so far. */
export const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/**
 * Resolves once `file` holds `ms` more audio than at `fromBytes`: a phase lasts as much
 * played audio as it needs, however slowly a busy machine plays it.
 */
export async function played(file: string, fromBytes: number, ms: number, within = 30_000) {
  const want = fromBytes + (48000 * 2 * ms) / 1000;
  const deadline = Date.now() + within;
  while (size(file) < want) {
    if (Date.now() > deadline) throw new Error(`${file}: not ${ms} ms of audio played`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
