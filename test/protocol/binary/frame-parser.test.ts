/** The incremental frame parsers: chunk splits, the [B-3] size limit, and fuzz. */
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
  ResponseParser,
} from '../../../protocol/binary/frame.ts';
import { FrameTooLargeError, ProtocolError } from '../../../protocol/errors.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import {
  b,
  feed,
  LOGIN,
  le,
  newRequest,
  newResponse,
  type Parser,
  plain,
  requestErrors,
  requests,
  responseErrors,
  responses,
} from './fixtures/frames.ts';

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
