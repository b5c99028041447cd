import type { Clock, Timer } from '../../shared/clock.ts';

/**
 * [S-6] The pairing window: registration is closed, except for the minutes after
 * `babel-hub pair` opened it on the running hub. `onChange` hears every open and close
 * (the hub logs it and publishes the retained `<base>/bridge/pairing`).
 */
export type PairingState = 'open' | 'closed';

export interface PairingWindowOptions {
  clock: Clock;
  onChange?: (state: PairingState, untilWallMs: number | null) => void;
}

export class PairingWindow {
  readonly #clock: Clock;
  readonly #onChange: (state: PairingState, untilWallMs: number | null) => void;
  #timer: Timer | null = null;
  #untilWallMs: number | null = null;

  constructor(options: PairingWindowOptions) {
    this.#clock = options.clock;
    this.#onChange = options.onChange ?? (() => {});
  }

  get state(): PairingState {
    return this.#timer ? 'open' : 'closed';
  }

  /** When the window closes (wall clock ms), or null while closed. */
  get untilWallMs(): number | null {
    return this.#untilWallMs;
  }

  /** Opens the window for `minutes` from now; opening it again restarts the count. */
  open(minutes: number): void {
    if (!(minutes > 0 && minutes <= 24 * 60)) {
      throw new RangeError(`pairing: minutes must be between 1 and 1440, got ${minutes}`);
    }
    this.#timer?.cancel();
    const ms = minutes * 60_000;
    this.#timer = this.#clock.setTimeout(() => this.close(), ms);
    this.#untilWallMs = this.#clock.wallNow() + ms;
    this.#onChange('open', this.#untilWallMs);
  }

  /** Closes the window now; nothing happens when it is closed already. */
  close(): void {
    if (!this.#timer) return;
    this.#timer.cancel();
    this.#timer = null;
    this.#untilWallMs = null;
    this.#onChange('closed', null);
  }
}
