/**
 * `file:PATH.wav`: a WAV file played as if it were a microphone, one frame per frame
 * interval of the clock, looping seamlessly at the end (the sample after the last is the
 * first again). The file must be 48 kHz 16-bit, mono or stereo (averaged).
 */
import { readFile } from 'node:fs/promises';
import { PacedCapture } from './capture-silence.ts';
import { type BackendDeps, BYTES_PER_SAMPLE } from './types.ts';
import { decodeWav } from './wav.ts';

/** Frames cut from `pcm` in a circle: a frame runs across the end back to the start. */
export function loopFrames(pcm: Buffer, frameSamples: number): () => Buffer {
  if (pcm.length < BYTES_PER_SAMPLE) throw new Error('no audio to loop');
  const frameBytes = frameSamples * BYTES_PER_SAMPLE;
  let pos = 0;
  return () => {
    const frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    while (filled < frameBytes) {
      const n = Math.min(frameBytes - filled, pcm.length - pos);
      pcm.copy(frame, filled, pos, pos + n);
      filled += n;
      pos = (pos + n) % pcm.length;
    }
    return frame;
  };
}

/** `file:PATH.wav` as an `AudioCapture`; `start()` reads and checks the whole file. */
export class FileCapture extends PacedCapture {
  readonly path: string;
  readonly #source: { next: () => Buffer };
  #stopped = false;

  constructor(path: string, deps: BackendDeps) {
    const source = {
      next: (): Buffer => {
        throw new Error('file capture not started');
      },
    };
    super({ ...deps, nextFrame: () => source.next() });
    this.path = path;
    this.#source = source;
  }

  /** Rejects when the file is missing, unreadable, not a usable WAV, or holds no audio. */
  override async start(): Promise<void> {
    let pcm: Buffer;
    try {
      pcm = decodeWav(await readFile(this.path));
    } catch (err) {
      throw new Error(`${this.path}: ${(err as Error).message}`, { cause: err });
    }
    if (pcm.length === 0) throw new Error(`${this.path}: the file holds no audio`);
    if (this.#stopped) throw new Error(`${this.path}: capture stopped while opening`);
    this.#source.next = loopFrames(pcm, this.frameSamples);
    await super.start();
  }

  override async stop(): Promise<void> {
    this.#stopped = true;
    await super.stop();
  }
}
