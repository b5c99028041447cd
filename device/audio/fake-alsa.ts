/**
 * A fake of the babel-alsa addon (native/alsa), in the product like serialport's
 * binding-mock: the same `Capture` constructor, option checks and events, in the same order
 * (see `capture-alsa.ts`), a tone instead of a microphone, time from an injected `Clock`.
 * `FakeAlsaDevice` is the USB microphone; its methods are the test controls.
 *
 * ```ts
 * const mic = new FakeAlsaDevice({ clock, toneHz: 1000 });
 * const capture = new AlsaCapture({ pcm: 'fake', alsaModule: mic.module, ... });
 * mic.unplug(); mic.plug(); mic.overrun(5); mic.fallBehind(3);
 * ```
 */
import type { CaptureListener, CaptureOptions } from 'babel-alsa';
import type { Clock, Timer } from '../../shared/clock.ts';
import { generateTone } from '../media/tone.ts';
import type { AlsaModule } from './capture-alsa.ts';
import { SAMPLE_RATE } from './types.ts';

/** Options of `FakeAlsaDevice`. */
export interface FakeAlsaDeviceOptions {
  clock: Clock;
  /** Frequency of the tone it "records" (default 440 Hz). */
  toneHz?: number;
  /** Its level in sample units (default 8192). */
  amplitude?: number;
  /** The one rate the card supports (default 48000): what 'open' reports. */
  rate?: number;
}

/**
 * The fake microphone. Every `new device.module(...)` opens it; the controls act on the
 * instances open at the time, as the hardware would.
 */
export class FakeAlsaDevice {
  /** Pass as `alsaModule`: a class with the addon's `Capture` constructor and events. */
  readonly module: AlsaModule;
  readonly clock: Clock;
  readonly toneHz: number;
  readonly amplitude: number;
  readonly rate: number;
  /** Open attempts so far, successful or not. */
  opens = 0;
  readonly #instances = new Set<FakeAlsaCapture>();
  #plugged = true;
  #openError: string | null = null;

  constructor(opts: FakeAlsaDeviceOptions) {
    this.clock = opts.clock;
    this.toneHz = opts.toneHz ?? 440;
    this.amplitude = opts.amplitude ?? 8192;
    this.rate = opts.rate ?? SAMPLE_RATE;
    const device = this;
    this.module = class extends FakeAlsaCapture {
      constructor(pcm: string, options: CaptureOptions, onEvent: CaptureListener) {
        super(device, pcm, options, onEvent);
      }
    };
  }

  /** Instances open now (opened and not yet closed). */
  get openInstances(): number {
    return this.#instances.size;
  }

  get plugged(): boolean {
    return this.#plugged;
  }

