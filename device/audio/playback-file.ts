/**
 * `file:PATH.wav`: the speaker's audio recorded to a WAV file (48 kHz mono s16le). The
 * header is written with a zero length at `start()`, brought up to date after each second
 * of audio written (one small write a second, not one a frame) and fixed up by `stop()`;
 * a reader of the file in progress, or of a process killed in between, gets every whole
 * second (and readers that take the data to the end of the file get the rest).
 */
import { EventEmitter } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import {
  type AudioPlayback,
  type BackendDeps,
  BYTES_PER_SAMPLE,
  checkFrameSamples,
  type PlaybackEvents,
  type PlaybackStats,
  SAMPLE_RATE,
} from './types.ts';
import { WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES, wavHeader } from './wav.ts';

/** Most bytes waiting for the disk before frames are dropped: one second of audio. */
const MAX_PENDING_BYTES = SAMPLE_RATE * BYTES_PER_SAMPLE;

/** The header's sizes are rewritten each time this much more audio is on disk: one second. */
const HEADER_EVERY_BYTES = SAMPLE_RATE * BYTES_PER_SAMPLE;

/** `file:PATH.wav` as an `AudioPlayback`. Every accepted frame is in the file after `stop()`. */
export class FilePlayback extends EventEmitter<PlaybackEvents> implements AudioPlayback {
  readonly frameSamples: number;
  readonly path: string;
  readonly stats: PlaybackStats = { frames: 0, dropped: 0, underruns: 0 };
  readonly #deps: BackendDeps;
  readonly #frameBytes: number;
  #state: 'idle' | 'opening' | 'running' | 'failed' | 'stopped' = 'idle';
  #file: FileHandle | undefined;
  #dataBytes = 0;
  /** Audio bytes on disk, and how many of them the header counts. */
  #writtenBytes = 0;
  #headerBytes = 0;
  #pendingBytes = 0;
  #writes: Promise<void> = Promise.resolve();

  constructor(path: string, deps: BackendDeps) {
    super();
    checkFrameSamples(deps.frameSamples);
    this.frameSamples = deps.frameSamples;
    this.path = path;
    this.#deps = deps;
    this.#frameBytes = deps.frameSamples * BYTES_PER_SAMPLE;
  }

  /** Creates (or truncates) the file and writes a provisional header. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error('playback already started');
    this.#state = 'opening';
    try {
      this.#file = await open(this.path, 'w');
      await this.#file.write(wavHeader(0), 0, WAV_HEADER_BYTES, 0);
    } catch (err) {
      this.#state = 'failed';
      await this.#file?.close().catch(() => {});
      throw new Error(`${this.path}: ${(err as Error).message}`, { cause: err });
    }
    if ((this.#state as string) !== 'opening') {
      await this.#file.close().catch(() => {});
      this.#file = undefined;
      throw new Error(`${this.path}: playback stopped while opening`);
    }
    this.#state = 'running';
  }

  /** Appends one frame; drops it when not running, mis-sized, the disk is behind, or full. */
  write(frame: Buffer): void {
    const file = this.#file;
    if (
      this.#state !== 'running' ||
      !file ||
      frame.length !== this.#frameBytes ||
      this.#pendingBytes + frame.length > MAX_PENDING_BYTES ||
      this.#dataBytes + frame.length > WAV_MAX_DATA_BYTES
    ) {
      this.stats.dropped++;
      return;
    }
    const position = WAV_HEADER_BYTES + this.#dataBytes;
    this.#dataBytes += frame.length;
    this.#pendingBytes += frame.length;
    this.stats.frames++;
    this.#writes = this.#writes
      .then(() => file.write(frame, 0, frame.length, position))
      .then(() => {
        this.#pendingBytes -= frame.length;
        this.#writtenBytes += frame.length;
        if (this.#writtenBytes - this.#headerBytes < HEADER_EVERY_BYTES) return;
        this.#headerBytes = this.#writtenBytes;
        return file.write(wavHeader(this.#headerBytes), 0, WAV_HEADER_BYTES, 0).then(() => {});
      })
      .then(undefined, (err: Error) => this.#fail(err));
  }

  /** Resolves when every frame accepted so far is on disk (and the header as its rule says). */
  flush(): Promise<void> {
    return this.#writes;
  }

  /** Writes what is queued, fixes the header's sizes and closes the file. */
  async stop(): Promise<void> {
    const was = this.#state;
    this.#state = 'stopped';
    const file = this.#file;
    this.#file = undefined;
    if (!file || was === 'idle') return;
    await this.#writes;
    try {
      await file.write(wavHeader(this.#dataBytes), 0, WAV_HEADER_BYTES, 0);
    } catch (err) {
      this.#deps.log.error({ err, path: this.path }, 'could not finish the WAV header');
    }
    await file.close().catch(() => {});
  }

  #fail(err: Error): void {
    if (this.#state !== 'running') return;
    this.#state = 'failed';
    this.#deps.log.warn({ err, path: this.path }, 'file playback failed');
    this.emit('error', new Error(`${this.path}: ${err.message}`, { cause: err }));
  }
}
