/**
 * Field lists of the binary dialect [B-4], carried in a request's header and data and in a
 * response's data: `id: "1", name: "al\"ice"`, and lists of records `[id: "1"], [id: "2"]`.
 *
 *   records := ws | record (ws "," ws record)* ws
 *   record  := "[" fields "]"
 *   fields  := ws | pair (ws "," ws pair)* ws
 *   pair    := key ws ":" ws value
 *   key     := [A-Za-z_]+            lowercased on receipt (the seed writes `Id`, `Error`)
 *   value   := '"' (char | '\"' | '\\')* '"' | [0-9]+
 *   ws      := (" " | "\t" | "\r" | "\n")*
 *
 * Extension (lenient): a value made only of digits may be written bare (`nb_packets: 3`),
 * since the seed's numeric fields invite it; any other bare value is an error. Formatting
 * always quotes. Offsets in error messages are string indexes (UTF-16 code units).
 */
import { Status } from '../codes.ts';
import { ProtocolError } from '../errors.ts';

/** A field list keyed by lowercase `[a-z_]+`. Parsed lists have a null prototype. */
export type Fields = Record<string, string>;

/** Parses a field list [B-4]; empty or blank text gives no fields. Throws `bad_fields`. */
export function parseFields(text: string): Fields {
  const s = new Scanner(text);
  const fields = s.fields(END);
  s.expectEnd();
  return fields;
}

/** Parses a list of records `[...], [...]` [B-4]; blank text gives none. Throws `bad_fields`. */
export function parseRecords(text: string): Fields[] {
  const s = new Scanner(text);
  const records: Fields[] = [];
  s.skipSpace();
  if (s.peek() === END) return records;
  for (;;) {
    s.expect(OPEN, "'['");
    records.push(s.fields(CLOSE));
    s.expect(CLOSE, "']'");
    s.skipSpace();
    if (s.peek() === END) return records;
    s.expect(COMMA, "',' or end of text");
    s.skipSpace();
  }
}

/** Formats a field list [B-4]: `key: "value", ...`. Throws RangeError on a key not `[a-z_]+`. */
export function formatFields(f: Fields): string {
  const out: string[] = [];
  for (const key of Object.keys(f)) {
    if (!KEY.test(key)) throw new RangeError(`invalid field key ${JSON.stringify(key)}`);
    out.push(`${key}: "${(f[key] as string).replace(ESCAPED, '\\$&')}"`);
  }
  return out.join(', ');
}

/** Formats a list of records [B-4]: `[k: "v", ...], [k: "v", ...]`. */
export function formatRecords(r: readonly Fields[]): string {
  return r.map((f) => `[${formatFields(f)}]`).join(', ');
}

const KEY = /^[a-z_]+$/;
const RAW_KEY = /^[A-Za-z_]+$/;
const BARE_VALUE = /^[0-9]+$/;
const ESCAPED = /[\\"]/g;

const END = -1;
const QUOTE = 0x22; // "
const COMMA = 0x2c; // ,
const COLON = 0x3a; // :
const OPEN = 0x5b; // [
const BACKSLASH = 0x5c; // \
const CLOSE = 0x5d; // ]
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
/** Longest token quoted back in an error message. */
const SHOWN = 32;

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR;
}

/** Ends a bare word (a key or an unquoted value). */
function isDelimiter(c: number): boolean {
  return isSpace(c) || c === COLON || c === COMMA || c === QUOTE || c === OPEN || c === CLOSE;
}

function show(token: string): string {
  return JSON.stringify(token.length > SHOWN ? `${token.slice(0, SHOWN)}...` : token);
}

/** A cursor over the text; every failure is a `400 bad_fields` naming the offset. */
class Scanner {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  peek(): number {
    return this.#pos < this.#text.length ? this.#text.charCodeAt(this.#pos) : END;
  }

  skipSpace(): void {
    while (isSpace(this.peek())) this.#pos++;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.#fail(`expected ${what}, found ${this.#found()}`);
    this.#pos++;
  }

  expectEnd(): void {
    if (this.peek() !== END) this.#fail(`expected ',' or end of text, found ${this.#found()}`);
  }

  /** Reads pairs up to `close` (`]` or END), which it leaves unread. */
  fields(close: number): Fields {
    const out: Fields = Object.create(null);
    const closeName = close === END ? 'end of text' : "']'";
    this.skipSpace();
    if (this.peek() === close) return out;
    for (;;) {
      const keyAt = this.#pos;
      const key = this.#key();
      if (Object.hasOwn(out, key)) this.#fail(`duplicate key ${show(key)}`, keyAt);
      this.skipSpace();
      this.expect(COLON, `':' after key ${show(key)}`);
      this.skipSpace();
      out[key] = this.#value();
      this.skipSpace();
      const c = this.peek();
      if (c === close) return out;
      if (c !== COMMA) this.#fail(`expected ',' or ${closeName}, found ${this.#found()}`);
      this.#pos++;
      this.skipSpace();
    }
  }

  #key(): string {
    const at = this.#pos;
    const word = this.#word();
    if (word === '') this.#fail(`expected a key, found ${this.#found()}`);
    // Lowercase only after checking for ASCII: toLowerCase maps U+212A KELVIN SIGN to 'k'.
    if (!RAW_KEY.test(word)) this.#fail(`invalid key ${show(word)} (keys are [a-z_]+)`, at);
    return word.toLowerCase();
  }

  #value(): string {
    if (this.peek() === QUOTE) return this.#quoted();
    const at = this.#pos;
    const word = this.#word();
    if (word === '') this.#fail(`expected a value, found ${this.#found()}`);
    if (!BARE_VALUE.test(word)) {
      this.#fail(`unquoted value ${show(word)} (only digits may be left unquoted)`, at);
    }
    return word; // Extension: a bare all-digit value.
  }

  #quoted(): string {
    const text = this.#text;
    const start = this.#pos++;
    const parts: string[] = [];
    let run = this.#pos;
    while (this.#pos < text.length) {
      const c = text.charCodeAt(this.#pos);
      if (c === QUOTE) {
        parts.push(text.slice(run, this.#pos++));
        return parts.join('');
      }
      if (c === BACKSLASH) {
        const next = this.#pos + 1 < text.length ? text.charCodeAt(this.#pos + 1) : END;
        if (next === END) break;
        if (next !== QUOTE && next !== BACKSLASH) {
          this.#fail(`invalid escape ${show(text.slice(this.#pos, this.#pos + 2))}`);
        }
        parts.push(text.slice(run, this.#pos), next === QUOTE ? '"' : '\\');
        this.#pos += 2;
        run = this.#pos;
      } else {
        this.#pos++;
      }
    }
    return this.#fail('unterminated string', start);
  }

  #word(): string {
    const start = this.#pos;
    while (this.#pos < this.#text.length && !isDelimiter(this.#text.charCodeAt(this.#pos))) {
      this.#pos++;
    }
    return this.#text.slice(start, this.#pos);
  }

  #found(): string {
    const c = this.peek();
    return c === END ? 'end of text' : JSON.stringify(String.fromCharCode(c));
  }

  #fail(message: string, at = this.#pos): never {
    throw new ProtocolError(
      Status.BAD_REQUEST,
      'bad_fields',
      `bad field list: ${message} at offset ${at}`,
    );
  }
}