  /** Pulls the USB plug: open instances report 'error' (ENODEV) then 'close'; opens fail. */
  unplug(): void {
    this.#plugged = false;
    for (const c of this.#instances) c.fail('snd_pcm_readi: No such device', -19);
  }

  /** Plugs it back: new opens succeed. */
  plug(): void {
    this.#plugged = true;
  }

  /** Open instances lose the next `periods` periods, then report an 'overrun' xrun. */
  overrun(periods: number): void {
    for (const c of this.#instances) c.skip(periods, 'overrun');
  }

  /** As if JS had not taken `periods` periods in time: dropped, then a 'backlog' xrun. */
  fallBehind(periods: number): void {
    for (const c of this.#instances) c.skip(periods, 'backlog');
  }

  /** While set, opens fail with `snd_pcm_open: <message>` (e.g. "Device or resource busy"). */
  failOpens(message: string | null): void {
    this.#openError = message;
  }

  /** Open instances end with an 'error' `snd_pcm_readi: <message>`, then 'close'. */
  injectError(message: string): void {
    for (const c of this.#instances) c.fail(`snd_pcm_readi: ${message}`, -5);
  }

  /** Open instances hang: no more audio, and `close()` never completes (a stuck read). */
  stall(): void {
    for (const c of this.#instances) c.hang();
  }

  /** @internal an instance asks to open: the error message, or null. */
  openResult(instance: FakeAlsaCapture): string | null {
    this.opens++;
    if (!this.#plugged) return 'No such file or directory';
    if (this.#openError !== null) return this.#openError;
    this.#instances.add(instance);
    return null;
  }

  /** @internal an instance has ended. */
  ended(instance: FakeAlsaCapture): void {
    this.#instances.delete(instance);
  }
}

/** The addon's argument checks, with its messages. */
function checkArgs(pcm: unknown, options: unknown, onEvent: unknown): [number, number] {
  if (typeof pcm !== 'string' || typeof options !== 'object' || options === null) {
    throw new TypeError('usage: new Capture(pcm: string, { periodSize, periods? }, onEvent)');
  }
  if (typeof onEvent !== 'function') {
    throw new TypeError('usage: new Capture(pcm: string, { periodSize, periods? }, onEvent)');
  }
  if (pcm.length === 0 || Buffer.byteLength(pcm) > 254 || pcm.includes('\0')) {
    throw new RangeError('pcm must be a PCM name of 1 to 254 bytes');
  }
  const { periodSize, periods = 4 } = options as Partial<CaptureOptions>;
  if (periodSize === undefined) throw new TypeError('options.periodSize is required');
  const check = (name: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`options.${name} must be an integer from ${min} to ${max}`);
    }
    return v;
  };
  return [check('periodSize', periodSize, 16, 48000), check('periods', periods, 2, 64)];
}

/** Defers like the addon's thread-safe function: events never arrive inside a call. */
const later = (fn: () => void) => process.nextTick(fn);

/** One fake `Capture`; construct it through `FakeAlsaDevice.module`. */
export class FakeAlsaCapture {
  readonly #device: FakeAlsaDevice;
  readonly #onEvent: CaptureListener;
  readonly #periodSize: number;
  readonly #periodMs: number;
  #timer: Timer | undefined;
  #startedAt = 0;
  #periods = 0;
  #sample = 0;
  #skip = 0;
  #skipCause: 'overrun' | 'backlog' = 'overrun';
  #skipped = 0;
  #hung = false;
  #stopping = false;
  #ended = false;

  constructor(
    device: FakeAlsaDevice,
    pcm: string,
    options: CaptureOptions,
    onEvent: CaptureListener,
  ) {
    const [periodSize, periods] = checkArgs(pcm, options, onEvent);
    this.#device = device;
    this.#onEvent = onEvent;
    this.#periodSize = periodSize;
    this.#periodMs = (periodSize * 1000) / device.rate;
    later(() => this.#open(periodSize * periods));
  }

  /** Asks the capture to stop; 'close' follows asynchronously (never, if the device hangs). */
  close(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#hung || this.#ended) return;
    this.#timer?.cancel();
    later(() => this.#end());
  }

  /** @internal */
  skip(periods: number, cause: 'overrun' | 'backlog'): void {
    this.#skip += periods;
    this.#skipCause = cause;
  }

  /** @internal the device fails: 'error', then 'close'. */
  fail(message: string, errno: number): void {
    if (this.#ended || this.#hung) return;
    this.#timer?.cancel();
    this.#onEvent('error', Object.assign(new Error(message), { errno }));
    this.#end();
  }

  /** @internal */
  hang(): void {
    this.#hung = true;
    this.#timer?.cancel();
  }

  #open(bufferSize: number): void {
    const error = this.#device.openResult(this);
    if (error !== null) {
      this.#onEvent('error', Object.assign(new Error(`snd_pcm_open: ${error}`), { errno: -2 }));
      this.#ended = true;
      this.#onEvent('close', undefined);
      return;
    }
    if (this.#stopping) {
      this.#end();
      return;
    }
    this.#onEvent('open', {
      rate: this.#device.rate,
      periodSize: this.#periodSize,
      bufferSize,
    });
    this.#startedAt = this.#device.clock.now();
    this.#timer = this.#device.clock.setInterval(() => this.#tick(), this.#periodMs);
  }

  #tick(): void {
    const due = Math.floor((this.#device.clock.now() - this.#startedAt) / this.#periodMs);
    while (this.#periods < due && !this.#ended && !this.#hung && !this.#stopping) {
      this.#periods++;
      this.#period();
    }
  }

  /** One period of the addon's read loop. */
  #period(): void {
    const fresh = this.#record();
    if (this.#skip > 0) {
      this.#skip--;
      this.#skipped++;
      if (this.#skip > 0) return;
      const periods = this.#skipCause === 'backlog' ? this.#skipped : 0;
      this.#skipped = 0;
      this.#onEvent('xrun', { cause: this.#skipCause, periods });
      return;
    }
    this.#onEvent('data', fresh);
  }

  /** The next period of tone. */
  #record(): Buffer {
    const { toneHz, amplitude, rate } = this.#device;
    const phase = (2 * Math.PI * ((toneHz * this.#sample) % rate)) / rate;
    this.#sample += this.#periodSize;
    return generateTone(toneHz, (this.#periodSize * 1000) / rate, rate, amplitude, phase);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#timer?.cancel();
    this.#device.ended(this);
    this.#onEvent('close', undefined);
  }
}
