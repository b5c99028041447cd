/**
 * Devices that come and go. `ResilientCapture` and `ResilientPlayback` wrap a factory of
 * single-use backends: a device that fails to open, or disappears while running (USB
 * unplugged, arecord killed), is logged, reported as a 'state' change (and 'error' if
 * anyone listens), and opened again with exponential backoff and jitter until it is back.
 * Nothing here throws or rejects because of the device; time comes from the clock.
 *
 * The log says it once: the first failure of a streak is a warning with what to do
 * (`hint`); the retries after it are at debug, with a warning summing them up every
 * `summaryEveryMs` (5 min) while the device stays away, and one info line when it is back
 * (it ran `stableMs`). A machine without a sound card logged 77 warnings in 30 s before.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Backoff } from '../../shared/backoff.ts';
import type { Clock, Timer } from '../../shared/clock.ts';
import {
  type AudioCapture,
  type AudioPlayback,
  type CaptureEvents,
  type CaptureStats,
  type OverrunInfo,
  type PlaybackEvents,
  type PlaybackStats,
  within,
} from './types.ts';

/** Where a resilient device is in its life. */
export type DeviceState = 'stopped' | 'opening' | 'running' | 'waiting';

/** A 'state' event. */
export interface StateChange {
  state: DeviceState;
  /** Failed attempts since the device last ran steadily. */
  failures: number;
  /** With 'waiting': how long until the next attempt. */
  delayMs?: number;
  /** With 'waiting': what went wrong. */
  error?: Error;
}

/** Options of the resilient wrappers. */
export interface ResilientOptions {
  log: Logger;
  clock: Clock;
  frameSamples: number;
  /** First retry delay (default 500 ms), doubling up to `maxDelayMs` (default 10 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1] (default 0.3). */
  jitter?: number;
  random?: () => number;
  /** A device that ran this long before failing starts the backoff over (default 10 s). */
  stableMs?: number;
  /** An attempt neither opening nor failing in this time is abandoned (default 10 s). */
  openTimeoutMs?: number;
  /** What to do about a device that will not open, said with the first failure. */
  hint?: string;
  /** While failures go on, a summary warning this often (default 5 min); each retry is at debug. */
  summaryEveryMs?: number;
}

interface Device {
  start(): Promise<void>;
  stop(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
}

interface Hooks<D> {
  attach(device: D): void;
  detach(device: D): void;
  state(change: StateChange): void;
  error(err: Error): void;
}

/** The open / run / fail / wait / retry loop, shared by both wrappers. */
class Supervisor<D extends Device> {
  readonly #factory: () => D;
  readonly #opts: ResilientOptions;
  readonly #hooks: Hooks<D>;
  readonly #backoff: Backoff;
  #device: D | undefined;
  #stopped = true;
  #failures = 0;
  #openedAt = 0;
  /** When the current streak of failures began, and when it was last summed up. */
  #streakAt = 0;
  #summedAt = 0;
  #openedInStreak = false;
  #timer: Timer | undefined;
  #stableTimer: Timer | undefined;
  #attempt: Promise<void> = Promise.resolve();
  readonly #onError = (err: Error) => {
    void this.#lost(err);
  };

