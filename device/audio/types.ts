/**
 * The audio seams of the device agent. Every backend (ALSA through our babel-alsa addon, arecord,
 * aplay, WAV files, generated tones, the fake of that addon) honours one of these two
 * contracts, so the call pipeline never knows which one it talks to.
 *
 * Format everywhere: 48 kHz, mono, signed 16-bit little-endian PCM, in whole frames of
 * `frameSamples` samples (960 = 20 ms, or 480 = 10 ms).
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';

/** Samples per second of every PCM buffer in the agent. */
export const SAMPLE_RATE = 48_000;
/** Bytes per sample (s16le, mono). */
export const BYTES_PER_SAMPLE = 2;
/** The frame sizes the agent accepts: 20 ms and 10 ms at 48 kHz. */
export const FRAME_SAMPLES = [960, 480] as const;

/** Milliseconds of audio in a frame of `frameSamples` samples. */
export function frameMs(frameSamples: number): number {
  return (frameSamples * 1000) / SAMPLE_RATE;
}

/** Throws a `RangeError` unless `frameSamples` is one of `FRAME_SAMPLES`. */
export function checkFrameSamples(frameSamples: number): void {
  if (!(FRAME_SAMPLES as readonly number[]).includes(frameSamples)) {
    throw new RangeError(`frameSamples must be 960 or 480, got ${frameSamples}`);
  }
}

/** Resolves true when `promise` settles within `ms` of `clock`, false otherwise. */
export function within(clock: Clock, ms: number, promise: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    const done = () => {
      timer.cancel();
      resolve(true);
    };
    promise.then(done, done);
  });
}

/** What every backend is built with. */
export interface BackendDeps {
  /** A child logger for this device (`log.child({ mod: 'audio', ... })`). */
  log: Logger;
  /** Time for pacing, timeouts and backoff; `realClock` in the product. */
  clock: Clock;
  /** Samples per frame: 960 (20 ms) or 480 (10 ms). */
  frameSamples: number;
}

/** What is known about audio lost to an overrun. */
export interface OverrunInfo {
  /** A lower bound on the audio lost, when the backend knows one (arecord prints it). */
  lostMs: number | null;
}

/** Events of an `AudioCapture`. */
export interface CaptureEvents {
  /** Exactly one frame: `frameSamples * 2` bytes, a Buffer the listener may keep. */
  frame: [pcm: Buffer];
  /** The device failed after `start()` resolved; no frames follow. */
  error: [err: Error];
  /** The device dropped audio (it was not read in time); frames continue after the gap. */
  overrun: [info: OverrunInfo];
}

/** Counters of an `AudioCapture`, readable at any time. */
export interface CaptureStats {
  /** Frames emitted. */
  frames: number;
  /** Overruns reported by the device. */
  overruns: number;
}

/**
 * A microphone. Lifecycle: `start()` once, `stop()` once (more calls are harmless).
 *
 * - `start()` resolves when the device is open and audio is on its way; it rejects with
 *   an `Error` whose message says why (device missing, busy, wrong rate, program not
 *   installed). A rejected or failed instance is finished: make a new one
 *   (`ResilientCapture` does that, with backoff).
 * - While running, each 'frame' carries exactly one frame. Device periods need not match
 *   frames; backends reframe.
 * - Device loss (USB unplugged, arecord exiting) is one 'error' event; the instance has then
 *   released the device and emits nothing more. Emitting 'error' follows Node's rule: the
 *   owner must listen for it.
 * - `stop()`: no 'frame' is emitted once it is called; a partial frame still being
 *   collected is discarded. It resolves when the device is released, or after a bounded
 *   wait if the device does not let go (logged).
 */
export interface AudioCapture {
  on(event: 'frame', listener: (pcm: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'overrun', listener: (info: OverrunInfo) => void): this;
  once(event: 'frame', listener: (pcm: Buffer) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'overrun', listener: (info: OverrunInfo) => void): this;
  off(event: 'frame', listener: (pcm: Buffer) => void): this;
  off(event: 'error', listener: (err: Error) => void): this;
  off(event: 'overrun', listener: (info: OverrunInfo) => void): this;
  readonly frameSamples: number;
  readonly stats: Readonly<CaptureStats>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Events of an `AudioPlayback`. */
export interface PlaybackEvents {
  /** The device failed after `start()` resolved; later writes are dropped and counted. */
  error: [err: Error];
}

/** Counters of an `AudioPlayback`, readable at any time. */
export interface PlaybackStats {
  /** Frames handed to the device. */
  frames: number;
  /** Frames dropped: not running, device behind, or wrong size. */
  dropped: number;
  /** Underruns reported by the device (it ran out of audio). */
  underruns: number;
}

/**
 * A speaker. Lifecycle: `start()` once, `stop()` once (more calls are harmless).
 *
 * - `start()` resolves when the device is open (or the player process is running); it
 *   rejects with an `Error` saying why.
 * - `write(frame)` never blocks and never throws. It takes one frame of `frameSamples * 2`
 *   bytes. When the device is behind (more than the backend's bounded queue is waiting), or
 *   the playback is not running, the frame is dropped and counted in `stats.dropped`:
 *   latency stays bounded instead of growing.
 * - Device loss is one 'error' event; writes are dropped from then on.
 * - `stop()`: audio already queued (at most the bounded queue) is played out or, for files,
 *   written; then the device is closed. It resolves when the device is released, or after
 *   a bounded wait (the player is then killed).
 */
export interface AudioPlayback {
  on(event: 'error', listener: (err: Error) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  off(event: 'error', listener: (err: Error) => void): this;
  readonly frameSamples: number;
  readonly stats: Readonly<PlaybackStats>;
  start(): Promise<void>;
  write(frame: Buffer): void;
  stop(): Promise<void>;
}

/** The part of a `ChildProcess` the arecord and aplay backends use. */
export interface ChildProcessLike {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(
    event: 'close',
    listener: (code: number | null, signal: NodeJS.Signals | null) => void,
  ): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'spawn', listener: () => void): this;
}

/** How backends start a program: `child_process.spawn` by default, a fake in tests. */
export type SpawnFn = (
  command: string,
  args: readonly string[],
  options: { stdio: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe'] },
) => ChildProcessLike;
