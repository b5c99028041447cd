/**
 * `aplay:PCM`: the speaker through alsa-utils' aplay in a child process, raw s16le on its
 * stdin, with a small ALSA buffer. aplay gives no sign that it opened the device, so
 * `start()` resolves once it runs and an open failure is the 'error' of its early exit.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { AlsaUtilProcess } from './capture-arecord.ts';
import {
  type AudioPlayback,
  type BackendDeps,
  BYTES_PER_SAMPLE,
  checkFrameSamples,
  frameMs,
  type PlaybackEvents,
  type PlaybackStats,
  SAMPLE_RATE,
  type SpawnFn,
} from './types.ts';

/** aplay's ALSA buffer unless told otherwise; aplay starts playing once it is full. */
export const APLAY_BUFFER_MS = 60;

/** Options of `AplayPlayback`. */
export interface AplayPlaybackOptions extends BackendDeps {
  /** The ALSA PCM name: `default`, `plughw:CARD=Device,DEV=0`, ... */
  pcm: string;
  spawnFn?: SpawnFn;
  /** aplay's ALSA buffer (default 60 ms). */
  bufferMs?: number;
  /**
   * Most audio ahead of the speaker, counted from the clock (default 200 ms): a frame that
   * would queue more is dropped, so a sender running fast cannot build up delay in the pipe.
   */
  maxLatencyMs?: number;
  /** How long `stop()` lets aplay play what it holds before killing it (default 1 s). */
  drainTimeoutMs?: number;
}

type AplayState = 'idle' | 'opening' | 'running' | 'failed' | 'stopped';

/** `aplay:PCM` as an `AudioPlayback`. */
export class AplayPlayback extends EventEmitter<PlaybackEvents> implements AudioPlayback {
  readonly frameSamples: number;
  readonly pcm: string;
  readonly stats: PlaybackStats = { frames: 0, dropped: 0, underruns: 0 };
  readonly args: readonly string[];
  readonly #deps: BackendDeps;
  readonly #spawnFn: SpawnFn;
  readonly #frameBytes: number;
  readonly #frameMs: number;
  readonly #maxLatencyMs: number;
  readonly #drainTimeoutMs: number;
  readonly #maxQueueBytes: number;
  #state: AplayState = 'idle';
  #proc: AlsaUtilProcess | undefined;
  /** Clock time at which the audio written so far will have been played. */
  #playedBy = 0;

  constructor(opts: AplayPlaybackOptions) {
    super();
    checkFrameSamples(opts.frameSamples);
    this.frameSamples = opts.frameSamples;
    this.pcm = opts.pcm;
    this.#deps = opts;
    this.#spawnFn = opts.spawnFn ?? spawn;
    this.#frameBytes = opts.frameSamples * BYTES_PER_SAMPLE;
    this.#frameMs = frameMs(opts.frameSamples);
    this.#maxLatencyMs = opts.maxLatencyMs ?? 200;
    this.#drainTimeoutMs = opts.drainTimeoutMs ?? 1000;
    this.#maxQueueBytes = Math.ceil(this.#maxLatencyMs / this.#frameMs) * this.#frameBytes;
    this.args = [
      ...['-q', '-t', 'raw', '-f', 'S16_LE', '-r', String(SAMPLE_RATE), '-c', '1'],
      ...['-D', opts.pcm, `--buffer-time=${Math.round((opts.bufferMs ?? APLAY_BUFFER_MS) * 1000)}`],
    ];
  }

  /** Starts aplay; rejects when it cannot be started (not installed). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error('playback already started');
    this.#state = 'opening';
    const proc = new AlsaUtilProcess({
      command: 'aplay',
      args: this.args,
      stdio: ['pipe', 'ignore', 'pipe'],
      spawnFn: this.#spawnFn,
      clock: this.#deps.clock,
      log: this.#deps.log,
      onXrun: () => {
        this.stats.underruns++;
      },
    });
    this.#proc = proc;
    // EPIPE when aplay has died: its exit reports that.
    proc.child?.stdin?.on('error', () => {});
    proc.exited.then((description) => this.#fail(new Error(`${this.pcm}: ${description}`)));
    try {
      await proc.spawned;
    } catch (err) {
      this.#state = 'failed';
      throw new Error(`${this.pcm}: ${(err as Error).message}`, { cause: err });
    }
    if ((this.#state as AplayState) !== 'opening') {
      await proc.terminate(0);
      throw new Error(`${this.pcm}: playback stopped while opening`);
    }
    if (proc.hasExited) {
      this.#state = 'failed';
      throw new Error(`${this.pcm}: ${await proc.exited}`);
    }
    this.#state = 'running';
    this.#deps.log.debug({ pcm: this.pcm }, 'aplay playback started');
  }

  /**
   * The descriptor of aplay's stdin while it runs, else null: the native media loop writes
   * a call's frames there itself (issue 15; it writes to a dup of it, so this side closing
   * it never redirects those writes). Node's pipe handle has it on Unix.
   */
  get pipeFd(): number | null {
    if (this.#state !== 'running') return null;
    const handle = (this.#proc?.child?.stdin as unknown as { _handle?: { fd?: unknown } })?._handle;
    return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : null;
  }

  /** Queues one frame, or drops it (counted) when not running, behind or mis-sized. */
  write(frame: Buffer): void {
    const stdin = this.#proc?.child?.stdin;
    if (this.#state !== 'running' || !stdin || frame.length !== this.#frameBytes) {
      this.stats.dropped++;
      return;
    }
    const now = this.#deps.clock.now();
    const playedBy = Math.max(this.#playedBy, now);
    // Ahead of the speaker by the clock, or aplay not reading at all (pipe full).
    if (
      playedBy + this.#frameMs - now > this.#maxLatencyMs ||
      stdin.writableLength > this.#maxQueueBytes
    ) {
      this.stats.dropped++;
      return;
    }
    this.#playedBy = playedBy + this.#frameMs;
    this.stats.frames++;
    stdin.write(frame);
  }

  /** Ends aplay's input so it plays what it holds, then waits (bounded) for it to exit. */
  async stop(): Promise<void> {
    const was = this.#state;
    this.#state = 'stopped';
    const proc = this.#proc;
    if (!proc || was === 'idle') return;
    proc.child?.stdin?.end();
    await proc.terminate(this.#drainTimeoutMs);
  }

  #fail(err: Error): void {
    if (this.#state !== 'running') return;
    this.#state = 'failed';
    this.#deps.log.debug({ err, pcm: this.pcm }, 'aplay playback failed'); // its owner reports the error
    this.emit('error', err);
  }
}
