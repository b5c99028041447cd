/**
 * The binary dialect's frames [B-1, B-2] and an incremental parser for each that caps the
 * frame size before buffering [B-3]. Pure: bytes in, frames and errors out.
 */
import { isUtf8 } from 'node:buffer';
import { Status } from '../codes.ts';
import { FrameTooLargeError, ProtocolError } from '../errors.ts';

/** The default limit on a whole frame, prefix included [B-3]. */
export const DEFAULT_MAX_FRAME = 64 * 1024;

const U32 = 4;

// [B-1] Request frame. Sizes are little-endian uint32 byte counts.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                      header_size (LE)                         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                      route_size (LE)                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                      data_size (LE)                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  :  header: header_size bytes, UTF-8 field list [B-4]            :
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  :  route: route_size bytes, UTF-8 ("/login")                    :
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  :  data: data_size bytes, UTF-8 field list [B-4]                :
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const HEADER_SIZE_OFFSET = 0;
const ROUTE_SIZE_OFFSET = 4;
const REQUEST_DATA_SIZE_OFFSET = 8;
/** Bytes before a request's body: header_size, route_size, data_size [B-1]. */
export const REQUEST_PREFIX_SIZE = 3 * U32;

// [B-2] Response frame. Sizes are little-endian uint32 byte counts.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                      status_size (LE)                         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                      data_size (LE)                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  :  status: status_size (1-3) ASCII decimal digits ("200")       :
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  :  data: data_size bytes, UTF-8 field list or records [B-4]     :
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const STATUS_SIZE_OFFSET = 0;
const RESPONSE_DATA_SIZE_OFFSET = 4;
/** Bytes before a response's body: status_size, data_size [B-2]. */
export const RESPONSE_PREFIX_SIZE = 2 * U32;
const MAX_STATUS = 999;
const MAX_STATUS_DIGITS = 3;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** A decoded request [B-1]; the route is not checked here (the adapter wants `/`) [B-3]. */
export interface RequestFrame {
  header: string;
  route: string;
  data: string;
}

/** A decoded response [B-2]; `status` is 0-999. */
export interface ResponseFrame {
  status: number;
  data: string;
}

/** What a parser yields: a frame, or an error (fatal only for `frame_too_large`). */
export type ParseEvent<F> = { kind: 'frame'; frame: F } | { kind: 'error'; error: ProtocolError };
/** What `RequestParser.push` yields. */
export type RequestEvent = ParseEvent<RequestFrame>;
/** What `ResponseParser.push` yields. */
export type ResponseEvent = ParseEvent<ResponseFrame>;

/** Encodes a request frame [B-1]. Lone surrogates become U+FFFD, as UTF-8 requires. */
export function encodeRequest(f: RequestFrame): Buffer {
  const headerSize = Buffer.byteLength(f.header, 'utf8');
  const routeSize = Buffer.byteLength(f.route, 'utf8');
  const dataSize = Buffer.byteLength(f.data, 'utf8');
  const out = Buffer.allocUnsafe(REQUEST_PREFIX_SIZE + headerSize + routeSize + dataSize);
  out.writeUInt32LE(headerSize, HEADER_SIZE_OFFSET);
  out.writeUInt32LE(routeSize, ROUTE_SIZE_OFFSET);
  out.writeUInt32LE(dataSize, REQUEST_DATA_SIZE_OFFSET);
  let at = REQUEST_PREFIX_SIZE;
  at += out.write(f.header, at, 'utf8');
  at += out.write(f.route, at, 'utf8');
  out.write(f.data, at, 'utf8');
  return out;
}

