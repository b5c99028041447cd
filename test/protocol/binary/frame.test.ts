import test from 'ava';
import {
  DEFAULT_MAX_FRAME,
  encodeRequest,
  encodeResponse,
  type ParseEvent,
  REQUEST_PREFIX_SIZE,
  RESPONSE_PREFIX_SIZE,
  type RequestFrame,
  RequestParser,
  type ResponseFrame,
  ResponseParser,
} from '../../../protocol/binary/frame.ts';
import { FrameTooLargeError, ProtocolError } from '../../../protocol/errors.ts';
import { mulberry32 } from '../../helpers/prng.ts';

/** Concatenates raw byte lists and UTF-8 strings: fixtures spelled independently of encode. */
function b(...parts: (readonly number[] | Uint8Array | string)[]): Buffer {
  return Buffer.concat(
    parts.map((p) =>
      typeof p === 'string'
        ? Buffer.from(p, 'utf8')
        : p instanceof Uint8Array
          ? p
          : Uint8Array.from(p),
    ),
  );
}

/** A little-endian uint32, written by hand rather than by the code under test. */
function le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

interface Parser<F> {
  push(chunk: Buffer): ParseEvent<F>[];
  readonly buffered: number;
  readonly closed: boolean;
}

/** Events as plain data, errors included, so two runs can be compared with deepEqual. */
function plain<F>(events: ParseEvent<F>[]): unknown[] {
  return events.map((e) =>
    e.kind === 'frame'
      ? e
      : {
          kind: 'error',
          name: e.error.name,
          code: e.error.code,
          reason: e.error.reason,
          fatal: e.error.fatal,
          message: e.error.message,
        },
  );
}

/** Feeds `bytes` cut at `cuts` (sorted offsets) and returns all events. */
function feed<F>(parser: Parser<F>, bytes: Buffer, cuts: readonly number[] = []): ParseEvent<F>[] {
  const events: ParseEvent<F>[] = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, to)));
    from = to;
  }
  return events;
}

const newRequest = (max?: number) => new RequestParser(max);
const newResponse = (max?: number) => new ResponseParser(max);

// --- fixtures: (name, object, bytes) -> parse, encode, round trip -----------------------

