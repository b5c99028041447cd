/**
 * `alsa:PCM`: the microphone through our own addon `babel-alsa` (native/alsa), in process.
 *
 * What the addon does (native/alsa/src/alsa_addon.c) and how it is handled here:
 * - `new Capture(pcm, { periodSize }, onEvent)` starts a thread of its own (not libuv's
 *   pool) that opens the PCM non-blocking and sets S16_LE, mono, 48000 Hz (dir 0) and the
 *   period, every hw-param call checked. A failure is one 'error' (`<call>: <ALSA message>`)
 *   and then 'close'. Success is 'open' with what ALSA chose, read back: a rate other than
 *   48000 fails the start (the agent does not resample: use `plughw:` or `default`).
 * - Then one 'data' per period (a Buffer of exactly `periodSize` frames, always new audio).
 *   'xrun' reports lost audio: an overrun (EPIPE, re-prepared), a suspend (ESTRPIPE), or
 *   periods dropped because this thread fell behind ('backlog', with their count). Any
 *   other read error (ENODEV when the USB device is unplugged, EIO) is an 'error': the
 *   device is lost, the thread ends and 'close' follows.
 * - 'close' is always the last event, once, after the PCM is closed and the thread joined.
 *   `close()` is safe at any time and returns at once; the thread, waiting in poll() with
 *   a wake-up descriptor, leaves promptly. Only a plugin blocked inside its own read (the
 *   `file` plugin on a FIFO) holds it longer: `stop()` waits `closeTimeoutMs` and logs it.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { AlsaError, CaptureListener, CaptureOptions, OpenInfo, XrunInfo } from 'babel-alsa';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../shared/clock.ts';
import { Reframer } from './reframer.ts';
import {
  type AudioCapture,
  type BackendDeps,
  BYTES_PER_SAMPLE,
  type CaptureEvents,
  type CaptureStats,
  checkFrameSamples,
  SAMPLE_RATE,
  within,
} from './types.ts';

/** The addon's options, events and errors (native/alsa/index.d.ts); the fake has the same. */
export type {
  AlsaError,
  CaptureListener,
  CaptureOptions,
  OpenInfo,
  XrunInfo,
} from 'babel-alsa';

/** A babel-alsa `Capture`: `close()` is all JS calls; everything else is an event. */
export interface AlsaNative {
  close(): void;
}

/** The addon's `Capture` class, or `FakeAlsaDevice.module` (fake-alsa.ts). */
export type AlsaModule = new (
  pcm: string,
  options: CaptureOptions,
  onEvent: CaptureListener,
) => AlsaNative;

/** Loads the babel-alsa addon at run time, so a missing native build is a clear error. */
export function loadAlsaCapture(): AlsaModule {
  try {
    const addon = createRequire(import.meta.url)('babel-alsa') as typeof import('babel-alsa');
    return addon.Capture;
  } catch (err) {
    throw new Error(
      `the babel-alsa native addon cannot be loaded (${(err as Error).message.split('\n')[0]}); ` +
        'rebuild it with "npm rebuild babel-alsa" (needs libasound2-dev), or use --capture arecord:PCM',
      { cause: err },
    );
  }
}

/** Options of `AlsaCapture`. */
export interface AlsaCaptureOptions extends BackendDeps {
  /** The ALSA PCM name: `default`, `plughw:CARD=Device,DEV=0`, ... */
  pcm: string;
  /** The addon's `Capture` to use; the real one, loaded at `start()`, by default. */
  alsaModule?: AlsaModule;
  /** Frames per ALSA period; need not divide the frame (default: half a frame). */
  periodSize?: number;
  /** How long the device may take to open (default 5 s). */
  openTimeoutMs?: number;
  /** How long `stop()` waits for the capture thread to let go (default 2 s). */
  closeTimeoutMs?: number;
}

type State = 'idle' | 'opening' | 'running' | 'failed' | 'stopped';

/** `alsa:PCM` as an `AudioCapture` (see the file comment for the addon's behaviour). */
export class AlsaCapture extends EventEmitter<CaptureEvents> implements AudioCapture {
  readonly frameSamples: number;
  readonly pcm: string;
  readonly stats: CaptureStats = { frames: 0, overruns: 0 };
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #module: AlsaModule | undefined;
  readonly #periodSize: number;
  readonly #openTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #reframer: Reframer;
  #state: State = 'idle';
  #native: AlsaNative | undefined;
  #closeRequested = false;
  #ended = false;
  #onEnded: (() => void) | undefined;
  #opening: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #openTimer: Timer | undefined;
  #periodMs = 0;

