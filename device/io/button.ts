/**
 * The `Button` seam: every backend (gpio, evdev, serial panel, stdin) emits the
 * same `press` events, which the agent turns into the call machine's
 * `{ kind: 'press', long, target? }` input (a panel key that pages: `page_press` [G-2]). Hardware trouble never throws: it is logged,
 * reported as a `fault` event, and the backend retries by itself.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../shared/clock.ts';
import { PressDetector, type PressDetectorOptions } from './press-detector.ts';

/** How long a backend waits before opening its hardware again after a failure. */
export const DEFAULT_RETRY_MS = 5000;

/**
 * One press: of a call button (`target` set by panel keys that each call their own flat),
 * or of a panel key that pages the group `page` [G-2].
 */
export type ButtonPress =
  | { readonly long: boolean; readonly target?: string }
  | { readonly long: boolean; readonly page: string };

/** The events every `Button` emits. */
export interface ButtonEvents {
  /** One event per press: short at release, long once held past the threshold. */
  press: [press: ButtonPress];
  /** Single-button backends: the raw level as read, before debouncing (diagnostics). */
  level: [pressed: boolean];
  /** The hardware is open and being read (again). */
  ready: [];
  /** The hardware failed or went away; the backend retries by itself. Never `error`. */
  fault: [err: Error];
}

/** A source of presses. */
export interface Button extends EventEmitter<ButtonEvents> {
  /** The spec it was made from, for logs (`gpio:17:active_low`). */
  readonly label: string;
  /** Starts reading. Never throws; failures become `fault` events and retries. */
  start(): void;
  /** Stops reading and releases the hardware. Idempotent; never rejects. */
  stop(): Promise<void>;
}

/** Press timing for the backends that see raw levels. */
export interface PressTiming {
  /** Default 30 ms (`DEFAULT_DEBOUNCE_MS`); 0 where the kernel or a panel debounces. */
  readonly debounceMs?: number | undefined;
  /** Default 1000 ms (`DEFAULT_LONG_PRESS_MS`). */
  readonly longPressMs?: number | undefined;
}

/**
 * The shared press classifier: a `PressDetector` driven by a `Clock`. Backends call
 * `level()` with each raw reading; presses come out through `onPress`, long ones from a
 * timer while the button is still held.
 */
export class PressClassifier {
  readonly #clock: Clock;
  readonly #onPress: (long: boolean) => void;
  readonly #detector: PressDetector;
  #timer: Timer | null = null;
  #closed = false;

  constructor(
    clock: Clock,
    onPress: (long: boolean) => void,
    opts: PressTiming & { readonly initialPressed?: boolean } = {},
  ) {
    this.#clock = clock;
    this.#onPress = onPress;
    const detectorOpts: PressDetectorOptions = {
      debounceMs: opts.debounceMs,
      longPressMs: opts.longPressMs,
      initialPressed: opts.initialPressed,
      now: clock.now(),
    };
    this.#detector = new PressDetector(detectorOpts);
  }

  /** A raw reading, taken now. */
  level(pressed: boolean): void {
    this.#emit(this.#detector.edge(pressed, this.#clock.now()));
  }

  /** Stops the timer; later readings are ignored. */
  close(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#closed = true;
  }

  #emit(presses: readonly { long: boolean }[]): void {
    if (this.#closed) return;
    for (const p of presses) this.#onPress(p.long);
    this.#timer?.cancel();
    this.#timer = null;
    const due = this.#detector.deadline();
    if (due === null) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#emit(this.#detector.advance(this.#clock.now()));
    }, due - this.#clock.now());
  }
}

/**
 * The lifecycle every hardware backend shares: open (`acquire`), and when that fails or
 * the hardware goes away (`lost`), release, report a `fault`, and try again after
 * `retryMs`. The first failure of a streak is logged at warn, repeats at debug.
 */
export abstract class ButtonBase extends EventEmitter<ButtonEvents> implements Button {
  readonly label: string;
  protected readonly clock: Clock;
  protected readonly log: Logger;
  readonly #retryMs: number;
  #running = false;
  #retry: Timer | null = null;
  /** Bumped on every acquire and release so late callbacks of an old attempt are dropped. */
  #generation = 0;
  #failing = false;

  protected constructor(label: string, clock: Clock, log: Logger, retryMs?: number) {
    super();
    this.label = label;
    this.clock = clock;
    this.log = log;
    this.#retryMs = retryMs ?? DEFAULT_RETRY_MS;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#retry?.cancel();
    this.#retry = null;
    this.#generation++;
    await this.#release();
  }

  /** Opens the hardware and starts reading; rejects (or throws) when it cannot. */
  protected abstract acquire(): Promise<void>;
  /** Stops reading and closes the hardware, whatever state it is in. Must not throw. */
  protected abstract release(): Promise<void>;

  /** Called by a backend when its open hardware failed or went away. */
  protected lost(err: Error): void {
    if (!this.#running) return;
    const gen = ++this.#generation;
    void this.#release().then(() => {
      if (gen === this.#generation) this.#fail(err);
    });
  }

  protected emitPress(long: boolean, target?: string): void {
    this.log.info({ long, target }, 'button press');
    this.emit('press', target === undefined ? { long } : { long, target });
  }

  /** [G-2] A press of a key that pages `group`. */
  protected emitPage(long: boolean, group: string): void {
    this.log.info({ long, page: group }, 'button press');
    this.emit('press', { long, page: group });
  }

  #attempt(): void {
    const gen = ++this.#generation;
    let acquiring: Promise<void>;
    try {
      acquiring = this.acquire();
    } catch (err) {
      acquiring = Promise.reject(err);
    }
    acquiring.then(
      () => {
        if (gen !== this.#generation) {
          // Stopped while opening: close what just opened.
          if (!this.#running) void this.#release();
          return;
        }
        this.log.info({ button: this.label }, this.#failing ? 'button back' : 'button ready');
        this.#failing = false;
        this.emit('ready');
      },
      (err: unknown) => {
        if (gen !== this.#generation) return;
        void this.#release().then(() => {
          if (gen === this.#generation) this.#fail(asError(err));
        });
      },
    );
  }

  #fail(err: Error): void {
    if (!this.#running) return;
    const level = this.#failing ? 'debug' : 'warn';
    this.log[level]({ err, button: this.label, retryMs: this.#retryMs }, 'button unavailable');
    this.#failing = true;
    this.emit('fault', err);
    this.#retry = this.clock.setTimeout(() => {
      this.#retry = null;
      if (this.#running) this.#attempt();
    }, this.#retryMs);
  }

  async #release(): Promise<void> {
    try {
      await this.release();
    } catch (err) {
      this.log.debug({ err, button: this.label }, 'button release failed');
    }
  }
}

/** Anything thrown, as an Error. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
