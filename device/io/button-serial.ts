/**
 * `serial:PATH[:BAUD]`: a multi-button panel (a small microcontroller by the door, one
 * button per flat) speaking the line protocol of docs/button-panel.md over serialport.
 * Each button number maps to its own target, or to a group it pages [G-2]. The port is reopened whenever it fails or
 * disappears (a USB adapter unplugged), every `retryMs`, forever.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { ButtonBase, PressClassifier, type PressTiming } from './button.ts';

/** The panel's default speed; `serial:PATH:BAUD` overrides it. */
export const DEFAULT_BAUD = 9600;
/** [P-1] The longest line, terminator included; longer ones are dropped up to their LF. */
export const MAX_PANEL_LINE = 32;

/**
 * [P-3] What a mapped key does: call a user or group (its name), or page a group [G-2]
 * (`{ page: GROUP }`; the same page as `page.button`, nothing new on either wire).
 */
export type PanelKey = string | { readonly page: string };

/** What one panel line says. */
export type PanelMessage =
  | { readonly kind: 'down' | 'up' | 'short' | 'long'; readonly button: number }
  | { readonly kind: 'comment' };

const KINDS = { P: 'down', R: 'up', S: 'short', L: 'long' } as const;

/**
 * [P-2] Parses one line (terminator stripped): `P <n>`, `R <n>`, `S <n>`, `L <n>` with
 * `n` 0-999, or `#` and anything; letters in either case, spaces around tolerated.
 * Returns null for anything else.
 */
export function parsePanelLine(line: string): PanelMessage | null {
  const text = line.trim();
  if (text.startsWith('#')) return { kind: 'comment' };
  const m = /^([PRSL])\s+(\d{1,3})$/i.exec(text);
  if (!m) return null;
  const kind = KINDS[m[1]!.toUpperCase() as keyof typeof KINDS];
  return { kind, button: Number(m[2]) };
}

/**
 * [P-1] Splits bytes into lines at LF (a CR before it is dropped by `parsePanelLine`'s
 * trim). Holds at most `MAX_PANEL_LINE` bytes; an overlong line is counted and skipped
 * up to the next LF, and framing resumes there.
 */
