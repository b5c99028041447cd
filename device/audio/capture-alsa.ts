/**
 * `alsa:PCM`: the microphone through the alsa-capture native module, in process.
 *
 * What alsa-capture does (node_modules/alsa-capture/capture.cc) and how it is handled here:
 * - `new AlsaCapture(opts)` queues a worker on libuv's thread pool (it holds one pool
 *   thread until it ends) that opens the PCM and sets hw params. Open or hw-param failure:
 *   one 'error' (an Error, message ending in "\n"), and the worker is deleted; no 'close'
 *   follows, and calling `close()` then would touch freed memory, so it is never called.
 * - Success: 'rateDeviating' / 'periodSizeDeviating' if ALSA chose other values, then
 *   always 'periodTime' (microseconds, as a string): that is the "open" signal. A deviating
 *   rate fails the start: the agent does not resample (use `plughw:` or `default`). The
 *   return values of set_format/set_channels are ignored by the module, so a `hw:` PCM
 *   that cannot do S16_LE mono may overflow its stack buffer: prefer `plughw:`.
 * - Then `snd_pcm_readi` of one period per loop, each period emitted as 'audio' (a Buffer
 *   of `periodSize * 2` bytes) whatever happened: after 'overrun' (EPIPE, re-prepared) the
 *   next 'audio' is stale, so it is dropped; after 'shortRead' (n) only its first n frames
 *   are new; after 'readError' (any other error: ENODEV when the USB device is unplugged,
 *   ESTRPIPE, EIO) the module loops on, so this instance treats it as device loss.
 * - `close()` sets a flag read once per period; 'close' comes after the thread leaves
 *   `snd_pcm_readi`, drains and closes the PCM. A read blocked forever never closes:
 *   `stop()` gives up after `closeTimeoutMs` and logs it.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
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

/** The options alsa-capture's constructor takes (its README). */
export interface AlsaNativeOptions {
  channels?: number;
  debug?: boolean;
  device?: string;
  format?: string;
  periodSize?: number;
  periodTime?: number;
  rate?: number;
}

/** An alsa-capture instance: an event emitter with `close()`. */
export interface AlsaNative {
  // biome-ignore lint/suspicious/noExplicitAny: each event has its own arguments (see above)
  on(event: string, listener: (...args: any[]) => void): unknown;
  close(): void;
}

/** The alsa-capture module's export (a class), or the fake in `fake-alsa.ts`. */
export type AlsaModule = new (options?: AlsaNativeOptions) => AlsaNative;

/** Loads the real alsa-capture at run time, so a missing native build is a clear error. */
export function loadAlsaCapture(): AlsaModule {
  try {
    return createRequire(import.meta.url)('alsa-capture') as AlsaModule;
  } catch (err) {
    throw new Error(
      `the alsa-capture native module cannot be loaded (${(err as Error).message.split('\n')[0]}); ` +
        'rebuild it with "npm rebuild alsa-capture" (needs libasound2-dev), or use --capture arecord:PCM',
      { cause: err },
    );
  }
}

/** Options of `AlsaCapture`. */
export interface AlsaCaptureOptions extends BackendDeps {
  /** The ALSA PCM name: `default`, `plughw:CARD=Device,DEV=0`, ... */
  pcm: string;
  /** The module to use; the real alsa-capture, loaded at `start()`, by default. */
  alsaModule?: AlsaModule;
  /** Frames per ALSA period; need not divide the frame (default: half a frame). */
  periodSize?: number;
  /** How long the device may take to open (default 5 s). */
  openTimeoutMs?: number;
  /** How long `stop()` waits for the capture thread to let go (default 2 s). */
  closeTimeoutMs?: number;
}

type State = 'idle' | 'opening' | 'running' | 'failed' | 'stopped';

/** `alsa:PCM` as an `AudioCapture` (see the file comment for the module's behaviour). */
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
  #dropNextPeriod = false;
  #shortFrames: number | undefined;

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

  /** Opens the PCM; resolves on alsa-capture's 'periodTime', rejects on its 'error'. */
  start(): Promise<void> {
    if (this.#state !== 'idle') return Promise.reject(new Error('capture already started'));
    this.#state = 'opening';
    return new Promise<void>((resolve, reject) => {
      this.#opening = { resolve, reject };
      try {
        const Module = this.#module ?? loadAlsaCapture();
        this.#native = new Module({
          device: this.pcm,
          rate: SAMPLE_RATE,
          channels: 1,
          format: 'S16_LE',
          periodSize: this.#periodSize,
        });
      } catch (err) {
        this.#ended = true;
        this.#fail(err as Error);
        return;
      }
      this.#listen(this.#native);
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
        'alsa capture thread did not stop (blocked in snd_pcm_readi?)',
      );
    }
  }

  #listen(native: AlsaNative): void {
    native.on('periodTime', (us: string) => {
      if (this.#state !== 'opening') return;
      this.#state = 'running';
      this.#log.info({ pcm: this.pcm, periodUs: Number(us) }, 'alsa capture open');
      this.#settleOpen();
    });
    native.on('rateDeviating', (rate: string) => {
      this.#fail(
        new Error(
          `${this.pcm}: the device records at ${rate} Hz, not ${SAMPLE_RATE} Hz; ` +
            'use a converting PCM such as plughw: or default',
        ),
      );
    });
    native.on('periodSizeDeviating', (frames: string) => {
      this.#log.debug({ pcm: this.pcm, periodSize: Number(frames) }, 'ALSA chose another period');
    });
    native.on('audio', (data: Uint8Array) => this.#onAudio(data));
    native.on('overrun', () => {
      if (this.#state !== 'running') return;
      this.#dropNextPeriod = true;
      this.stats.overruns++;
      this.#log.warn({ pcm: this.pcm }, 'capture overrun');
      this.emit('overrun', { lostMs: null });
    });
    native.on('shortRead', (frames: string) => {
      this.#shortFrames = Number(frames);
    });
    native.on('readError', (message: string) => {
      this.#fail(new Error(`${this.pcm}: read error: ${message}`));
    });
    native.on('error', (err: Error | string) => {
      this.#end();
      const message = (err instanceof Error ? err.message : String(err)).trim();
      this.#fail(new Error(`${this.pcm}: ${message}`));
    });
    native.on('close', () => {
      this.#end();
      this.#fail(new Error(`${this.pcm}: capture closed unexpectedly`));
    });
  }

  #onAudio(data: Uint8Array): void {
    if (this.#state !== 'running') return;
    const short = this.#shortFrames;
    this.#shortFrames = undefined;
    if (this.#dropNextPeriod) {
      this.#dropNextPeriod = false;
      return;
    }
    const chunk = short === undefined ? data : data.subarray(0, short * BYTES_PER_SAMPLE);
    for (const frame of this.#reframer.push(chunk)) {
      if (this.#state !== 'running') return;
      this.stats.frames++;
      this.emit('frame', frame);
    }
  }

  /** The worker has ended ('error' or 'close'): never call its `close()` again. */
  #end(): void {
    this.#ended = true;
    this.#onEnded?.();
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
      this.#log.warn({ err, pcm: this.pcm }, 'alsa capture failed');
      this.emit('error', err);
    }
  }
}
