import { isUtf8 } from 'node:buffer';
import test from 'ava';
import { FrameTooLargeError, ProtocolError } from '../../../protocol/errors.ts';
import { type FramerEvent, LineFramer, MAX_LINE_BYTES } from '../../../protocol/text/framer.ts';
import { mulberry32 } from '../../helpers/prng.ts';

/** Events as comparable strings; the byte count of a too-long line depends on chunking. */
function summarize(events: FramerEvent[]): string[] {
  return events.map((e) =>
    e.kind === 'line'
      ? `line ${JSON.stringify(e.line)}`
      : `error ${e.error.code} ${e.error.reason}${e.error.fatal ? ' fatal' : ''}`,
  );
}

function feed(framer: LineFramer, chunks: Buffer[]): FramerEvent[] {
  return chunks.flatMap((chunk) => framer.push(chunk));
}

/** The splits (by label) whose events differ from `expected`; one assertion per loop. */
function mismatches(expected: string[], runs: Iterable<[string, FramerEvent[]]>): string[] {
  const want = JSON.stringify(expected);
  const bad: string[] = [];
  for (const [label, events] of runs)
    if (JSON.stringify(summarize(events)) !== want) bad.push(label);
  return bad;
}

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** The input fed in two chunks, split at every offset. */
function* splits(input: Buffer): Generator<[string, FramerEvent[]]> {
  for (let at = 0; at <= input.length; at++) {
    const chunks = [input.subarray(0, at), input.subarray(at)];
    yield [`split at ${at}`, feed(new LineFramer(), chunks)];
  }
}

const TOO_LONG = 'error 400 line_too_long fatal';
const BAD_ENCODING = 'error 400 bad_encoding';

const table: Array<[string, Buffer, string[]]> = [
  ['CRLF line', bytes('CONNECT alice\r\n'), ['line "CONNECT alice"']],
  ['bare LF line [T-1]', bytes('USERS\n'), ['line "USERS"']],
  ['several lines', bytes('A\r\nB\nC\r\n'), ['line "A"', 'line "B"', 'line "C"']],
  ['unterminated tail waits', bytes('A\nB'), ['line "A"']],
  ['empty lines yield nothing', bytes('\n\r\n\nA\n\r\n'), ['line "A"']],
  ['only one CR is stripped', bytes('A\r\r\n'), ['line "A\\r"']],
  ['a CR inside a line is kept', bytes('A\rB\n'), ['line "A\\rB"']],
  ['UTF-8 line', bytes('NEW zoë €😀\n'), ['line "NEW zoë €😀"']],
  ['leading BOM dropped', bytes([0xef, 0xbb, 0xbf], 'USERS\n'), ['line "USERS"']],
  ['BOM-only line yields nothing', bytes([0xef, 0xbb, 0xbf], '\n'), []],
];

for (const [name, input, expected] of table) {
  test(`framer: ${name}`, (t) => {
    t.deepEqual(summarize(new LineFramer().push(input)), expected);
  });
}

const badUtf8: Array<[string, number[]]> = [
  ['lone continuation byte', [0x80]],
  ['overlong encoding', [0xc0, 0xaf]],
  ['encoded surrogate', [0xed, 0xa0, 0x80]],
  ['truncated sequence', [0xe2, 0x82]],
  ['0xFF', [0xff]],
  ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
];

for (const [name, seq] of badUtf8) {
  test(`framer: ${name} gives a non-fatal bad_encoding and framing goes on [T-1]`, (t) => {
    const framer = new LineFramer();
    const events = framer.push(bytes('A\n', 'x', seq, 'y\r\n', 'B\n'));
    t.deepEqual(summarize(events), ['line "A"', BAD_ENCODING, 'line "B"']);
    const error = events[1]?.kind === 'error' ? events[1].error : undefined;
    t.true(error instanceof ProtocolError);
    t.false(error?.fatal);
    t.false(framer.closed);
  });
}

test('framer: a line of exactly 1024 bytes with LF is accepted [T-1]', (t) => {
  const line = 'a'.repeat(MAX_LINE_BYTES - 1);
  t.deepEqual(summarize(new LineFramer().push(bytes(line, '\n'))), [`line "${line}"`]);
});

test('framer: a line of exactly 1024 bytes with CRLF is accepted [T-1]', (t) => {
  const line = 'a'.repeat(MAX_LINE_BYTES - 2);
  t.deepEqual(summarize(new LineFramer().push(bytes(line, '\r\n'))), [`line "${line}"`]);
});

