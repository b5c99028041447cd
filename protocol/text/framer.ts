/**
 * [T-1] Splits a byte stream into lines. Pure: bytes in, events out; the adapter owns the
 * socket. A line never occupies more than `maxBytes` of memory.
 */

import { Text } from '../codes.ts';
import { FrameTooLargeError, ProtocolError } from '../errors.ts';

/** [T-1] The longest line accepted, in bytes, terminator included. */
export const MAX_LINE_BYTES = 1024;

/** What a chunk yields: a decoded line (terminator stripped) or an error to reply with. */
export type FramerEvent = { kind: 'line'; line: string } | { kind: 'error'; error: ProtocolError };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Incremental line framer. Lines end with LF, optionally preceded by CR [T-1]; empty lines
 * yield nothing. A line longer than the limit yields a fatal `400 line_too_long` as soon
 * as its bytes exceed the limit, without waiting for its end, and the framer closes:
 * later `push()` calls return `[]`. A line that is not UTF-8 yields a non-fatal
 * `400 bad_encoding` and framing goes on. A leading BOM on a line is dropped.
 */
export class LineFramer {
  readonly #max: number;
  /** The unterminated line so far; it can never outgrow the limit. */
  readonly #pending: Buffer;
  #length = 0;
  #closed = false;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(maxBytes = MAX_LINE_BYTES) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    this.#max = maxBytes;
    this.#pending = Buffer.alloc(maxBytes);
  }

  /** Bytes held of a line not yet terminated; never more than `maxBytes`. */
  get buffered(): number {
    return this.#length;
  }

  /** True after a fatal error; the connection should be closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Feeds a chunk; returns the events it completes, in stream order. */
  push(chunk: Buffer): FramerEvent[] {
    const events: FramerEvent[] = [];
    let start = 0;
    // Each byte is scanned once: the search starts where the pending line left off.
    while (!this.#closed && start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf + 1;
      const size = this.#length + (end - start);
      if (size > this.#max) {
        // [T-1] Too long, terminated or not: fatal, and nothing more is buffered.
        this.#closed = true;
        this.#length = 0;
        events.push({
          kind: 'error',
          error: new FrameTooLargeError('line_too_long', size, this.#max),
        });
        break;
      }
      if (lf === -1) {
        chunk.copy(this.#pending, this.#length, start);
        this.#length = size;
        break;
      }
      // A line wholly inside this chunk is decoded in place; only a split one is copied.
      let bytes = chunk.subarray(start, lf);
      if (this.#length > 0) {
        chunk.copy(this.#pending, this.#length, start, lf);
        bytes = this.#pending.subarray(0, size - 1);
        this.#length = 0;
      }
      start = end;
      this.#emit(bytes, events);
    }
    return events;
  }

  #emit(bytes: Buffer, events: FramerEvent[]): void {
    const body = bytes.at(-1) === CR ? bytes.subarray(0, -1) : bytes; // [T-1] CRLF or LF
    if (body.length === 0) return;
    let line: string;
    try {
      line = this.#decoder.decode(body);
    } catch {
      events.push({ kind: 'error', error: new ProtocolError(Text.BAD_REQUEST, 'bad_encoding') }); // [T-1]
      return;
    }
    if (line.length > 0) events.push({ kind: 'line', line });
  }
}
