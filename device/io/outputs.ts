/**
 * The `Output` seam (status LED, door-release relay): a GPIO pin through onoff, or a fake
 * that records transitions. `Led` plays the status patterns and `DoorRelay` pulses the
 * strike, both with the injected clock. Nothing here throws because the pin misbehaves.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../shared/clock.ts';
import { asError } from './button.ts';
import { type GpioFactory, onoffGpio, SYSFS_GPIO, sysfsLine } from './gpio-base.ts';

/** A binary output. Neither method throws. */
export interface Output {
  /**
   * Drives the output; true when it now holds that level, false when the write failed
   * (the pin could not be opened or written: a fault the caller may report).
   */
  set(on: boolean): boolean;
  close(): void;
}

/** Options of a `GpioOutput`; the seams default to onoff and the real sysfs. */
export interface GpioOutputOptions {
  readonly bcm: number;
  /** The load is on when the pin is low (an LED to 3V3, many relay boards). */
  readonly activeLow?: boolean;
  readonly log: Logger;
  readonly sysfsRoot?: string;
  readonly gpioFactory?: GpioFactory;
}

/**
 * A header pin as an output, starting off. A pin that cannot be opened is retried at the
 * next `set()`; failures are logged once per streak.
 */
export class GpioOutput implements Output {
  readonly #o: GpioOutputOptions;
  #gpio: ReturnType<GpioFactory> | null = null;
  #failing = false;
  #closed = false;

  constructor(opts: GpioOutputOptions) {
    this.#o = opts;
    this.#open();
  }

