/**
 * `arecord:PCM`: the microphone through alsa-utils' arecord in a child process, raw s16le
 * on its stdout. Also home of `AlsaUtilProcess`, the child-process handling that
 * `playback-aplay.ts` shares: stderr kept for error messages, xrun lines counted, exit
 * reported, and a bounded terminate (SIGTERM, then SIGKILL).
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { Reframer } from './reframer.ts';
import {
  type AudioCapture,
  type BackendDeps,
  BYTES_PER_SAMPLE,
  type CaptureEvents,
  type CaptureStats,
  type ChildProcessLike,
  checkFrameSamples,
  SAMPLE_RATE,
  type SpawnFn,
  within,
} from './types.ts';

/** How many stderr lines an error message quotes. */
const STDERR_LINES = 3;
/** alsa-utils' xrun line: `overrun!!! (at least 12.345 ms long)` (printed even with -q). */
const XRUN_LINE = /^(?:under|over)run!!!(?: \(at least ([\d.]+) ms long\))?/;

/** Options of `AlsaUtilProcess`. */
export interface AlsaUtilOptions {
  command: string;
  args: readonly string[];
  /** stdin: 'pipe' for aplay, 'ignore' for arecord; stdout the other way round. */
  stdio: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe'];
  spawnFn: SpawnFn;
  clock: Clock;
  log: Logger;
  /** An xrun line on stderr, with its lower bound on the gap when printed. */
  onXrun: (lostMs: number | null) => void;
}

/** arecord or aplay running as a child process. */
export class AlsaUtilProcess {
  /** The process; null when spawning threw (bad arguments). */
  readonly child: ChildProcessLike | null = null;
  /** Resolves when it started; rejects when it could not (not installed). */
  readonly spawned: Promise<void>;
  /** Resolves, with a description for error messages, once it has exited. */
  readonly exited: Promise<string>;
  readonly #opts: AlsaUtilOptions;
  readonly #lines: string[] = [];
  #partialLine = '';
  #hasExited = false;

