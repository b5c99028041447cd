/**
 * [S-8] Caps on connections that have not logged in yet: at most `perAddress` from one
 * source address and `total` in all. The listener asks `admit()` at accept and closes the
 * connection when it answers null; the connection releases its ticket once it logs in
 * or closes, whichever comes first. Logged-in connections hold no ticket, so they keep
 * being served however many strangers knock.
 */
export interface PreLoginGateOptions {
  /** Not-yet-logged-in connections from one address. Default 32. */
  perAddress?: number;
  /** Not-yet-logged-in connections in all, across every listener. Default 1,024. */
  total?: number;
}

/** One admitted connection's place; `release()` is idempotent. */
export interface PreLoginTicket {
  release(): void;
}

export class PreLoginGate {
  readonly perAddress: number;
  readonly total: number;
  readonly #byAddress = new Map<string, number>();
  #count = 0;
  #refused = 0;

  constructor(options: PreLoginGateOptions = {}) {
    this.perAddress = options.perAddress ?? 32;
    this.total = options.total ?? 1024;
  }

  /** A place for a new connection from `address`, or null when a cap is reached. */
  admit(address: string): PreLoginTicket | null {
    const here = this.#byAddress.get(address) ?? 0;
    if (here >= this.perAddress || this.#count >= this.total) {
      this.#refused++;
      return null;
    }
    this.#byAddress.set(address, here + 1);
    this.#count++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#count--;
        const left = (this.#byAddress.get(address) ?? 1) - 1;
        if (left > 0) this.#byAddress.set(address, left);
        else this.#byAddress.delete(address);
      },
    };
  }

  /** Connections waiting to log in now. */
  get pending(): number {
    return this.#count;
  }

  /** Connections refused at accept since start. */
  get refused(): number {
    return this.#refused;
  }
}
