import test from 'ava';
import {
  encodeRequest,
  encodeResponse,
  REQUEST_PREFIX_SIZE,
  RESPONSE_PREFIX_SIZE,
  RequestParser,
  ResponseParser,
} from '../../../protocol/binary/frame.ts';
import { FrameTooLargeError, ProtocolError } from '../../../protocol/errors.ts';
import {
  b,
  newRequest,
  newResponse,
  type Parser,
  requestErrors,
  requests,
  responseErrors,
  responses,
} from './fixtures/frames.ts';

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
