/**
 * [T-2, T-3] The text dialect's lines as values. Pure string functions: framing and
 * decoding are the framer's job, so every line here is one line without its terminator
 * (a trailing CRLF or LF is tolerated and ignored).
 *
 * Argument notation [T-2]: arguments are separated by spaces or tabs; each is written bare
 * (`alice`), quoted (`"alice"`, `'alice'`) or in the seed's list notation (`['alice']`,
 * `['a', 'b']`, `[]` for none). Quotes have no escapes; a quoted value runs to the next
 * quote of its kind and may hold spaces. A quoted or bracketed form must be followed by
 * whitespace or the end. Control characters (U+0000-U+001F, U+007F) are never part of a
 * value and empty values are refused, so every argument can be echoed by `formatLine`
 * unless it holds spaces or starts with a quote or `[`.
 */

import { Text } from '../codes.ts';
import { ProtocolError } from '../errors.ts';

/** A parsed request: `verb` in upper case, `args` with their decoration stripped. */
export interface TextRequest {
  verb: string;
  args: string[];
}

/** A parsed reply or event: the 3-digit `code` and its bare arguments. */
export interface TextReply {
  code: number;
  args: string[];
}

/**
 * `400 bad_arguments <VERB>` [T-2]: a request whose arguments are malformed. `verb` is the
 * request's verb, upper case and safe to pass to `formatLine`.
 */
export class BadArgumentsError extends ProtocolError {
  readonly verb: string;

  constructor(verb: string, message: string) {
    super(Text.BAD_REQUEST, 'bad_arguments', `${verb}: ${message}`);
    this.name = 'BadArgumentsError';
    this.verb = verb;
  }
}

/** A syntax error inside this module, turned into a ProtocolError by each parser. */
class Malformed extends Error {}

/** Characters that end a bare value inside `[...]`. */
const LIST_STOP = ' \t,[]"\'';

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isQuote = (c: string | undefined): c is '"' | "'" => c === '"' || c === "'";

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * True when `s` reads back as itself in any position of a line: non-empty, no whitespace
 * or control character, and not starting with a quote or `[` (which would be decoration).
 */
export function isBareToken(s: string): boolean {
  const first = s[0];
  return (
    first !== undefined && !isQuote(first) && first !== '[' && !s.includes(' ') && !hasControl(s)
  );
}

function stripTerminator(line: string): string {
  if (line.endsWith('\r\n')) return line.slice(0, -2);
  return line.endsWith('\n') ? line.slice(0, -1) : line;
}

/** Splits argument text into values, stripping decoration [T-2]; throws Malformed. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (isSpace(s[i])) i++;
  };
  const quoted = (): string => {
    const end = s.indexOf(s[i] ?? '', i + 1);
    if (end === -1) throw new Malformed(`unterminated quote at ${i}`);
    const value = s.slice(i + 1, end);
    i = end + 1;
    return value;
  };
  const list = () => {
    i++; // '['
    skipSpace();
    if (s[i] === ']') {
      i++; // [] means no arguments
      return;
    }
    for (;;) {
      skipSpace();
      if (isQuote(s[i])) out.push(quoted());
      else {
        const from = i;
        while (i < s.length && !LIST_STOP.includes(s[i] ?? '')) i++;
        if (i === from) throw new Malformed(`expected a value at ${i}`);
        out.push(s.slice(from, i));
      }
      skipSpace();
      const c = s[i++];
      if (c === ']') return;
      if (c === undefined) throw new Malformed('unterminated [');
      if (c !== ',') throw new Malformed(`expected , or ] at ${i - 1}`);
    }
  };
  for (skipSpace(); i < s.length; skipSpace()) {
    if (isQuote(s[i]) || s[i] === '[') {
      if (s[i] === '[') list();
      else out.push(quoted());
      if (i < s.length && !isSpace(s[i])) throw new Malformed(`expected a space at ${i}`);
    } else {
      const from = i;
      while (i < s.length && !isSpace(s[i])) i++;
      out.push(s.slice(from, i));
    }
  }
  return out;
}

/**
 * Parses a request line [T-2]; `null` when it is blank. The verb is the first word,
 * ASCII-uppercased. Throws `BadArgumentsError` for malformed, empty or control-character
 * arguments, and `ProtocolError(400, 'unknown_command')` for a verb that cannot be echoed
 * (a control character, or a leading quote or `[`).
 */