export class PanelLineSplitter {
  #pending = '';
  #skipping = false;
  overlong = 0;

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let text = chunk.toString('latin1');
    for (;;) {
      const lf = text.indexOf('\n');
      const part = lf === -1 ? text : text.slice(0, lf);
      if (!this.#skipping && this.#pending.length + part.length + 1 > MAX_PANEL_LINE) {
        this.overlong++;
        this.#skipping = true;
        this.#pending = '';
      }
      if (!this.#skipping) this.#pending += part;
      if (lf === -1) break;
      if (!this.#skipping && this.#pending.length > 0) lines.push(this.#pending);
      this.#pending = '';
      this.#skipping = false;
      text = text.slice(lf + 1);
    }
    return lines;
  }

  reset(): void {
    this.#pending = '';
    this.#skipping = false;
  }
}

/** The part of serialport's `SerialPort` (and `SerialPortMock`) used here. */
export interface SerialLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: (err: Error | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/** Makes an unopened port. */
export type SerialFactory = (path: string, baudRate: number) => SerialLike;

/** The real factory; serialport and its native binding load on first use. */
export const serialportFactory: SerialFactory = (path, baudRate) => {
  const require = createRequire(import.meta.url);
  const { SerialPort } = require('serialport') as typeof import('serialport');
  return new SerialPort({ path, baudRate, autoOpen: false });
};

/** Options of a `SerialPanelButton`; the seam defaults to serialport. */
export interface SerialPanelOptions extends PressTiming {
  readonly path: string;
  readonly baudRate?: number | undefined;
  /**
   * Button number -> what the key does (`{ "1": "flat-1", "9": { page: "all-flats" } }`).
   * Empty: every button is the device's one button (no target of its own). Otherwise
   * unmapped buttons are counted and ignored.
   */
  readonly targets?: Readonly<Record<string, PanelKey>> | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly serialFactory?: SerialFactory | undefined;
  readonly retryMs?: number | undefined;
}

/** Counters for diagnostics; they survive reconnections. */
export interface PanelStats {
  lines: number;
  presses: number;
  unknownLines: number;
  unknownButtons: number;
  overlongLines: number;
  opens: number;
}

/** A button panel on a serial port. */
export class SerialPanelButton extends ButtonBase {
  readonly #o: SerialPanelOptions;
  readonly #baud: number;
  readonly #targets: ReadonlyMap<number, PanelKey>;
  readonly #stats: PanelStats = {
    lines: 0,
    presses: 0,
    unknownLines: 0,
    unknownButtons: 0,
    overlongLines: 0,
    opens: 0,
  };
  #port: SerialLike | null = null;
  #splitter = new PanelLineSplitter();
  #held = new Map<number, PressClassifier>();

  constructor(opts: SerialPanelOptions) {
    const baud = opts.baudRate ?? DEFAULT_BAUD;
    super(`serial:${opts.path}:${baud}`, opts.clock, opts.log, opts.retryMs);
    this.#o = opts;
    this.#baud = baud;
    this.#targets = new Map(Object.entries(opts.targets ?? {}).map(([k, v]) => [Number(k), v]));
  }

  get stats(): Readonly<PanelStats> {
    return { ...this.#stats };
  }

  protected acquire(): Promise<void> {
    const port = (this.#o.serialFactory ?? serialportFactory)(this.#o.path, this.#baud);
    this.#port = port;
    this.#splitter = new PanelLineSplitter();
    // The listeners stay on a released port, so a late error is never unhandled.
    port.on('error', (err) => {
      if (this.#port === port && port.isOpen) this.lost(err);
      else this.log.debug({ err }, 'serial port error');
    });
    port.on('close', (err) => {
      if (this.#port === port) this.lost(err ?? new Error(`${this.#o.path}: port closed`));
    });
    port.on('end', () => {
      if (this.#port === port) this.lost(new Error(`${this.#o.path}: end of data`));
    });
    port.on('data', (chunk) => {
      if (this.#port === port) this.#onData(chunk);
    });
    return new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err) return reject(err);
        if (this.#port !== port) {
          port.close(); // released while opening
          return reject(new Error('closed while opening'));
        }
        this.#stats.opens++;
        resolve();
      });
    });
  }

  protected async release(): Promise<void> {
    for (const c of this.#held.values()) c.close();
    this.#held.clear();
    const port = this.#port;
    this.#port = null;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => {
      try {
        port.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  #onData(chunk: Buffer): void {
    const before = this.#splitter.overlong;
    const lines = this.#splitter.push(chunk);
    if (this.#splitter.overlong > before) {
      this.#stats.overlongLines += this.#splitter.overlong - before;
      this.log.warn({ max: MAX_PANEL_LINE }, 'overlong line from button panel dropped');
    }
    for (const line of lines) {
      this.#stats.lines++;
      const msg = parsePanelLine(line);
      if (!msg) {
        this.#stats.unknownLines++;
        this.log.warn({ line: line.slice(0, MAX_PANEL_LINE) }, 'unknown line from button panel');
        continue;
      }
      if (msg.kind === 'comment') continue;
      const key = this.#keyOf(msg.button);
      if (key === null) continue;
      if (msg.kind === 'short' || msg.kind === 'long') {
        this.#press(msg.kind === 'long', key);
      } else {
        this.#level(msg.button, msg.kind === 'down', key);
      }
    }
  }

  /** [P-3] What a button does: its key's, the one button's (no map), or null (unknown: ignored). */
  #keyOf(button: number): PanelKey | undefined | null {
    if (this.#targets.size === 0) return undefined;
    const key = this.#targets.get(button);
    if (key !== undefined) return key;
    this.#stats.unknownButtons++;
    this.log.warn({ button }, 'press on a panel button with no target');
    return null;
  }

  /** [P-4] `P`/`R`: timed here, without debounce unless configured (the panel debounces). */
  #level(button: number, down: boolean, key: PanelKey | undefined): void {
    let c = this.#held.get(button);
    if (!c) {
      c = new PressClassifier(this.clock, (long) => this.#press(long, key), {
        debounceMs: this.#o.debounceMs ?? 0,
        longPressMs: this.#o.longPressMs,
      });
      this.#held.set(button, c);
    }
    // A `P` while already down means the `R` was lost: end that press first (with the
    // default debounce of 0; a debounce would take the two as a bounce).
    if (down) c.level(false);
    c.level(down);
  }

  #press(long: boolean, key: PanelKey | undefined): void {
    this.#stats.presses++;
    if (typeof key === 'object')
      this.emitPage(long, key.page); // [G-2]
    else this.emitPress(long, key);
  }
}
