/**
 * `file:PATH.wav`: a WAV file played as if it were a microphone, one frame per frame
 * interval of the clock, looping seamlessly at the end (the sample after the last is the
 * first again). The file must be 48 kHz 16-bit, mono or stereo (averaged).
 *
 * The file is read as it plays, a second at a time, never whole: an hour of announcement
 * costs the same memory as a second of it (issue 15: a 60 s file read whole held 11 MB,
 * once for the file and once for its samples). The file stays open while capturing, so
 * replacing it takes effect at the next `start()`; a read that fails (the disk, a file cut
 * short under it) is the device's loss: one 'error', as a sound card unplugged.
 */
import fs from 'node:fs';
import { PacedCapture } from './capture-silence.ts';
import type { BackendDeps } from './types.ts';
import { checkAgentFormat, parseWav, stereoToMono, WavError } from './wav.ts';

/** The most of a file read to find its audio: RIFF chunks before `data` must fit. */
const HEAD_BYTES = 256 * 1024;
/** Frames read from the file at once. */
const CHUNK_FRAMES = 50;

/** Where a file's samples lie: the `data` chunk's offset and its whole sample frames. */
interface WavLayout {
  channels: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  offset: number;
  bytes: number;
}

/** Reads the header of the open file `fd` (`size` bytes); throws naming the problem. */
function readLayout(fd: number, size: number): WavLayout {
  const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
  const got = fs.readSync(fd, head, 0, head.length, 0);
  const info = parseWav(head.subarray(0, got));
  checkAgentFormat(info);
  const offset = info.data.byteOffset - head.byteOffset;
  // The declared size, cut to what the file holds (a streamed WAV declares 0xffffffff).
  const declared = head.readUInt32LE(offset - 4);
  const available = Math.min(declared, size - offset);
  const bytes = available - (available % info.blockAlign);
  if (bytes === 0) throw new WavError('the file holds no audio');
  return { channels: info.channels, blockAlign: info.blockAlign, offset, bytes };
}

/**
 * Frames of `frameSamples` mono samples from the samples of `layout` in the open file
 * `fd`, in a circle: a frame runs across the end back to the start. Each frame is a new
 * Buffer; the file is read `CHUNK_FRAMES` frames at a time. Throws when a read fails or
 * finds the file shorter than its header said.
 */
export function streamFrames(fd: number, layout: WavLayout, frameSamples: number): () => Buffer {
  const frameIn = frameSamples * layout.blockAlign;
  const chunk = Buffer.alloc(frameIn * CHUNK_FRAMES);
  let held = 0; // bytes of `chunk` filled
  let used = 0; // bytes of `chunk` already made into frames
  let pos = 0; // the next byte of the data chunk to read
  const refill = () => {
    held = 0;
    used = 0;
    while (held < chunk.length) {
      const want = Math.min(chunk.length - held, layout.bytes - pos);
      const got = fs.readSync(fd, chunk, held, want, layout.offset + pos);
      if (got === 0) throw new WavError('the file is shorter than its header says');
      held += got;
      pos = (pos + got) % layout.bytes;
    }
  };
  return () => {
    if (used + frameIn > held) refill();
    const src = chunk.subarray(used, used + frameIn);
    used += frameIn;
    return layout.channels === 1 ? Buffer.from(src) : stereoToMono(src);
  };
}

/** `file:PATH.wav` as an `AudioCapture`; `start()` opens the file and checks its header. */
export class FileCapture extends PacedCapture {
  readonly path: string;
  readonly #source: { next: () => Buffer };
  #fd: number | null = null;
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
    let fd: number | null = null;
    try {
      fd = await new Promise<number>((resolve, reject) =>
        fs.open(this.path, 'r', (err, f) => (err ? reject(err) : resolve(f))),
      );
      const layout = readLayout(fd, fs.fstatSync(fd).size);
      const next = streamFrames(fd, layout, this.frameSamples);
      this.#source.next = () => {
        try {
          return next();
        } catch (err) {
          throw new Error(`${this.path}: ${(err as Error).message}`, { cause: err });
        }
      };
    } catch (err) {
      if (fd !== null) fs.closeSync(fd);
      throw new Error(`${this.path}: ${(err as Error).message}`, { cause: err });
    }
    this.#fd = fd;
    if (this.#stopped) {
      this.#close();
      throw new Error(`${this.path}: capture stopped while opening`);
    }
    await super.start();
  }

  override async stop(): Promise<void> {
    this.#stopped = true;
    await super.stop();
    this.#close();
  }

  #close(): void {
    if (this.#fd === null) return;
    fs.closeSync(this.#fd);
    this.#fd = null;
  }
}