/** Encodes a response frame [B-2]. Throws RangeError unless `status` is an integer 0-999. */
export function encodeResponse(status: number, data: string): Buffer {
  if (!Number.isInteger(status) || status < 0 || status > MAX_STATUS) {
    throw new RangeError(`status must be an integer 0-${MAX_STATUS}, got ${status}`);
  }
  const statusText = String(status);
  const dataSize = Buffer.byteLength(data, 'utf8');
  const out = Buffer.allocUnsafe(RESPONSE_PREFIX_SIZE + statusText.length + dataSize);
  out.writeUInt32LE(statusText.length, STATUS_SIZE_OFFSET);
  out.writeUInt32LE(dataSize, RESPONSE_DATA_SIZE_OFFSET);
  const at = RESPONSE_PREFIX_SIZE + out.write(statusText, RESPONSE_PREFIX_SIZE, 'latin1');
  out.write(data, at, 'utf8');
  return out;
}

/** Incremental request parser: feed it socket chunks, get whole frames [B-1, B-3]. */
export class RequestParser {
  readonly #deframer: Deframer;

  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.#deframer = new Deframer(
      [HEADER_SIZE_OFFSET, ROUTE_SIZE_OFFSET, REQUEST_DATA_SIZE_OFFSET],
      REQUEST_PREFIX_SIZE,
      maxFrame,
    );
  }

  /** Consumes a chunk (kept by reference until used: do not mutate it afterwards). */
  push(chunk: Buffer): RequestEvent[] {
    return this.#deframer.push(chunk, decodeRequest);
  }

  /** Bytes held for an incomplete frame; never more than the limit. */
  get buffered(): number {
    return this.#deframer.buffered;
  }

  /** True after a fatal error: later pushes are ignored and return no events. */
  get closed(): boolean {
    return this.#deframer.closed;
  }
}

/** Incremental response parser: feed it socket chunks, get whole frames [B-2, B-3]. */
export class ResponseParser {
  readonly #deframer: Deframer;

  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.#deframer = new Deframer(
      [STATUS_SIZE_OFFSET, RESPONSE_DATA_SIZE_OFFSET],
      RESPONSE_PREFIX_SIZE,
      maxFrame,
    );
  }

  /** Consumes a chunk (kept by reference until used: do not mutate it afterwards). */
  push(chunk: Buffer): ResponseEvent[] {
    return this.#deframer.push(chunk, decodeResponse);
  }

  /** Bytes held for an incomplete frame; never more than the limit. */
  get buffered(): number {
    return this.#deframer.buffered;
  }

  /** True after a fatal error: later pushes are ignored and return no events. */
  get closed(): boolean {
    return this.#deframer.closed;
  }
}

// `ignoreBOM` keeps a leading U+FEFF as a character, so a frame's bytes survive a round trip.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const EMPTY = Buffer.alloc(0);

/**
 * Decodes strict UTF-8, or returns undefined on an invalid sequence. `isUtf8` screens first
 * because a decoder that throws costs ~10 us per bad frame, which a hostile client could
 * make us pay at line rate; the fatal decoder stays as the authority.
 */
