/** `tone:HZ`: a sine, continuous in phase from frame to frame, paced by the clock. */
import { generateTone } from '../media/tone.ts';
import { PacedCapture } from './capture-silence.ts';
import { type BackendDeps, frameMs, SAMPLE_RATE } from './types.ts';

/** Default tone level: a quarter of full scale (-12 dBFS), loud but far from clipping. */
export const TONE_AMPLITUDE = 8192;

/** Frames of a sine at `hz`; each call continues where the previous frame ended. */
export function toneFrames(
  hz: number,
  frameSamples: number,
  amplitude = TONE_AMPLITUDE,
): () => Buffer {
  const ms = frameMs(frameSamples);
  const step = (2 * Math.PI * hz * frameSamples) / SAMPLE_RATE;
  let phase = 0;
  return () => {
    const frame = generateTone(hz, ms, SAMPLE_RATE, amplitude, phase);
    phase = (phase + step) % (2 * Math.PI);
    return frame;
  };
}

/** `tone:HZ` as an `AudioCapture`. */
export function createToneCapture(
  hz: number,
  deps: BackendDeps,
  amplitude = TONE_AMPLITUDE,
): PacedCapture {
  return new PacedCapture({ ...deps, nextFrame: toneFrames(hz, deps.frameSamples, amplitude) });
}