  constructor(opts: AlsaCaptureOptions) {
    super();
    checkFrameSamples(opts.frameSamples);
    this.frameSamples = opts.frameSamples;
    this.pcm = opts.pcm;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#module = opts.alsaModule;
    this.#periodSize = opts.periodSize ?? opts.frameSamples / 2;
    this.#openTimeoutMs = opts.openTimeoutMs ?? 5000;
    this.#closeTimeoutMs = opts.closeTimeoutMs ?? 2000;
    this.#reframer = new Reframer(opts.frameSamples * BYTES_PER_SAMPLE);
  }

  /** Opens the PCM; resolves on the addon's 'open' (at 48 kHz), rejects on its 'error'. */
  start(): Promise<void> {
    if (this.#state !== 'idle') return Promise.reject(new Error('capture already started'));
    this.#state = 'opening';
    return new Promise<void>((resolve, reject) => {
      this.#opening = { resolve, reject };
      try {
        const Capture = this.#module ?? loadAlsaCapture();
        this.#native = new Capture(this.pcm, { periodSize: this.#periodSize }, (...event) =>
          this.#onEvent(...event),
        );
      } catch (err) {
        this.#ended = true;
        this.#fail(err as Error);
        return;
      }
      this.#openTimer = this.#clock.setTimeout(
        () => this.#fail(new Error(`${this.pcm}: did not open within ${this.#openTimeoutMs} ms`)),
        this.#openTimeoutMs,
      );
    });
  }

  /** Closes the PCM and waits (bounded) for the capture thread to end. */
  async stop(): Promise<void> {
    const was = this.#state;
    this.#state = 'stopped';
    this.#reframer.reset();
    if (was === 'opening')
      this.#settleOpen(new Error(`${this.pcm}: capture stopped while opening`));
    this.#release();
    if (this.#ended || !this.#native) return;
    const ended = new Promise<void>((resolve) => {
      this.#onEnded = resolve;
    });
    if (!(await within(this.#clock, this.#closeTimeoutMs, ended))) {
      this.#log.warn(
        { pcm: this.pcm, waitedMs: this.#closeTimeoutMs },
        'alsa capture thread did not stop (blocked in a plugin read?)',
      );
    }
  }

  #onEvent: CaptureListener = (kind, arg) => {
    switch (kind) {
      case 'open':
        return this.#onOpen(arg as OpenInfo);
      case 'data':
        return this.#onData(arg as Buffer);
      case 'xrun':
        return this.#onXrun(arg as XrunInfo);
      case 'error': {
        const err = arg as AlsaError;
        const opening = this.#state === 'opening';
        this.#fail(new Error(`${this.pcm}: ${opening ? '' : 'device lost: '}${err.message}`));
        return;
      }
      case 'close':
        this.#ended = true;
        this.#onEnded?.();
        this.#fail(new Error(`${this.pcm}: capture closed unexpectedly`));
        return;
    }
  };

  #onOpen(info: OpenInfo): void {
    if (this.#state !== 'opening') return;
    if (info.rate !== SAMPLE_RATE) {
      this.#fail(
        new Error(
          `${this.pcm}: the device records at ${info.rate} Hz, not ${SAMPLE_RATE} Hz; ` +
            'use a converting PCM such as plughw: or default',
        ),
      );
      return;
    }
    this.#state = 'running';
    this.#periodMs = (info.periodSize * 1000) / SAMPLE_RATE;
    this.#log.info(
      { pcm: this.pcm, periodSize: info.periodSize, bufferSize: info.bufferSize },
      'alsa capture open',
    );
    this.#settleOpen();
  }

  #onData(data: Buffer): void {
    if (this.#state !== 'running') return;
    for (const frame of this.#reframer.push(data)) {
      if (this.#state !== 'running') return;
      this.stats.frames++;
      this.emit('frame', frame);
    }
  }

  #onXrun(info: XrunInfo): void {
    if (this.#state !== 'running') return;
    this.stats.overruns++;
    const lostMs = info.periods > 0 ? Math.round(info.periods * this.#periodMs) : null;
    this.#log.warn({ pcm: this.pcm, cause: info.cause, periods: info.periods }, 'capture overrun');
    this.emit('overrun', { lostMs });
  }

  #release(): void {
    this.#openTimer?.cancel();
    if (this.#native && !this.#ended && !this.#closeRequested) {
      this.#closeRequested = true;
      this.#native.close();
    }
  }

  #settleOpen(err?: Error): void {
    this.#openTimer?.cancel();
    const opening = this.#opening;
    this.#opening = undefined;
    if (err) opening?.reject(err);
    else opening?.resolve();
  }

  #fail(err: Error): void {
    const was = this.#state;
    if (was !== 'opening' && was !== 'running') return;
    this.#state = 'failed';
    this.#reframer.reset();
    this.#release();
    if (was === 'opening') {
      this.#settleOpen(err);
    } else {
      this.#log.debug({ err, pcm: this.pcm }, 'alsa capture failed'); // its owner reports the error
      this.emit('error', err);
    }
  }
}
