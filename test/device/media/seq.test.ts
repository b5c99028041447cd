import test from 'ava';
import { seqAdd, seqDiff, tsAdd, tsDiff } from '../../../device/media/seq.ts';

const seqDiffs: Array<[number, number, number]> = [
  [5, 3, 2],
  [3, 5, -2],
  [0, 65535, 1],
  [65535, 0, -1],
  [10, 65530, 16],
  [32767, 0, 32767],
  [32768, 0, -32768],
];
for (const [a, b, d] of seqDiffs) {
  test(`seqDiff(${a}, ${b}) = ${d}`, (t) => {
    t.is(seqDiff(a, b), d);
  });
}

const tsDiffs: Array<[number, number, number]> = [
  [960, 0, 960],
  [0, 960, -960],
  [0, 0xffffffff, 1],
  [0xffffffff, 0, -1],
  [100, 0xfffffc40, 1060],
  [0x7fffffff, 0, 0x7fffffff],
  [0x80000000, 0, -0x80000000],
];
for (const [a, b, d] of tsDiffs) {
  test(`tsDiff(${a}, ${b}) = ${d}`, (t) => {
    t.is(tsDiff(a, b), d);
  });
}

test('seqAdd and tsAdd wrap', (t) => {
  t.is(seqAdd(65535, 1), 0);
  t.is(seqAdd(65530, 10), 4);
  t.is(tsAdd(0xffffffff, 1), 0);
  t.is(tsAdd(0xfffffc40, 1920), 960);
  t.is(tsAdd(0, -960), 0xfffffc40);
});
