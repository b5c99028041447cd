import test from 'ava';
import { Reframer } from '../../../device/audio/reframer.ts';

const FRAME = 8;
/** Bytes 0, 1, 2, ... `n` long: every frame is distinguishable. */
const stream = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));
const expected = (data: Buffer) => {
  const frames: Buffer[] = [];
  for (let o = 0; o + FRAME <= data.length; o += FRAME) frames.push(data.subarray(o, o + FRAME));
  return frames;
};

test('the same frames whatever the split: once at every offset', (t) => {
  const data = stream(FRAME * 5 + 3);
  for (let cut = 0; cut <= data.length; cut++) {
    const r = new Reframer(FRAME);
    const frames = [...r.push(data.subarray(0, cut)), ...r.push(data.subarray(cut))];
    t.deepEqual(frames, expected(data), `cut at ${cut}`);
    t.is(r.pending, 3);
  }
});

test('the same frames whatever the split: byte by byte and in growing chunks', (t) => {
  const data = stream(FRAME * 7 + 5);
  const byByte = new Reframer(FRAME);
  const frames: Buffer[] = [];
  for (let i = 0; i < data.length; i++) frames.push(...byByte.push(data.subarray(i, i + 1)));
  t.deepEqual(frames, expected(data));
  for (let size = 1; size <= 3 * FRAME; size++) {
    const r = new Reframer(FRAME);
    const out: Buffer[] = [];
    for (let o = 0; o < data.length; o += size) out.push(...r.push(data.subarray(o, o + size)));
    t.deepEqual(out, expected(data), `chunks of ${size}`);
  }
});

test('frames are copies: reusing the input buffer does not change them', (t) => {
  const r = new Reframer(FRAME);
  const chunk = stream(FRAME + 4);
  const [first] = r.push(chunk);
  chunk.fill(0);
  t.deepEqual(first, stream(FRAME));
  const [second] = r.push(stream(FRAME).subarray(0, 4));
  t.is(second?.length, FRAME);
});

test('reset drops a partial frame', (t) => {
  const r = new Reframer(FRAME);
  r.push(stream(5));
  r.reset();
  t.is(r.pending, 0);
  t.deepEqual(r.push(stream(FRAME)), [stream(FRAME)]);
});

test('rejects a frame size that is not a positive integer', (t) => {
  for (const bad of [0, -2, 1.5, Number.NaN])
    t.throws(() => new Reframer(bad), { instanceOf: RangeError });
});
