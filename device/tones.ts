import fs from 'node:fs';
import type { Clock, Timer } from '../shared/clock.ts';
import { SAMPLE_RATE } from './audio/types.ts';
import { decodeWav } from './audio/wav.ts';
import type { Tone } from './call/machine.ts';
import { generateTone } from './media/tone.ts';

/** One step of a generated cadence: `hz` 0 is silence. */
interface Step {
  readonly hz: number;
  readonly ms: number;
}

/**
 * Generated cadences: a two-note door chime for an incoming call, and the European
 * ring-back (425 Hz, 1 s on, 4 s off) for the caller while the other side rings.
 */
export const CADENCES: Readonly<Record<Exclude<Tone, 'none'>, readonly Step[]>> = {
  ring: [
    { hz: 660, ms: 400 },
    { hz: 523, ms: 600 },
    { hz: 0, ms: 1500 },
  ],
  ringback: [
    { hz: 425, ms: 1000 },
    { hz: 0, ms: 4000 },
  ],
};

const AMPLITUDE = 8000;

/** One loop of a tone as 48 kHz mono PCM: the generated cadence or a WAV file's audio. */
export function toneLoop(
  tone: Exclude<Tone, 'none'>,
  source: string,
  frameSamples: number,
): Buffer {
  const pcm =
    source === 'generated'
      ? Buffer.concat(
          CADENCES[tone].map((s) =>
            s.hz === 0
              ? Buffer.alloc(Math.round((SAMPLE_RATE * s.ms) / 1000) * 2)
              : generateTone(s.hz, s.ms, SAMPLE_RATE, AMPLITUDE),
          ),
        )
      : decodeWav(fs.readFileSync(source));
  // Whole frames only, so the loop repeats on a frame boundary.
  const frameBytes = frameSamples * 2;
  const whole = Math.max(frameBytes, pcm.length - (pcm.length % frameBytes));
  return pcm.length >= whole
    ? pcm.subarray(0, whole)
    : Buffer.concat([pcm, Buffer.alloc(whole - pcm.length)]);
}

/**
 * Plays ring and ring-back tones into a frame sink at the frame rate of the injected clock,
 * looping until `play('none')`. Loops are prepared once, at construction.
 */
export class TonePlayer {
  readonly #loops: Record<Exclude<Tone, 'none'>, Buffer>;
  readonly #clock: Clock;
  readonly #frameSamples: number;
  readonly #sink: (pcm: Buffer) => void;
  #timer: Timer | null = null;
  #current: Tone = 'none';
  #offset = 0;

  constructor(opts: {
    clock: Clock;
    frameSamples: number;
    sink: (pcm: Buffer) => void;
    sources: { ring: string; ringback: string };
  }) {
    this.#clock = opts.clock;
    this.#frameSamples = opts.frameSamples;
    this.#sink = opts.sink;
    this.#loops = {
      ring: toneLoop('ring', opts.sources.ring, opts.frameSamples),
      ringback: toneLoop('ringback', opts.sources.ringback, opts.frameSamples),
    };
  }

  get playing(): Tone {
    return this.#current;
  }

  play(tone: Tone): void {
    if (tone === this.#current) return;
    this.#timer?.cancel();
    this.#timer = null;
    this.#current = tone;
    this.#offset = 0;
    if (tone === 'none') return;
    const loop = this.#loops[tone];
    const frameBytes = this.#frameSamples * 2;
    const frameMs = (this.#frameSamples * 1000) / SAMPLE_RATE;
    const next = () => {
      this.#sink(loop.subarray(this.#offset, this.#offset + frameBytes));
      this.#offset = (this.#offset + frameBytes) % loop.length;
    };
    next();
    this.#timer = this.#clock.setInterval(next, frameMs);
  }
}