export function parseRequest(line: string): TextRequest | null {
  const text = stripTerminator(line).replace(/^[ \t]+/, '');
  if (text.length === 0) return null;
  const cut = text.search(/[ \t]/);
  const word = cut === -1 ? text : text.slice(0, cut);
  if (!isBareToken(word))
    throw new ProtocolError(Text.BAD_REQUEST, 'unknown_command', 'verb is not printable');
  const verb = word.replace(/[a-z]+/g, (lower) => lower.toUpperCase()); // [T-2]
  let args: string[];
  try {
    args = tokenize(cut === -1 ? '' : text.slice(cut));
  } catch (err) {
    if (err instanceof Malformed) throw new BadArgumentsError(verb, err.message);
    throw err;
  }
  if (args.includes('')) throw new BadArgumentsError(verb, 'empty argument');
  if (args.some(hasControl)) throw new BadArgumentsError(verb, 'control character in argument');
  return { verb, args };
}

/**
 * Parses a reply or event line for a client [T-3]; `null` for a line that does not start
 * with a digit. The seed's decoration is stripped, and since reply arguments are bare,
 * a decorated value holding spaces is split (`101 ['uuid alice']` gives `['uuid',
 * 'alice']`). Throws `ProtocolError(400, 'bad_reply')` for a digit-led line that is not
 * a 3-digit code followed by whitespace or the end, or whose decoration is malformed.
 */
export function parseReply(line: string): TextReply | null {
  const text = stripTerminator(line);
  if (!/^[0-9]/.test(text)) return null;
  if (!/^[0-9]{3}(?:[ \t]|$)/.test(text)) {
    throw new ProtocolError(Text.BAD_REQUEST, 'bad_reply', 'a reply starts with a 3-digit code');
  }
  let values: string[];
  try {
    values = tokenize(text.slice(3));
  } catch (err) {
    if (err instanceof Malformed)
      throw new ProtocolError(Text.BAD_REQUEST, 'bad_reply', err.message);
    throw err;
  }
  const args = values.flatMap((v) => v.split(/[ \t]+/)).filter((v) => v.length > 0);
  return { code: Number(text.slice(0, 3)), args };
}

/**
 * Formats a reply or event line, CRLF included [T-3]: `formatLine(105, 'alice')` is
 * `"105 alice\r\n"`. Arguments go out bare; one that is not a bare token (empty, holding
 * whitespace or a control character, or starting with a quote or `[`) is a programming
 * error and throws, as does a code outside 100-999 or a non-finite number.
 */
export function formatLine(code: number, ...args: Array<string | number>): string {
  if (!Number.isInteger(code) || code < 100 || code > 999) {
    throw new RangeError(`reply code must be 3 digits, got ${code}`);
  }
  let out = String(code);
  for (const arg of args) {
    if (typeof arg === 'number' && !Number.isFinite(arg)) {
      throw new RangeError(`reply argument must be finite, got ${arg}`);
    }
    const text = String(arg);
    if (!isBareToken(text))
      throw new TypeError(`not a bare reply argument: ${JSON.stringify(text)}`);
    out += ` ${text}`;
  }
  return `${out}\r\n`;
}

/**
 * Formats a request line for a client, CRLF included [T-2]:
 * `formatRequest('CONNECT', 'alice', '5004')` is `"CONNECT alice 5004\r\n"`. An argument
 * that is not a bare token is double-quoted, or single-quoted if it holds `"`. Throws for
 * a verb that is not a bare token and for an argument that is empty, holds a control
 * character, or needs quoting but holds both kinds of quote.
 */
export function formatRequest(verb: string, ...args: string[]): string {
  if (!isBareToken(verb)) throw new TypeError(`not a verb: ${JSON.stringify(verb)}`);
  let out = verb;
  for (const arg of args) {
    if (arg.length === 0 || hasControl(arg)) {
      throw new TypeError(`request argument cannot be sent: ${JSON.stringify(arg)}`);
    }
    if (isBareToken(arg)) out += ` ${arg}`;
    else if (!arg.includes('"')) out += ` "${arg}"`;
    else if (!arg.includes("'")) out += ` '${arg}'`;
    else throw new TypeError(`request argument holds both quotes: ${JSON.stringify(arg)}`);
  }
  return `${out}\r\n`;
}