  /** Spawns the program; never throws (a failed spawn rejects `spawned`). */
  constructor(opts: AlsaUtilOptions) {
    this.#opts = opts;
    let spawned!: { resolve: () => void; reject: (err: Error) => void };
    let exited!: (description: string) => void;
    this.spawned = new Promise((resolve, reject) => {
      spawned = { resolve, reject };
    });
    this.spawned.catch(() => {});
    this.exited = new Promise((resolve) => {
      exited = resolve;
    });
    const exit = (description: string) => {
      this.#hasExited = true;
      exited(description);
    };
    try {
      this.child = opts.spawnFn(opts.command, opts.args, { stdio: opts.stdio });
    } catch (err) {
      spawned.reject(this.#spawnError(err as Error));
      exit(`${opts.command} could not start`);
      return;
    }
    const child = this.child;
    child.once('spawn', () => spawned.resolve());
    child.once('error', (err) => {
      const e = this.#spawnError(err);
      spawned.reject(e);
      exit(e.message);
    });
    child.once('close', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const said = this.stderrTail();
      exit(`${opts.command} ${how}${said ? `: ${said}` : ''}`);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.#onStderr(text));
  }

  /** Whether the process has ended (or never started). */
  get hasExited(): boolean {
    return this.#hasExited;
  }

  /** The last few stderr lines, joined with "; ". */
  stderrTail(): string {
    const tail = this.#partialLine.trim()
      ? [...this.#lines, this.#partialLine.trim()]
      : this.#lines;
    return tail.slice(-STDERR_LINES).join('; ');
  }

  /**
   * Waits `graceMs` for it to exit by itself (after its stdin ended, say), then SIGTERM,
   * then SIGKILL; each wait bounded by the clock. Logs if it outlives all three.
   */
  async terminate(graceMs: number, killMs = 2000): Promise<void> {
    if (this.#hasExited) return;
    if (graceMs > 0 && (await within(this.#opts.clock, graceMs, this.exited))) return;
    this.child?.kill('SIGTERM');
    if (await within(this.#opts.clock, killMs, this.exited)) return;
    this.child?.kill('SIGKILL');
    if (await within(this.#opts.clock, killMs, this.exited)) return;
    this.#opts.log.error({ command: this.#opts.command }, 'child process ignores SIGKILL');
  }

  #spawnError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (not installed? apt install alsa-utils)' : '';
    return new Error(`${this.#opts.command} could not start: ${err.message}${hint}`, {
      cause: err,
    });
  }

  #onStderr(text: string): void {
    const parts = (this.#partialLine + text).split('\n');
    this.#partialLine = parts.pop() ?? '';
    for (const raw of parts) {
      const line = raw.trim();
      if (!line) continue;
      const xrun = XRUN_LINE.exec(line);
      if (xrun) {
        this.#opts.onXrun(xrun[1] === undefined ? null : Number(xrun[1]));
        continue;
      }
      // At debug: a failure quotes the last lines in its error, which its owner reports
      // once (resilient.ts); a card-less machine printed nine of these every retry.
      this.#opts.log.debug({ command: this.#opts.command, stderr: line }, 'alsa-utils says');
      this.#lines.push(line);
      if (this.#lines.length > STDERR_LINES) this.#lines.shift();
    }
  }
}

/** Options of `ArecordCapture`. */
export interface ArecordCaptureOptions extends BackendDeps {
  /** The ALSA PCM name: `default`, `plughw:CARD=Device,DEV=0`, ... */
  pcm: string;
  spawnFn?: SpawnFn;
  /** arecord's ALSA buffer (default 200 ms): how long a stall it rides out. */
  bufferMs?: number;
  /** arecord's ALSA period (default half a frame). */
  periodMs?: number;
  /** How long until the first audio arrives, at most (default 5 s). */
  openTimeoutMs?: number;
}

type ArecordState = 'idle' | 'opening' | 'running' | 'failed' | 'stopped';

/** `arecord:PCM` as an `AudioCapture`. Its exit, for whatever reason, is device loss. */
export class ArecordCapture extends EventEmitter<CaptureEvents> implements AudioCapture {
  readonly frameSamples: number;
  readonly pcm: string;
  readonly stats: CaptureStats = { frames: 0, overruns: 0 };
  readonly #deps: BackendDeps;
  readonly #spawnFn: SpawnFn;
  readonly #args: readonly string[];
  readonly #openTimeoutMs: number;
  readonly #reframer: Reframer;
  #state: ArecordState = 'idle';
  #proc: AlsaUtilProcess | undefined;
  #onOpen: (() => void) | undefined;

  constructor(opts: ArecordCaptureOptions) {
    super();
    checkFrameSamples(opts.frameSamples);
    this.frameSamples = opts.frameSamples;
    this.pcm = opts.pcm;
    this.#deps = opts;
    this.#spawnFn = opts.spawnFn ?? spawn;
    this.#openTimeoutMs = opts.openTimeoutMs ?? 5000;
    this.#reframer = new Reframer(opts.frameSamples * BYTES_PER_SAMPLE);
    const periodUs = Math.round((opts.periodMs ?? (opts.frameSamples * 500) / SAMPLE_RATE) * 1000);
    this.#args = [
      ...['-q', '-t', 'raw', '-f', 'S16_LE', '-r', String(SAMPLE_RATE), '-c', '1'],
      ...['-D', opts.pcm, `--period-time=${periodUs}`],
      `--buffer-time=${Math.round((opts.bufferMs ?? 200) * 1000)}`,
    ];
  }

  /** The arguments arecord is started with. */
  get args(): readonly string[] {
    return this.#args;
  }

  /**
   * Starts arecord; resolves with its first audio, rejects when it exits first (its stderr
   * in the message), is not installed, or sends nothing within `openTimeoutMs`.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error('capture already started');
    this.#state = 'opening';
    const { clock } = this.#deps;
    const proc = new AlsaUtilProcess({
      command: 'arecord',
      args: this.#args,
      stdio: ['ignore', 'pipe', 'pipe'],
      spawnFn: this.#spawnFn,
      clock,
      log: this.#deps.log,
      onXrun: (lostMs) => this.#onOverrun(lostMs),
    });
    this.#proc = proc;
    const opened = new Promise<void>((resolve) => {
      this.#onOpen = resolve;
    });
    proc.child?.stdout?.on('data', (chunk: Buffer) => this.#onAudio(chunk));
    proc.exited.then((description) => this.#fail(new Error(`${this.pcm}: ${description}`)));
    await within(clock, this.#openTimeoutMs, Promise.race([opened, proc.exited]));
    const state = this.#state as ArecordState;
    if (state === 'running') return;
    const why =
      state === 'stopped'
        ? 'capture stopped while opening'
        : proc.hasExited
          ? await proc.exited
          : `no audio within ${this.#openTimeoutMs} ms`;
    if (state === 'opening') this.#state = 'failed';
    await proc.terminate(0);
    throw new Error(`${this.pcm}: ${why}`);
  }

  /** Stops arecord (SIGTERM, SIGKILL if it must) and waits, bounded, for it to exit. */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    this.#reframer.reset();
    await this.#proc?.terminate(0);
  }

  #onAudio(chunk: Buffer): void {
    if (this.#state === 'opening') {
      this.#state = 'running';
      this.#deps.log.info({ pcm: this.pcm }, 'arecord capture open');
      this.#onOpen?.();
    }
    if (this.#state !== 'running') return;
    for (const frame of this.#reframer.push(chunk)) {
      if (this.#state !== 'running') return;
      this.stats.frames++;
      this.emit('frame', frame);
    }
  }

  #onOverrun(lostMs: number | null): void {
    if (this.#state !== 'running') return;
    this.stats.overruns++;
    this.#deps.log.warn({ pcm: this.pcm, lostMs }, 'capture overrun');
    this.emit('overrun', { lostMs });
  }

  #fail(err: Error): void {
    if (this.#state !== 'running') return;
    this.#state = 'failed';
    this.#reframer.reset();
    this.#deps.log.debug({ err, pcm: this.pcm }, 'arecord capture failed'); // its owner reports the error
    this.emit('error', err);
  }
}
