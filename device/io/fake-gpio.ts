/**
 * An in-memory stand-in for onoff's `Gpio`, honouring the parts of its contract that we
 * use, with controls for tests and demos (`drive`, `fail`, `failWrites`). It ships in the product so a
 * device can run with fake GPIO on any machine.
 *
 * Contract kept from onoff 6:
 * - `direction` `high`/`low` is an output starting with the pin physically high/low
 *   (the kernel ignores `active_low` there); `in` starts at rest, reading 0 (physically
 *   high when active low, as a pull-up would hold it).
 * - `activeLow` inverts reads and writes; values are logical, `physical` is the pin.
 * - watchers are called `(err, value)` for a new value 1 when the edge is `rising` or
 *   `both`, and 0 when `falling` or `both`; never with edge `none`.
 * - after `unexport()` every read/write throws (onoff's value fd is closed: EBADF).
 *
 * Why not real onoff on a fake sysfs tree in a temp dir: onoff 6 hard-codes
 * `GPIO_ROOT_PATH = '/sys/class/gpio/'` (no option, no environment variable) and
 * watches the `value` file with epoll, which refuses regular files (EPERM). So tests
 * drive `GpioButton` through this fake, and only `gpio-base.ts` reads a fake tree.
 */
import type { BinaryValue, Direction, Edge, Gpio, Options, ValueCallback } from 'onoff';
import type { GpioFactory } from './gpio-base.ts';

/** A fake onoff `Gpio` on one line; see the module comment for the contract. */
export class FakeGpio implements Gpio {
  readonly line: number;
  /** Logical values written, in order. */
  readonly writes: BinaryValue[] = [];
  exported = true;
  /** Test control: thrown by every write while set (a relay board that lost power: EIO). */
  failWrites: Error | null = null;
  #direction: Direction;
  #edge: Edge;
  #activeLow: boolean;
  /** The level on the pin, before `activeLow`. */
  #physical: BinaryValue;
  #listeners: ValueCallback[] = [];

  constructor(line: number, direction: Direction, edge?: Edge, options?: Options) {
    this.line = line;
    this.#direction = direction === 'high' || direction === 'low' ? 'out' : direction;
    this.#edge = edge ?? 'none';
    this.#activeLow = options?.activeLow ?? false;
    this.#physical = direction === 'in' ? this.#toPhysical(0) : direction === 'high' ? 1 : 0;
  }

  // --- test controls ---

  /** Sets the pin's physical level, as wiring would, and calls the watchers on an edge. */
  drive(physical: BinaryValue): void {
    const before = this.readSync();
    this.#physical = physical;
    const value = this.readSync();
    if (value === before) return;
    const enabled =
      this.#edge === 'both' ||
      (value === 1 && this.#edge === 'rising') ||
      (value === 0 && this.#edge === 'falling');
    if (enabled) for (const cb of this.#listeners.slice()) cb(null, value);
  }

  /** Calls the watchers with an error, as onoff does when epoll fails. */
  fail(err: Error): void {
    for (const cb of this.#listeners.slice()) cb(err, this.readSync());
  }

  /** The level on the pin (what a meter would show). */
  get physical(): BinaryValue {
    return this.#physical;
  }

  get watching(): number {
    return this.#listeners.length;
  }

  // --- onoff's Gpio ---

  read(callback: ValueCallback): void;
  read(): Promise<BinaryValue>;
  read(callback?: ValueCallback): Promise<BinaryValue> | undefined {
    let value: BinaryValue;
    try {
      value = this.readSync();
    } catch (err) {
      if (!callback) return Promise.reject(err);
      queueMicrotask(() => callback(err as Error, 0));
      return undefined;
    }
    if (!callback) return Promise.resolve(value);
    queueMicrotask(() => callback(null, value));
    return undefined;
  }

  readSync(): BinaryValue {
    this.#check();
    return this.#toPhysical(this.#physical);
  }

  write(value: BinaryValue, callback: (err: Error | null | undefined) => void): void;
  write(value: BinaryValue): Promise<void>;
  write(
    value: BinaryValue,
    callback?: (err: Error | null | undefined) => void,
  ): Promise<void> | undefined {
    try {
      this.writeSync(value);
    } catch (err) {
      if (!callback) return Promise.reject(err);
      queueMicrotask(() => callback(err as Error));
      return undefined;
    }
    if (!callback) return Promise.resolve();
    queueMicrotask(() => callback(null));
    return undefined;
  }

  writeSync(value: BinaryValue): void {
    this.#check();
    if (this.#direction !== 'out') throw errno('EPERM', 'write to an input');
    if (this.failWrites) throw this.failWrites;
    this.writes.push(value);
    this.#physical = this.#toPhysical(value);
  }

  watch(callback: ValueCallback): void {
    this.#listeners.push(callback);
  }

  unwatch(callback?: ValueCallback): void {
    this.#listeners = callback ? this.#listeners.filter((l) => l !== callback) : [];
  }

  unwatchAll(): void {
    this.unwatch();
  }

  direction(): Direction {
    return this.#direction;
  }

  setDirection(direction: Direction): void {
    this.#direction = direction === 'high' || direction === 'low' ? 'out' : direction;
    if (direction === 'high' || direction === 'low') this.#physical = direction === 'high' ? 1 : 0;
  }

  edge(): Edge {
    return this.#edge;
  }

  setEdge(edge: Edge): void {
    this.#edge = edge;
  }

  activeLow(): boolean {
    return this.#activeLow;
  }

  setActiveLow(invert: boolean): void {
    this.#activeLow = invert;
  }

  unexport(): void {
    this.unwatchAll();
    this.exported = false;
  }

  /** Physical to logical and back: the same inversion. */
  #toPhysical(v: BinaryValue): BinaryValue {
    return this.#activeLow ? (v === 1 ? 0 : 1) : v;
  }

  #check(): void {
    if (!this.exported) throw errno('EBADF', 'GPIO unexported');
  }
}

/**
 * A bank of fake GPIOs behind a `GpioFactory`: tests find the `FakeGpio` a button or an
 * output made by its line, and can make the next `Gpio` construction fail.
 */
export class FakeGpioBank {
  readonly created: FakeGpio[] = [];
  /** Thrown by the next construction (then cleared), as onoff throws EACCES or ENOENT. */
  failNext: Error | null = null;

  readonly factory: GpioFactory = (line, direction, edge, options) => {
    const err = this.failNext;
    if (err) {
      this.failNext = null;
      throw err;
    }
    const gpio = new FakeGpio(line, direction, edge, options);
    this.created.push(gpio);
    return gpio;
  };

  /** The most recent (exported) GPIO on `line`. */
  get(line: number): FakeGpio | undefined {
    return this.created.findLast((g) => g.line === line && g.exported);
  }
}

/** An Error shaped like a failed system call. */
export function errno(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  err.code = code;
  return err;
}