  set(on: boolean): boolean {
    if (this.#closed) return false;
    const gpio = this.#gpio ?? this.#open();
    if (!gpio) return false;
    try {
      gpio.writeSync(on ? 1 : 0);
      return true;
    } catch (err) {
      this.#fail(err);
      this.#gpio = null;
      return false;
    }
  }

  close(): void {
    this.#closed = true;
    try {
      this.#gpio?.writeSync(0);
      this.#gpio?.unexport();
    } catch (err) {
      this.#o.log.debug({ err }, 'gpio output close failed');
    }
    this.#gpio = null;
  }

  #open(): ReturnType<GpioFactory> | null {
    const { bcm, activeLow = false } = this.#o;
    try {
      const line = sysfsLine(bcm, this.#o.sysfsRoot ?? SYSFS_GPIO);
      // `high`/`low` set the raw level, so the load starts off either way.
      const make = this.#o.gpioFactory ?? onoffGpio;
      this.#gpio = make(line, activeLow ? 'high' : 'low', 'none', { activeLow });
      if (this.#failing) this.#o.log.info({ bcm }, 'gpio output back');
      this.#failing = false;
      return this.#gpio;
    } catch (err) {
      this.#fail(err);
      return null;
    }
  }

  #fail(err: unknown): void {
    const level = this.#failing ? 'debug' : 'warn';
    this.#o.log[level]({ err: asError(err), bcm: this.#o.bcm }, 'gpio output unavailable');
    this.#failing = true;
  }
}

/** One recorded change of a `FakeOutput`. */
export interface Transition {
  readonly on: boolean;
  readonly at: number;
}

/** An output that records each change with the clock's time (the shipped fake). */
export class FakeOutput implements Output {
  readonly transitions: Transition[] = [];
  on = false;
  closed = false;
  /** Test control: while true every `set` fails (a relay board that is unplugged). */
  broken = false;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  set(on: boolean): boolean {
    if (this.closed || this.broken) return false;
    if (on === this.on) return true;
    this.on = on;
    this.transitions.push({ on, at: this.#clock.now() });
    return true;
  }

  close(): void {
    this.set(false);
    this.closed = true;
  }
}

/** Status LED patterns: off idle, blink ringing or calling, on in a call, fast blink offline. */
export type LedPattern = 'off' | 'on' | 'blink' | 'fast_blink';

export interface LedOptions {
  /** Half-period of `blink` (on, then off, this long each). Default 500 ms. */
  readonly blinkMs?: number;
  /** Half-period of `fast_blink`. Default 100 ms. */
  readonly fastBlinkMs?: number;
}

/** Plays a pattern on an output; blinking starts with the LED on. */
export class Led {
  readonly #out: Output;
  readonly #clock: Clock;
  readonly #halfPeriod: Record<'blink' | 'fast_blink', number>;
  #pattern: LedPattern = 'off';
  #timer: Timer | null = null;

  constructor(output: Output, clock: Clock, opts: LedOptions = {}) {
    this.#out = output;
    this.#clock = clock;
    this.#halfPeriod = { blink: opts.blinkMs ?? 500, fast_blink: opts.fastBlinkMs ?? 100 };
    output.set(false);
  }

  get pattern(): LedPattern {
    return this.#pattern;
  }

  /** Switches pattern; playing the current one again changes nothing (no glitch). */
  play(pattern: LedPattern): void {
    if (pattern === this.#pattern) return;
    this.#pattern = pattern;
    this.#timer?.cancel();
    this.#timer = null;
    if (pattern === 'off' || pattern === 'on') {
      this.#out.set(pattern === 'on');
      return;
    }
    let lit = true;
    this.#out.set(lit);
    this.#timer = this.#clock.setInterval(() => {
      lit = !lit;
      this.#out.set(lit);
    }, this.#halfPeriod[pattern]);
  }

  /** Turns the LED off for good and closes its output. */
  close(): void {
    this.play('off');
    this.#out.close();
  }
}

/** How long the door strike is energised unless configured. */
export const DEFAULT_DOOR_PULSE_MS = 3000;

/** What a pulse did: `opened`; `busy` (already pulsing, not extended); `failed` (fault). */
export type PulseResult = 'opened' | 'busy' | 'failed';

export interface DoorRelayOptions {
  pulseMs?: number;
  log?: Logger;
  /** Called when the relay turns out broken (false) or works again (true). */
  onHealth?: (working: boolean) => void;
}

/**
 * Pulses the door-release relay; a trigger while pulsing is ignored (no extension). A
 * relay whose output cannot be driven is `failed`, never `opened` [S-10], and stays
 * `working: false` until a later pulse succeeds.
 */
export class DoorRelay {
  readonly #out: Output;
  readonly #clock: Clock;
  readonly #pulseMs: number;
  readonly #log: Logger | undefined;
  readonly #onHealth: (working: boolean) => void;
  #timer: Timer | null = null;
  #working: boolean;

  constructor(output: Output, clock: Clock, opts: DoorRelayOptions = {}) {
    this.#out = output;
    this.#clock = clock;
    this.#pulseMs = opts.pulseMs ?? DEFAULT_DOOR_PULSE_MS;
    this.#log = opts.log;
    this.#onHealth = opts.onHealth ?? (() => {});
    this.#working = output.set(false);
    if (!this.#working) this.#log?.warn('door relay unavailable at start');
  }

  get active(): boolean {
    return this.#timer !== null;
  }

  /** False after a pulse or release failed, until a pulse works again. */
  get working(): boolean {
    return this.#working;
  }

  /** Energises the relay for the pulse time. */
  pulse(): PulseResult {
    if (this.#timer) {
      this.#log?.debug('door release already active');
      return 'busy';
    }
    if (!this.#out.set(true)) {
      this.#out.set(false);
      this.#health(false);
      this.#log?.error('door relay failed: the door was not opened');
      return 'failed';
    }
    this.#log?.info({ ms: this.#pulseMs }, 'door release');
    this.#health(true);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (!this.#out.set(false)) {
        this.#health(false);
        this.#log?.error('door relay failed to release');
      }
    }, this.#pulseMs);
    return 'opened';
  }

  /** Releases the relay at once and closes its output. */
  close(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#out.set(false);
    this.#out.close();
  }

  #health(working: boolean): void {
    if (working === this.#working) return;
    this.#working = working;
    this.#onHealth(working);
  }
}

/** What `createOutput` needs besides the spec: the real GPIO seams, or test doubles. */
export interface OutputDeps {
  clock: Clock;
  log: Logger;
  gpioFactory?: GpioFactory;
  sysfsRoot?: string;
}

/** An output from its config spec: `fake`, or `gpio:BCM[:active_low]` (checked by the schema). */
export function createOutput(spec: string, deps: OutputDeps): Output {
  if (spec === 'fake') return new FakeOutput(deps.clock);
  const [, bcm, flag] = spec.split(':');
  return new GpioOutput({
    bcm: Number(bcm),
    activeLow: flag === 'active_low',
    log: deps.log.child({ mod: 'gpio-out', spec }),
    ...(deps.gpioFactory ? { gpioFactory: deps.gpioFactory } : {}),
    ...(deps.sysfsRoot ? { sysfsRoot: deps.sysfsRoot } : {}),
  });
}
