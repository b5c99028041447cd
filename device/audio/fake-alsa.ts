/**
 * A fake of the alsa-capture module, in the product like serialport's binding-mock: same
 * constructor, options and events as the native one (including its quirks, see
 * `capture-alsa.ts`), a tone instead of a microphone, time from an injected `Clock`.
 * `FakeAlsaDevice` is the USB microphone; its methods are the test controls.
 *
 * ```ts
 * const mic = new FakeAlsaDevice({ clock, toneHz: 1000 });
 * const capture = new AlsaCapture({ pcm: 'fake', alsaModule: mic.module, ... });
 * mic.unplug(); mic.plug(); mic.overrun(5);
 * ```
 */
import { EventEmitter } from 'node:events';
import type { Clock, Timer } from '../../shared/clock.ts';
import { generateTone } from '../media/tone.ts';
import type { AlsaModule, AlsaNativeOptions } from './capture-alsa.ts';
import { SAMPLE_RATE } from './types.ts';

/** Options of `FakeAlsaDevice`. */
export interface FakeAlsaDeviceOptions {
  clock: Clock;
  /** Frequency of the tone it "records" (default 440 Hz). */
  toneHz?: number;
  /** Its level in sample units (default 8192). */
  amplitude?: number;
  /** The one rate the card supports (default 48000); another request gets 'rateDeviating'. */
  rate?: number;
}

/**
 * The fake microphone. Every `new device.module(opts)` opens it; the controls act on the
 * instances open at the time, as the hardware would.
 */