function utf8(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function badEncoding(part: string): ProtocolError {
  return new ProtocolError(Status.BAD_REQUEST, 'bad_encoding', `invalid UTF-8 in the ${part}`);
}

function decodeRequest(parts: readonly Buffer[]): RequestFrame | ProtocolError {
  const header = utf8(parts[0] ?? EMPTY);
  if (header === undefined) return badEncoding('header');
  const route = utf8(parts[1] ?? EMPTY);
  if (route === undefined) return badEncoding('route');
  const data = utf8(parts[2] ?? EMPTY);
  if (data === undefined) return badEncoding('data');
  return { header, route, data };
}

function decodeResponse(parts: readonly Buffer[]): ResponseFrame | ProtocolError {
  const statusBytes = parts[0] ?? EMPTY;
  if (statusBytes.length < 1 || statusBytes.length > MAX_STATUS_DIGITS) {
    return new ProtocolError(
      Status.BAD_REQUEST,
      'bad_status',
      `status must be 1-${MAX_STATUS_DIGITS} ASCII digits, got ${statusBytes.length} bytes`,
    );
  }
  let status = 0;
  for (let i = 0; i < statusBytes.length; i++) {
    const b = statusBytes[i]!;
    if (b < DIGIT_0 || b > DIGIT_9) {
      return new ProtocolError(
        Status.BAD_REQUEST,
        'bad_status',
        `status byte ${i} is 0x${b.toString(16)}`,
      );
    }
    status = status * 10 + (b - DIGIT_0);
  }
  const data = utf8(parts[1] ?? EMPTY);
  if (data === undefined) return badEncoding('data');
  return { status, data };
}

/**
 * The shared core: splits a byte stream into frames of a uint32 LE size prefix followed by
 * the parts it declares. Chunks are collected by reference and joined once, exactly to the
 * frame's length, when a frame is complete; a frame inside one chunk is not copied at all.
 */
class Deframer {
  readonly #offsets: readonly number[];
  readonly #prefixSize: number;
  readonly #maxFrame: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Declared part sizes of the frame being read; undefined while reading a prefix. */
  #sizes: number[] | undefined;
  /** Bytes to wait for before the next step: the prefix, or the body it declared. */
  #need: number;
  #closed = false;

  constructor(offsets: readonly number[], prefixSize: number, maxFrame: number) {
    if (!Number.isSafeInteger(maxFrame) || maxFrame < prefixSize) {
      throw new RangeError(`maxFrame must be an integer >= ${prefixSize}, got ${maxFrame}`);
    }
    this.#offsets = offsets;
    this.#prefixSize = prefixSize;
    this.#maxFrame = maxFrame;
    this.#need = prefixSize;
  }

  get buffered(): number {
    return this.#buffered;
  }

  get closed(): boolean {
    return this.#closed;
  }

  push<F>(chunk: Buffer, decode: (parts: readonly Buffer[]) => F | ProtocolError): ParseEvent<F>[] {
    if (this.#closed) return [];
    const events: ParseEvent<F>[] = [];
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    while (this.#buffered >= this.#need) {
      if (this.#sizes === undefined) {
        const prefix = this.#take(this.#prefixSize);
        const sizes = this.#offsets.map((o) => prefix.readUInt32LE(o));
        // [B-3] Checked before buffering the body. At most 12 + 3 * (2^32 - 1) < 2^35:
        // exact in a double, so the sum cannot overflow.
        const total = sizes.reduce((sum, n) => sum + n, this.#prefixSize);
        if (total > this.#maxFrame) {
          events.push({
            kind: 'error',
            error: new FrameTooLargeError('frame_too_large', total, this.#maxFrame),
          });
          this.#close();
          return events;
        }
        this.#sizes = sizes;
        this.#need = total - this.#prefixSize;
      } else {
        const body = this.#take(this.#need);
        const parts: Buffer[] = [];
        let at = 0;
        for (const size of this.#sizes) {
          parts.push(body.subarray(at, at + size));
          at += size;
        }
        this.#sizes = undefined;
        this.#need = this.#prefixSize;
        const decoded = decode(parts);
        events.push(
          decoded instanceof ProtocolError
            ? { kind: 'error', error: decoded }
            : { kind: 'frame', frame: decoded },
        );
      }
    }
    return events;
  }

  /** Removes the first `n <= buffered` bytes; zero-copy when they lie in one chunk. */
  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (n === 0 || first === undefined) return EMPTY;
    if (first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    let used = 0;
    let got = 0;
    while (got < n) got += this.#chunks[used++]!.length;
    const out = Buffer.concat(this.#chunks.slice(0, used), n);
    const last = this.#chunks[used - 1]!;
    const excess = got - n;
    if (excess > 0) this.#chunks.splice(0, used, last.subarray(last.length - excess));
    else this.#chunks.splice(0, used);
    return out;
  }

  #close(): void {
    this.#closed = true;
    this.#chunks = [];
    this.#buffered = 0;
  }
}