test('framer: 1025 bytes with LF are rejected, fatal, with the sizes [T-1]', (t) => {
  const framer = new LineFramer();
  const events = framer.push(bytes('a'.repeat(MAX_LINE_BYTES), '\n'));
  t.deepEqual(summarize(events), [TOO_LONG]);
  const error = events[0]?.kind === 'error' ? events[0].error : undefined;
  t.true(error instanceof FrameTooLargeError);
  t.like(error, { code: 400, reason: 'line_too_long', fatal: true, declared: 1025, limit: 1024 });
  t.true(framer.closed);
});

test('framer: 1025 bytes with CRLF are rejected [T-1]', (t) => {
  const events = new LineFramer().push(bytes('a'.repeat(MAX_LINE_BYTES - 1), '\r\n'));
  t.deepEqual(summarize(events), [TOO_LONG]);
});

test('framer: 1024 unterminated bytes are held, the 1025th is rejected at once [T-1]', (t) => {
  const framer = new LineFramer();
  t.deepEqual(framer.push(bytes('a'.repeat(MAX_LINE_BYTES))), []);
  t.is(framer.buffered, MAX_LINE_BYTES);
  t.deepEqual(summarize(framer.push(bytes('a'))), [TOO_LONG]);
  t.is(framer.buffered, 0);
  t.true(framer.closed);
});

test('framer: an unterminated 1025-byte chunk is rejected without waiting for LF', (t) => {
  const framer = new LineFramer();
  t.deepEqual(summarize(framer.push(bytes('a'.repeat(MAX_LINE_BYTES + 1)))), [TOO_LONG]);
  t.is(framer.buffered, 0);
});

test('framer: after a fatal error, push() returns nothing', (t) => {
  const framer = new LineFramer(4);
  t.deepEqual(summarize(framer.push(bytes('AB\nTOOLONG\nC\n'))), ['line "AB"', TOO_LONG]);
  t.deepEqual(framer.push(bytes('D\n')), []);
  t.true(framer.closed);
});

test('framer: a huge chunk is never buffered beyond the limit', (t) => {
  const framer = new LineFramer();
  const events = framer.push(Buffer.alloc(10 * 1024 * 1024, 0x61));
  t.deepEqual(summarize(events), [TOO_LONG]);
  t.is(framer.buffered, 0);
});

test('framer: the limit is configurable and must be a positive integer', (t) => {
  t.deepEqual(summarize(new LineFramer(3).push(bytes('ab\nabc\n'))), ['line "ab"', TOO_LONG]);
  for (const bad of [0, -1, 1.5, Number.NaN]) t.throws(() => new LineFramer(bad));
});

test('framer: a CRLF split between chunks still strips the CR', (t) => {
  const framer = new LineFramer();
  t.deepEqual(framer.push(bytes('PING\r')), []);
  t.deepEqual(summarize(framer.push(bytes('\nUSERS\r'))), ['line "PING"']);
  t.deepEqual(summarize(framer.push(bytes('\n'))), ['line "USERS"']);
});

test('framer: multi-byte characters split at every offset decode whole', (t) => {
  const input = bytes('é€😀x\n', '😀\r\n');
  t.deepEqual(mismatches(['line "é€😀x"', 'line "😀"'], splits(input)), []);
});

const stream = bytes(
  'CONNECT alice 5004\r\n',
  '\r\n',
  'NEW zoë\n',
  'x',
  [0xc3],
  '\r\n',
  [0xf0, 0x9f, 0x98, 0x80],
  'OUT []\r\n',
  'A\r\r\n',
  'tail',
);

test('framer: the same bytes split at every offset, or byte by byte, give the same events', (t) => {
  const whole = summarize(new LineFramer().push(stream));
  t.deepEqual(whole, [
    'line "CONNECT alice 5004"',
    'line "NEW zoë"',
    BAD_ENCODING,
    'line "😀OUT []"',
    'line "A\\r"',
  ]);
  t.deepEqual(mismatches(whole, splits(stream)), []);
  const runs: Array<[string, FramerEvent[]]> = [];
  let held = true;
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b++) {
      const framer = new LineFramer();
      const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
      runs.push([`split at ${a}, ${b}`, feed(framer, chunks)]);
      held &&= framer.buffered === 4; // 'tail'
    }
  }
  t.deepEqual(mismatches(whole, runs), []);
  t.true(held);
  const bytewise = [...stream].map((byte) => Buffer.from([byte]));
  t.deepEqual(summarize(feed(new LineFramer(), bytewise)), whole);
});