const requests: { name: string; frame: RequestFrame; bytes: Buffer }[] = [
  {
    name: 'all parts empty',
    frame: { header: '', route: '', data: '' },
    bytes: b([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  },
  {
    name: 'login: route and data, no header',
    frame: { header: '', route: '/login', data: 'user_mail: "a@b.c", pass: "x"' },
    bytes: b([0, 0, 0, 0, 6, 0, 0, 0, 29, 0, 0, 0], '/login', 'user_mail: "a@b.c", pass: "x"'),
  },
  {
    name: 'contacts: header, no data',
    frame: { header: 'id: "1", token: "ab"', route: '/contacts', data: '' },
    bytes: b([20, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0], 'id: "1", token: "ab"/contacts'),
  },
  {
    name: 'multi-byte UTF-8 counts bytes, not characters',
    frame: { header: '', route: '/x', data: 'name: "日本😀"' },
    bytes: b(
      [0, 0, 0, 0, 2, 0, 0, 0, 18, 0, 0, 0],
      '/x',
      'name: "',
      [0xe6, 0x97, 0xa5],
      [0xe6, 0x9c, 0xac],
      [0xf0, 0x9f, 0x98, 0x80],
      '"',
    ),
  },
  {
    name: 'a size above 255 uses the second byte',
    frame: { header: '', route: '/send', data: 'a'.repeat(300) },
    bytes: b([0, 0, 0, 0, 5, 0, 0, 0, 0x2c, 0x01, 0, 0], '/send', 'a'.repeat(300)),
  },
  {
    name: 'a leading byte order mark is kept',
    frame: { header: '', route: '\ufeff/x', data: '' },
    bytes: b([0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0], [0xef, 0xbb, 0xbf], '/x'),
  },
];

const responses: { name: string; frame: ResponseFrame; bytes: Buffer }[] = [
  {
    name: '200 with no data',
    frame: { status: 200, data: '' },
    bytes: b([3, 0, 0, 0, 0, 0, 0, 0], '200'),
  },
  {
    name: '201 with fields',
    frame: { status: 201, data: 'id: "1", name: "al", token: "t"' },
    bytes: b([3, 0, 0, 0, 31, 0, 0, 0], '201', 'id: "1", name: "al", token: "t"'),
  },
  {
    name: '100 event [B-7]',
    frame: { status: 100, data: 'event: "called"' },
    bytes: b([3, 0, 0, 0, 15, 0, 0, 0], '100event: "called"'),
  },
  {
    name: 'a one-digit status',
    frame: { status: 7, data: '' },
    bytes: b([1, 0, 0, 0, 0, 0, 0, 0], '7'),
  },
  {
    name: 'records and UTF-8 data',
    frame: { status: 200, data: '[name: "é"]' },
    bytes: b([3, 0, 0, 0, 12, 0, 0, 0], '200[name: "', [0xc3, 0xa9], '"]'),
  },
];

for (const { name, frame, bytes } of requests) {
  test(`request parse: ${name}`, (t) => {
    const p = new RequestParser();
    t.deepEqual(p.push(bytes), [{ kind: 'frame', frame }]);
    t.is(p.buffered, 0);
  });
  test(`request encode: ${name}`, (t) => {
    t.deepEqual(encodeRequest(frame), bytes);
  });
  test(`request round trip: ${name}`, (t) => {
    t.deepEqual(new RequestParser().push(encodeRequest(frame)), [{ kind: 'frame', frame }]);
  });
}

for (const { name, frame, bytes } of responses) {
  test(`response parse: ${name}`, (t) => {
    const p = new ResponseParser();
    t.deepEqual(p.push(bytes), [{ kind: 'frame', frame }]);
    t.is(p.buffered, 0);
  });
  test(`response encode: ${name}`, (t) => {
    t.deepEqual(encodeResponse(frame.status, frame.data), bytes);
  });
  test(`response round trip: ${name}`, (t) => {
    const again = new ResponseParser().push(encodeResponse(frame.status, frame.data));
    t.deepEqual(again, [{ kind: 'frame', frame }]);
  });
}

test('response parse: leading zeros in the status are read as decimal', (t) => {
  const events = new ResponseParser().push(b([3, 0, 0, 0, 0, 0, 0, 0], '007'));
  t.deepEqual(events, [{ kind: 'frame', frame: { status: 7, data: '' } }]);
});

test('encodeResponse rejects a status that is not an integer 0-999', (t) => {
  for (const status of [-1, 1000, 2.5, Number.NaN]) {
    t.throws(() => encodeResponse(status, ''), { instanceOf: RangeError });
  }
  t.deepEqual(encodeResponse(999, ''), b([3, 0, 0, 0, 0, 0, 0, 0], '999'));
  t.deepEqual(encodeResponse(0, ''), b([1, 0, 0, 0, 0, 0, 0, 0], '0'));
});

test('encodeRequest writes a lone surrogate as U+FFFD', (t) => {
  const events = new RequestParser().push(encodeRequest({ header: '', route: '\ud800', data: '' }));
  t.deepEqual(events, [{ kind: 'frame', frame: { header: '', route: '\ufffd', data: '' } }]);
});

test('a parser refuses a limit smaller than the prefix', (t) => {
  t.throws(() => new RequestParser(REQUEST_PREFIX_SIZE - 1), { instanceOf: RangeError });
  t.throws(() => new ResponseParser(RESPONSE_PREFIX_SIZE - 1), { instanceOf: RangeError });
  t.throws(() => new RequestParser(Number.NaN), { instanceOf: RangeError });
  t.notThrows(() => new ResponseParser(RESPONSE_PREFIX_SIZE));
});

// --- error table: bytes -> events ('frame' or an error reason) -------------------------

const LOGIN = requests[1]!.bytes;
const OK = responses[0]!.bytes;

const requestErrors: { name: string; bytes: Buffer; expect: string[]; max?: number }[] = [
  {
    name: 'invalid UTF-8 in the header',
    bytes: b([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff], LOGIN),
    expect: ['bad_encoding', 'frame'],
  },
  {
    name: 'invalid UTF-8 in the route',
    bytes: b([0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xc3, 0x28], LOGIN),
    expect: ['bad_encoding', 'frame'],
  },
  {
    name: 'a truncated sequence at the end of the data',
    bytes: b([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xe6], LOGIN),
    expect: ['bad_encoding', 'frame'],
  },
  {
    name: 'an overlong encoding of "/"',
    bytes: b([0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xaf]),
    expect: ['bad_encoding'],
  },
  {
    name: 'an encoded surrogate',
    bytes: b([0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0xed, 0xa0, 0x80]),
    expect: ['bad_encoding'],
  },
  {
    name: 'a character split across header and route',
    bytes: b([1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xc3, 0xa9, 0x2f]),
    expect: ['bad_encoding'],
  },
  {
    name: 'a route without "/" is not the codec\'s concern',
    bytes: b([0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0], 'login'),
    expect: ['frame'],
  },
  {
    name: 'a declared size over the default limit',
    bytes: b([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], LOGIN),
    expect: ['frame_too_large'],
  },
  {
    name: 'frames before an oversized one are delivered; nothing after it',
    bytes: b(LOGIN, le(100), le(0), le(0), LOGIN),
    expect: ['frame', 'frame_too_large'],
    max: 100,
  },
];

const responseErrors: { name: string; bytes: Buffer; expect: string[]; max?: number }[] = [
  {
    name: 'an empty status',
    bytes: b([0, 0, 0, 0, 0, 0, 0, 0], OK),
    expect: ['bad_status', 'frame'],
  },
  {
    name: 'a letter',
    bytes: b([3, 0, 0, 0, 0, 0, 0, 0], '2a0', OK),
    expect: ['bad_status', 'frame'],
  },
  { name: 'four digits', bytes: b([4, 0, 0, 0, 0, 0, 0, 0], '2000'), expect: ['bad_status'] },
  { name: 'a sign', bytes: b([3, 0, 0, 0, 0, 0, 0, 0], '+20'), expect: ['bad_status'] },
  { name: 'a space', bytes: b([3, 0, 0, 0, 0, 0, 0, 0], ' 20'), expect: ['bad_status'] },
  { name: 'a NUL byte', bytes: b([1, 0, 0, 0, 0, 0, 0, 0, 0]), expect: ['bad_status'] },
  {
    name: 'a non-ASCII digit',
    bytes: b([2, 0, 0, 0, 0, 0, 0, 0], '٢'),
    expect: ['bad_status'],
  },
  {
    name: 'a status of 2^32 - 1 bytes',
    bytes: b([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
    expect: ['frame_too_large'],
  },
  {
    name: 'invalid UTF-8 in the data',
    bytes: b([3, 0, 0, 0, 2, 0, 0, 0], '200', [0xe2, 0x82], OK),
    expect: ['bad_encoding', 'frame'],
  },
  {
    name: 'a size over the limit',
    bytes: b([3, 0, 0, 0, 90, 0, 0, 0], '200'),
    expect: ['frame_too_large'],
    max: 100,
  },
];

function checkErrors<F>(
  t: import('ava').ExecutionContext,
  parser: Parser<F>,
  bytes: Buffer,
  expect: string[],
): void {
  const events = parser.push(bytes);
  t.deepEqual(
    events.map((e) => (e.kind === 'frame' ? 'frame' : e.error.reason)),
    expect,
  );
  for (const e of events) {
    if (e.kind === 'frame') continue;
    t.true(e.error instanceof ProtocolError);
    t.is(e.error.code, 400);
    t.is(e.error.fatal, e.error.reason === 'frame_too_large');
    t.is(e.error instanceof FrameTooLargeError, e.error.reason === 'frame_too_large');
  }
  t.is(parser.closed, expect.includes('frame_too_large'));
  t.is(parser.buffered, 0);
}

for (const { name, bytes, expect, max } of requestErrors) {
  test(`request error: ${name}`, (t) => checkErrors(t, newRequest(max), bytes, expect));
}
for (const { name, bytes, expect, max } of responseErrors) {
  test(`response error: ${name}`, (t) => checkErrors(t, newResponse(max), bytes, expect));
}

// --- splits: every offset, byte by byte, random chunkings ---------------------------------

function checkSplits<F>(
  t: import('ava').ExecutionContext,
  make: () => Parser<F>,
  stream: Buffer,
): void {
  const whole = plain(feed(make(), stream));
  const mismatches: string[] = [];
  for (let i = 0; i <= stream.length; i++) {
    const p = make();
    const got = plain(feed(p, stream, [i]));
    if (JSON.stringify(got) !== JSON.stringify(whole)) mismatches.push(`split at ${i}`);
  }
  const bytewise = make();
  const events: ParseEvent<F>[] = [];
  for (let i = 0; i < stream.length; i++) {
    events.push(...bytewise.push(stream.subarray(i, i + 1)));
    if (bytewise.buffered > DEFAULT_MAX_FRAME) mismatches.push(`buffered at ${i}`);
  }
  t.deepEqual(plain(events), whole, 'byte by byte');
  const rand = mulberry32(42);
  for (let n = 0; n < 500; n++) {
    const cuts = Array.from({ length: 1 + Math.floor(rand() * 8) }, () =>
      Math.floor(rand() * (stream.length + 1)),
    ).sort((x, y) => x - y);
    const got = plain(feed(make(), stream, cuts));
    if (JSON.stringify(got) !== JSON.stringify(whole)) mismatches.push(`cuts ${cuts}`);
  }
  t.deepEqual(mismatches, []);
}

test('requests split at every offset, byte by byte and at random give the same events', (t) => {
  const stream = b(
    ...requests.map((r) => r.bytes),
    ...requestErrors.filter((e) => !e.expect.includes('frame_too_large')).map((e) => e.bytes),
    ...requests.map((r) => r.bytes),
  );
  const whole = feed(newRequest(), stream);
  t.is(whole.filter((e) => e.kind === 'frame').length, 2 * requests.length + 4);
  t.is(whole.filter((e) => e.kind === 'error').length, 6);
  checkSplits(t, newRequest, stream);
  checkSplits(t, newRequest, b(stream, le(DEFAULT_MAX_FRAME), le(0), le(0), LOGIN));
});

test('responses split at every offset, byte by byte and at random give the same events', (t) => {
  const stream = b(
    ...responses.map((r) => r.bytes),
    ...responseErrors.filter((e) => !e.expect.includes('frame_too_large')).map((e) => e.bytes),
    ...responses.map((r) => r.bytes),
  );
  const whole = feed(newResponse(), stream);
  t.is(whole.filter((e) => e.kind === 'frame').length, 2 * responses.length + 3);
  t.is(whole.filter((e) => e.kind === 'error').length, 8);
  checkSplits(t, newResponse, stream);
  checkSplits(t, newResponse, b(stream, le(3), le(DEFAULT_MAX_FRAME), '200'));
});

test('several frames in one chunk come out in order', (t) => {
  const p = new RequestParser();
  const frames = requests.map((r) => r.frame);
  t.deepEqual(
    p.push(Buffer.concat(requests.map((r) => r.bytes))),
    frames.map((frame) => ({ kind: 'frame', frame })),
  );
  const q = new ResponseParser();
  const tail = b([3, 0, 0]);
  t.deepEqual(
    q.push(Buffer.concat([...responses.map((r) => r.bytes), tail])),
    responses.map((r) => ({ kind: 'frame', frame: r.frame })),
  );
  t.is(q.buffered, 3);
});

test('buffered counts the bytes held for an incomplete frame', (t) => {
  const p = new RequestParser();
  const bytes = requests[1]!.bytes;
  t.deepEqual(p.push(bytes.subarray(0, 5)), []);
  t.is(p.buffered, 5);
  t.deepEqual(p.push(bytes.subarray(5, 20)), []);
  t.is(p.buffered, 20 - REQUEST_PREFIX_SIZE);
  t.is(p.push(bytes.subarray(20)).length, 1);
  t.is(p.buffered, 0);
  t.deepEqual(p.push(Buffer.alloc(0)), []);
});

// --- [B-3] the size limit -----------------------------------------------------------------

test('[B-3] a request exactly at the limit passes; one byte over is fatal', (t) => {
  const max = 100;
  const header = 'h'.repeat(max - REQUEST_PREFIX_SIZE - 1);
  const at = new RequestParser(max);
  t.deepEqual(at.push(encodeRequest({ header, route: '/', data: '' })), [
    { kind: 'frame', frame: { header, route: '/', data: '' } },
  ]);
  const over = new RequestParser(max);
  const events = over.push(encodeRequest({ header, route: '/', data: 'x' }));
  t.is(events.length, 1);
  const e = events[0]!;
  t.is(e.kind, 'error');
  if (e.kind !== 'error') return;
  t.true(e.error instanceof FrameTooLargeError);
  t.like(e.error, { code: 400, reason: 'frame_too_large', fatal: true, declared: 101, limit: 100 });
  t.true(over.closed);
  t.is(over.buffered, 0);
  t.deepEqual(over.push(encodeRequest({ header: '', route: '/', data: '' })), []);
  t.is(over.buffered, 0);
});

test('[B-3] a response exactly at the limit passes; one byte over is fatal', (t) => {
  const max = 64;
  const data = 'd'.repeat(max - RESPONSE_PREFIX_SIZE - 3);
  t.is(new ResponseParser(max).push(encodeResponse(200, data))[0]?.kind, 'frame');
  const over = new ResponseParser(max);
  const [e] = over.push(encodeResponse(200, `${data}d`));
  t.like(e, { kind: 'error', error: { reason: 'frame_too_large', declared: 65, limit: 64 } });
  t.true(over.closed);
});

test('[B-3] the default limit is 64 KiB, prefix included', (t) => {
  t.is(DEFAULT_MAX_FRAME, 65536);
  const data = 'x'.repeat(DEFAULT_MAX_FRAME - REQUEST_PREFIX_SIZE - 1);
  t.is(new RequestParser().push(encodeRequest({ header: '', route: '/', data }))[0]?.kind, 'frame');
  const [e] = new RequestParser().push(encodeRequest({ header: '', route: '/', data: `${data}x` }));
  t.like(e, { kind: 'error', error: { reason: 'frame_too_large', declared: 65537 } });
});

test('[B-3] a prefix declaring 4 GiB is rejected once its 12 bytes arrive', (t) => {
  const p = new RequestParser();
  const prefix = b(le(0xffffffff), le(0xffffffff), le(0xffffffff));
  for (let i = 0; i < REQUEST_PREFIX_SIZE - 1; i++) {
    t.deepEqual(p.push(prefix.subarray(i, i + 1)), []);
    t.is(p.buffered, i + 1);
  }
  const [e, ...rest] = p.push(prefix.subarray(REQUEST_PREFIX_SIZE - 1));
  t.deepEqual(rest, []);
  // Summed without overflow: 3 * (2^32 - 1) + 12.
  t.like(e, { kind: 'error', error: { reason: 'frame_too_large', declared: 12884901897 } });
  t.true(p.closed);
  t.is(p.buffered, 0);
  t.deepEqual(p.push(Buffer.alloc(1 << 16, 0x61)), []);
  t.is(p.buffered, 0);

  const q = new ResponseParser();
  const [f] = q.push(b(le(0xffffffff), le(0xffffffff)));
  t.like(f, { kind: 'error', error: { reason: 'frame_too_large', declared: 2 * 0xffffffff + 8 } });
});

// How fast this runs is measured by benchmarks, not asserted here; this checks the result.
test('a 64 KiB frame pushed byte by byte yields exactly that frame', (t) => {
  const data = 'z'.repeat(DEFAULT_MAX_FRAME - REQUEST_PREFIX_SIZE - 1);
  const bytes = encodeRequest({ header: '', route: '/', data });
  const p = new RequestParser();
  const events: ParseEvent<RequestFrame>[] = [];
  for (let i = 0; i < bytes.length; i++) {
    events.push(...p.push(bytes.subarray(i, i + 1)));
    t.true(p.buffered <= DEFAULT_MAX_FRAME);
  }
  t.deepEqual(events, [{ kind: 'frame', frame: { header: '', route: '/', data } }]);
});

test('a chunk larger than the limit is fine when its frames are not', (t) => {
  const one = encodeRequest({ header: '', route: '/a', data: 'b' });
  const chunk = Buffer.concat([one, one]);
  const p = new RequestParser(one.length);
  t.is(p.push(chunk).length, 2);
  t.is(p.buffered, 0);
});

// --- fuzz: random inputs never throw anything but ProtocolError ---------------------------

const UTF8_SAMPLES = [[0x61], [0x2f], [0xc3, 0xa9], [0xe6, 0x97, 0xa5], [0xf0, 0x9f, 0x98, 0x80]];

/** `n` bytes: mostly UTF-8 (or digits, for a status), random with probability `dirty`. */
function randomBytes(rand: () => number, n: number, digits: boolean, dirty: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    if (rand() < dirty) out.push(Math.floor(rand() * 256));
    else if (digits) out.push(0x30 + Math.floor(rand() * 10));
    else {
      const sample = UTF8_SAMPLES[Math.floor(rand() * UTF8_SAMPLES.length)]!;
      out.push(...(out.length + sample.length <= n ? sample : [0x61]));
    }
  }
  return out;
}

/** A stream of 1-3 frames, mostly well formed, some lying about sizes or oversized. */
function randomStream(rand: () => number, words: number, max: number): Buffer {
  const out: number[] = [];
  const frames = 1 + Math.floor(rand() * 3);
  for (let f = 0; f < frames; f++) {
    const r = rand();
    if (r < 0.05) {
      for (let i = Math.floor(rand() * 24); i > 0; i--) out.push(Math.floor(rand() * 256));
      continue;
    }
    const sizes = Array.from({ length: words }, (_, i) =>
      r < 0.1
        ? Math.floor(rand() * 2 ** 32)
        : r < 0.2
          ? Math.floor(rand() * max)
          : Math.floor(rand() * (i === 0 && words === 2 ? 5 : 12)),
    );
    for (const s of sizes) out.push(...le(s));
    const dirty = rand() < 0.3 ? 0.2 : 0;
    sizes.forEach((s, i) => {
      out.push(...randomBytes(rand, Math.min(s, 200), i === 0 && words === 2, dirty));
    });
  }
  return Buffer.from(out);
}

function fuzz<F>(
  t: import('ava').ExecutionContext,
  make: (max: number) => Parser<F>,
  words: number,
  seed: number,
): void {
  const rand = mulberry32(seed);
  const failures: string[] = [];
  const counts = { frame: 0, error: 0, fatal: 0 };
  const prefixSize = words * 4;
  for (let n = 0; n < 100_000 && failures.length < 5; n++) {
    const max = prefixSize + Math.floor(rand() * 64);
    const stream = randomStream(rand, words, max);
    const cuts = Array.from({ length: Math.floor(rand() * 4) }, () =>
      Math.floor(rand() * (stream.length + 1)),
    ).sort((x, y) => x - y);
    const p = make(max);
    try {
      let from = 0;
      let closedSeen = false;
      for (const to of [...cuts, stream.length]) {
        const events = p.push(stream.subarray(from, to));
        from = to;
        if (closedSeen && events.length > 0) failures.push(`#${n}: events after close`);
        if (p.buffered > max) failures.push(`#${n}: buffered ${p.buffered} > ${max}`);
        events.forEach((e, i) => {
          if (e.kind === 'frame') {
            counts.frame++;
            return;
          }
          counts.error++;
          if (!(e.error instanceof ProtocolError)) failures.push(`#${n}: ${e.error}`);
          if (e.error.fatal) {
            counts.fatal++;
            if (i !== events.length - 1 || !p.closed) failures.push(`#${n}: fatal not last`);
          }
        });
        closedSeen = p.closed;
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) failures.push(`#${n}: threw ${String(err)}`);
    }
  }
  t.deepEqual(failures, []);
  // The generator must reach every outcome, or the fuzz proves little.
  t.true(
    counts.frame > 5_000 && counts.error - counts.fatal > 5_000 && counts.fatal > 5_000,
    JSON.stringify(counts),
  );
}

test('fuzz: 100,000 random inputs to RequestParser', (t) => fuzz(t, newRequest, 3, 1));
test('fuzz: 100,000 random inputs to ResponseParser', (t) => fuzz(t, newResponse, 2, 2));