  constructor(factory: () => D, opts: ResilientOptions, hooks: Hooks<D>) {
    this.#factory = factory;
    this.#opts = opts;
    this.#hooks = hooks;
    this.#backoff = new Backoff({
      minMs: opts.minDelayMs ?? 500,
      maxMs: opts.maxDelayMs ?? 10_000,
      jitter: opts.jitter ?? 0.3,
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  /** The running device, if any. */
  get device(): D | undefined {
    return this.#device;
  }

  /** Makes the first attempt; resolves when it has opened or a retry is scheduled. */
  start(): Promise<void> {
    if (!this.#stopped) return this.#attempt;
    this.#stopped = false;
    this.#attempt = this.#open();
    return this.#attempt;
  }

  /** Cancels retries and stops the device; resolves when it is released. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    this.#stableTimer?.cancel();
    await this.#attempt;
    const device = this.#device;
    this.#device = undefined;
    if (device) {
      this.#hooks.detach(device);
      device.off('error', this.#onError);
      await this.#release(device);
    }
    this.#hooks.state({ state: 'stopped', failures: this.#failures });
  }

  async #open(): Promise<void> {
    this.#hooks.state({ state: 'opening', failures: this.#failures });
    const { clock } = this.#opts;
    let device: D | undefined;
    try {
      device = this.#factory();
      const started = device.start();
      started.catch(() => {});
      const timeoutMs = this.#opts.openTimeoutMs ?? 10_000;
      if (!(await within(clock, timeoutMs, started))) {
        throw new Error(`did not open within ${timeoutMs} ms`);
      }
      await started;
    } catch (err) {
      if (device) await this.#release(device);
      if (!this.#stopped) this.#retry(err as Error);
      return;
    }
    if (this.#stopped) {
      await this.#release(device);
      return;
    }
    this.#device = device;
    this.#openedAt = clock.now();
    device.on('error', this.#onError);
    this.#hooks.attach(device);
    // Once per streak at info: a device that opens and dies at once (aplay without a
    // card) would say it every retry.
    const level = this.#failures === 0 || !this.#openedInStreak ? 'info' : 'debug';
    this.#opts.log[level]({ failures: this.#failures }, 'audio device open');
    if (this.#failures > 0) {
      this.#openedInStreak = true;
      this.#stableTimer = clock.setTimeout(() => {
        this.#stableTimer = undefined;
        if (this.#device !== device || this.#stopped) return;
        this.#opts.log.info({ failedAttempts: this.#failures }, 'audio device back');
        this.#failures = 0;
        this.#backoff.reset();
      }, this.#opts.stableMs ?? 10_000);
    }
    this.#hooks.state({ state: 'running', failures: this.#failures });
  }

  async #lost(err: Error): Promise<void> {
    const device = this.#device;
    if (!device || this.#stopped) return;
    this.#device = undefined;
    this.#hooks.detach(device);
    device.off('error', this.#onError);
    this.#stableTimer?.cancel();
    this.#stableTimer = undefined;
    if (this.#opts.clock.now() - this.#openedAt >= (this.#opts.stableMs ?? 10_000)) {
      this.#failures = 0;
      this.#backoff.reset();
    }
    this.#attempt = this.#release(device).then(() => {
      if (!this.#stopped) this.#retry(err);
    });
    await this.#attempt;
  }

  #retry(err: Error): void {
    this.#failures++;
    const delayMs = this.#backoff.next();
    this.#report(err, delayMs);
    this.#hooks.error(err);
    this.#hooks.state({ state: 'waiting', failures: this.#failures, delayMs, error: err });
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#stopped) this.#attempt = this.#open();
    }, delayMs);
  }

  /** The first failure of a streak warns with the hint; later ones are at debug, summed up now and then. */
  #report(err: Error, delayMs: number): void {
    const { log, clock, hint } = this.#opts;
    const now = clock.now();
    if (this.#failures === 1) {
      this.#streakAt = now;
      this.#openedInStreak = false;
      this.#summedAt = now;
      log.warn(
        { err, delayMs, ...(hint ? { hint } : {}) },
        'audio device unavailable; retrying until it is back',
      );
      return;
    }
    log.debug({ err, failures: this.#failures, delayMs }, 'audio device unavailable');
    if (now - this.#summedAt < (this.#opts.summaryEveryMs ?? 300_000)) return;
    this.#summedAt = now;
    log.warn(
      { failedAttempts: this.#failures, forMs: now - this.#streakAt, lastError: err.message },
      'audio device still unavailable',
    );
  }

  async #release(device: D): Promise<void> {
    try {
      await device.stop();
    } catch (err) {
      this.#opts.log.warn({ err }, 'audio device did not stop cleanly');
    }
  }
}

/** Events of `ResilientCapture`: a capture's, plus 'state'. */
export interface ResilientCaptureEvents extends CaptureEvents {
  state: [change: StateChange];
}

/**
 * An `AudioCapture` that outlives its devices. `start()` resolves after the first attempt,
 * whether the device opened or not; frames flow whenever a device is running. 'error' is
 * emitted only when listened to; 'state' always.
 */
export class ResilientCapture extends EventEmitter<ResilientCaptureEvents> implements AudioCapture {
  readonly frameSamples: number;
  readonly stats: CaptureStats = { frames: 0, overruns: 0 };
  readonly #supervisor: Supervisor<AudioCapture>;
  #state: DeviceState = 'stopped';

  /** `factory` makes a fresh single-use capture for each attempt; it may throw. */
  constructor(factory: () => AudioCapture, opts: ResilientOptions) {
    super();
    this.frameSamples = opts.frameSamples;
    const onFrame = (pcm: Buffer) => {
      this.stats.frames++;
      this.emit('frame', pcm);
    };
    const onOverrun = (info: OverrunInfo) => {
      this.stats.overruns++;
      this.emit('overrun', info);
    };
    this.#supervisor = new Supervisor(factory, opts, {
      attach: (d) => d.on('frame', onFrame).on('overrun', onOverrun),
      detach: (d) => d.off('frame', onFrame).off('overrun', onOverrun),
      state: (change) => {
        this.#state = change.state;
        this.emit('state', change);
      },
      error: (err) => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      },
    });
  }

  get state(): DeviceState {
    return this.#state;
  }

  start(): Promise<void> {
    return this.#supervisor.start();
  }

  stop(): Promise<void> {
    return this.#supervisor.stop();
  }
}

/** Events of `ResilientPlayback`: a playback's, plus 'state'. */
export interface ResilientPlaybackEvents extends PlaybackEvents {
  state: [change: StateChange];
}

/**
 * An `AudioPlayback` that outlives its devices: writes go to the running device, or are
 * dropped and counted while there is none. Otherwise as `ResilientCapture`.
 */
export class ResilientPlayback
  extends EventEmitter<ResilientPlaybackEvents>
  implements AudioPlayback
{
  readonly frameSamples: number;
  readonly #supervisor: Supervisor<AudioPlayback>;
  /** Counters of devices gone, plus frames dropped with no device. */
  readonly #past: PlaybackStats = { frames: 0, dropped: 0, underruns: 0 };
  #state: DeviceState = 'stopped';

  /** `factory` makes a fresh single-use playback for each attempt; it may throw. */
  constructor(factory: () => AudioPlayback, opts: ResilientOptions) {
    super();
    this.frameSamples = opts.frameSamples;
    this.#supervisor = new Supervisor(factory, opts, {
      attach: () => {},
      detach: (d) => {
        this.#past.frames += d.stats.frames;
        this.#past.dropped += d.stats.dropped;
        this.#past.underruns += d.stats.underruns;
      },
      state: (change) => {
        this.#state = change.state;
        this.emit('state', change);
      },
      error: (err) => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      },
    });
  }

  get state(): DeviceState {
    return this.#state;
  }

  /** Totals over every device this playback has had. */
  get stats(): PlaybackStats {
    const now = this.#supervisor.device?.stats;
    return {
      frames: this.#past.frames + (now?.frames ?? 0),
      dropped: this.#past.dropped + (now?.dropped ?? 0),
      underruns: this.#past.underruns + (now?.underruns ?? 0),
    };
  }

  start(): Promise<void> {
    return this.#supervisor.start();
  }

  /** The running device's pipe (aplay's stdin; `AplayPlayback.pipeFd`), else null. */
  get pipeFd(): number | null {
    const device = this.#supervisor.device as { pipeFd?: number | null } | undefined;
    return device?.pipeFd ?? null;
  }

  write(frame: Buffer): void {
    const device = this.#supervisor.device;
    if (device) device.write(frame);
    else this.#past.dropped++;
  }

  stop(): Promise<void> {
    return this.#supervisor.stop();
  }
}