test('framer: the 1024-byte boundary holds at every split offset', (t) => {
  const ok = bytes('a'.repeat(MAX_LINE_BYTES - 2), '\r\n');
  const tooLong = bytes('b'.repeat(MAX_LINE_BYTES - 1), '\r\n');
  const input = Buffer.concat([ok, tooLong]);
  const expected = [`line "${'a'.repeat(MAX_LINE_BYTES - 2)}"`, TOO_LONG];
  t.deepEqual(mismatches(expected, splits(input)), []);
});

test('framer: many small chunks of many lines', (t) => {
  const line = 'CALL bob\r\n';
  const input = Buffer.from(line.repeat(100_000));
  const framer = new LineFramer();
  let lines = 0;
  for (let at = 0; at < input.length; at += 7) {
    for (const event of framer.push(input.subarray(at, at + 7))) if (event.kind === 'line') lines++;
  }
  t.is(lines, 100_000);
  t.is(framer.buffered, 0);
});

/** The contract over a whole stream, for comparison; `isUtf8` is a second UTF-8 check. */
function reference(input: Buffer, max: number): string[] {
  const out: string[] = [];
  for (let start = 0; ; ) {
    const lf = input.indexOf(0x0a, start);
    const end = lf === -1 ? input.length : lf + 1;
    if (end - start > max) return [...out, TOO_LONG];
    if (lf === -1) return out;
    let body = input.subarray(start, lf);
    if (body.at(-1) === 0x0d) body = body.subarray(0, -1);
    start = end;
    if (body.length === 0) continue;
    out.push(isUtf8(body) ? `line ${JSON.stringify(body.toString())}` : BAD_ENCODING);
  }
}

/** Mostly well-formed pieces, so most lines decode; whole characters get split by chunking. */
const PIECES = ['a', 'b', ' ', '\r', '\n', '\r\n', 'é', '€', '😀'].map((p) => Buffer.from(p));
const BAD_PIECES = [[0xff], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80]].map((p) => Buffer.from(p));

function randomStream(random: () => number, length: number): Buffer {
  const parts: Buffer[] = [];
  for (let size = 0; size < length; ) {
    const pool = random() < 0.02 ? BAD_PIECES : PIECES;
    const piece = pool[Math.floor(random() * pool.length)] ?? Buffer.alloc(0);
    parts.push(piece);
    size += piece.length;
  }
  return Buffer.concat(parts);
}

test('framer fuzz: 100,000 random streams in random chunks match the whole-stream reading', (t) => {
  const random = mulberry32(0x4c494e45);
  const limits = [1, 2, 3, 5, 8, 16, 64];
  const seen = new Set<string>();
  for (let n = 0; n < 100_000; n++) {
    const max = limits[Math.floor(random() * limits.length)] ?? 1;
    const input = randomStream(random, Math.floor(random() * (3 * max + 20)));
    const framer = new LineFramer(max);
    const events: FramerEvent[] = [];
    try {
      for (let at = 0; at < input.length; ) {
        const next = at + 1 + Math.floor(random() * 8);
        events.push(...framer.push(input.subarray(at, next)));
        at = next;
        if (framer.buffered > max) throw new Error(`buffered ${framer.buffered} > ${max}`);
      }
    } catch (err) {
      t.fail(`case ${n}: ${input.toString('hex')} (max ${max}) threw ${String(err)}`);
      return;
    }
    const got = summarize(events);
    for (const event of got) seen.add(event.startsWith('line') ? 'line' : event);
    const expected = reference(input, max);
    const errorsOk = events.every((e) => e.kind === 'line' || e.error instanceof ProtocolError);
    const closedOk = framer.closed === (got.at(-1) === TOO_LONG);
    if (!errorsOk || !closedOk || JSON.stringify(got) !== JSON.stringify(expected)) {
      t.deepEqual(got, expected, `case ${n}: ${input.toString('hex')} (max ${max})`);
      return;
    }
  }
  t.deepEqual([...seen].sort(), [BAD_ENCODING, TOO_LONG, 'line']); // every path was taken
});