export class FakeAlsaDevice {
  /** Pass as `alsaModule`: a class with alsa-capture's constructor and events. */
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
      constructor(options?: AlsaNativeOptions) {
        super(device, options ?? {});
      }
    };
  }

  /** Instances open now (capturing, or lost and not yet closed). */
  get openInstances(): number {
    return this.#instances.size;
  }

  get plugged(): boolean {
    return this.#plugged;
  }

  /**
   * Pulls the USB plug. Open instances get, every period, 'readError' "No such device"
   * and a stale 'audio' (what capture.cc does on ENODEV) until closed; opens fail.
   */
  unplug(): void {
    this.#plugged = false;
    for (const c of this.#instances) c.lose();
  }

  /** Plugs it back: new opens succeed; instances lost before stay lost, as with ALSA. */
  plug(): void {
    this.#plugged = true;
  }

  /** Open instances lose the next `periods` periods, then report 'overrun' + a stale 'audio'. */
  overrun(periods: number): void {
    for (const c of this.#instances) c.skip(periods);
  }

  /** The next period of open instances holds only `frames` new frames ('shortRead'). */
  shortRead(frames: number): void {
    for (const c of this.#instances) c.short(frames);
  }

  /** While set, opens fail with `Unable to open PCM device: <message>` (e.g. busy). */
  failOpens(message: string | null): void {
    this.#openError = message;
  }

  /** Open instances end with an 'error' event and no 'close' (the worker failing). */
  injectError(message: string): void {
    for (const c of this.#instances) c.fail(message);
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

/** One fake alsa-capture instance; construct it through `FakeAlsaDevice.module`. */
export class FakeAlsaCapture extends EventEmitter {
  readonly #device: FakeAlsaDevice;
  readonly #channels: number;
  readonly #periodSize: number;
  readonly #periodMs: number;
  #timer: Timer | undefined;
  #startedAt = 0;
  #periods = 0;
  #sample = 0;
  #last: Buffer;
  #skip = 0;
  #short: number | undefined;
  #lost = false;
  #hung = false;
  #ended = false;

  constructor(device: FakeAlsaDevice, opts: AlsaNativeOptions) {
    super();
    // The native module's own checks and messages.
    const channels = opts.channels ?? 2;
    const rate = opts.rate ?? 44100;
    const periodSize = opts.periodSize ?? 32;
    if (!(channels > 0)) throw new Error('channels has to be a positive number');
    if (!(rate >= 4000 && rate <= 384000)) {
      throw new Error('rate has to be a value between 4000 and 384000');
    }
    if (!(periodSize > 0)) throw new Error('period_size has to be a positive number');
    if ((opts.format ?? 'S16_LE') !== 'S16_LE') {
      throw new Error(`format not supported by the fake: ${opts.format}`);
    }
    this.#device = device;
    this.#channels = channels;
    this.#periodSize = periodSize;
    this.#periodMs = (periodSize * 1000) / device.rate;
    this.#last = Buffer.alloc(periodSize * channels * 2);
    process.nextTick(() => this.#open(rate));
  }

  /** Ends capture; 'close' follows asynchronously (never, if the device hangs). */
  close(): void {
    if (this.#ended || this.#hung) return;
    this.#end();
    process.nextTick(() => this.emit('close'));
  }

  /** @internal */
  lose(): void {
    this.#lost = true;
  }

  /** @internal */
  skip(periods: number): void {
    this.#skip += periods;
  }

  /** @internal */
  short(frames: number): void {
    this.#short = frames;
  }

  /** @internal */
  fail(message: string): void {
    if (this.#ended) return;
    this.#end();
    this.emit('error', new Error(`${message}\n`));
  }

  /** @internal */
  hang(): void {
    this.#hung = true;
    this.#timer?.cancel();
  }

  #open(rate: number): void {
    const error = this.#device.openResult(this);
    if (error !== null) {
      this.#ended = true;
      this.emit('error', new Error(`Unable to open PCM device: ${error}\n`));
      return;
    }
    if (rate !== this.#device.rate) this.emit('rateDeviating', String(this.#device.rate));
    this.emit('periodTime', String(Math.round(this.#periodMs * 1000)));
    this.#startedAt = this.#device.clock.now();
    this.#timer = this.#device.clock.setInterval(() => this.#tick(), this.#periodMs);
  }

  #tick(): void {
    const due = Math.floor((this.#device.clock.now() - this.#startedAt) / this.#periodMs);
    while (this.#periods < due && !this.#ended && !this.#hung) {
      this.#periods++;
      this.#period();
    }
  }

  /** One `snd_pcm_readi` of capture.cc's loop. */
  #period(): void {
    if (this.#lost) {
      this.emit('readError', 'No such device');
      this.emit('audio', Buffer.from(this.#last));
      return;
    }
    const fresh = this.#record();
    if (this.#skip > 0) {
      this.#skip--;
      if (this.#skip > 0) return;
      this.emit('overrun', 'overrun occurred');
      this.emit('audio', Buffer.from(this.#last));
      return;
    }
    const short = this.#short;
    this.#short = undefined;
    if (short !== undefined && short < this.#periodSize) {
      const bytes = short * this.#channels * 2;
      this.#sample -= this.#periodSize - short;
      fresh.copy(this.#last, 0, 0, bytes);
      this.emit('shortRead', String(short));
    } else {
      fresh.copy(this.#last);
    }
    this.emit('audio', Buffer.from(this.#last));
  }

  /** The next period of tone, interleaved over the channels. */
  #record(): Buffer {
    const { toneHz, amplitude, rate } = this.#device;
    const phase = (2 * Math.PI * ((toneHz * this.#sample) % rate)) / rate;
    this.#sample += this.#periodSize;
    const mono = generateTone(toneHz, (this.#periodSize * 1000) / rate, rate, amplitude, phase);
    if (this.#channels === 1) return mono;
    const out = Buffer.alloc(mono.length * this.#channels);
    for (let i = 0; i < this.#periodSize; i++) {
      for (let c = 0; c < this.#channels; c++) {
        out.writeInt16LE(mono.readInt16LE(i * 2), (i * this.#channels + c) * 2);
      }
    }
    return out;
  }

  #end(): void {
    this.#ended = true;
    this.#timer?.cancel();
    this.#device.ended(this);
  }
}
