/**
 * `stdin`: presses from a script. Each input line `press` is a short press and `long` a
 * long press (case and surrounding spaces ignored; empty lines skipped); any other line
 * is counted and logged. The end of input is logged, not a fault: the device goes on.
 */
import { EventEmitter } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Button, ButtonEvents } from './button.ts';

/** Options of a `StdinButton`. */
export interface StdinButtonOptions {
  readonly log: Logger;
  /** Default `process.stdin`. */
  readonly input?: Readable | undefined;
}

/** Presses read as lines from a stream. */
export class StdinButton extends EventEmitter<ButtonEvents> implements Button {
  readonly label = 'stdin';
  readonly #log: Logger;
  readonly #input: Readable;
  #rl: Interface | null = null;
  /** Lines that were neither `press` nor `long`. */
  unknownLines = 0;

  constructor(opts: StdinButtonOptions) {
    super();
    this.#log = opts.log;
    this.#input = opts.input ?? process.stdin;
    this.#input.on('error', (err) => this.#log.warn({ err }, 'button input failed'));
  }

  start(): void {
    if (this.#rl) return;
    const rl = createInterface({ input: this.#input, terminal: false, crlfDelay: Infinity });
    this.#rl = rl;
    rl.on('line', (line) => this.#onLine(line));
    rl.on('close', () => {
      if (this.#rl === rl) this.#log.info('end of button input');
    });
    this.emit('ready');
  }

  /** Stops reading; the input stream itself is left open (it may be process.stdin). */
  async stop(): Promise<void> {
    const rl = this.#rl;
    this.#rl = null;
    rl?.close();
  }

  #onLine(raw: string): void {
    const line = raw.trim().toLowerCase();
    if (line === '') return;
    if (line === 'press' || line === 'long') {
      const long = line === 'long';
      this.#log.info({ long }, 'button press');
      this.emit('press', { long });
      return;
    }
    this.unknownLines++;
    this.#log.warn({ line: raw.slice(0, 80) }, 'button input: expected "press" or "long"');
  }
}
