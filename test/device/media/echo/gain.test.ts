import test from 'ava';
import {
  applyGain,
  dbToGain,
  levelDbfs,
  peak,
  volumeGain,
} from '../../../../device/media/echo/gain.ts';

const pcm = (...v: number[]) => {
  const b = Buffer.alloc(v.length * 2);
  for (const [i, x] of v.entries()) b.writeInt16LE(x, i * 2);
  return b;
};
const samples = (b: Buffer) => Array.from({ length: b.length / 2 }, (_, i) => b.readInt16LE(i * 2));

for (const [volume, gain] of [
  [0, 0],
  [10, 0.01],
  [50, 0.25],
  [100, 1],
  [-5, 0],
  [150, 1],
] as const) {
  test(`volume ${volume} -> amplitude ${gain}`, (t) => {
    t.true(Math.abs(volumeGain(volume) - gain) < 1e-12);
  });
}

for (const [db, gain] of [
  [0, 1],
  [20, 10],
  [-20, 0.1],
  [6, 1.9953],
] as const) {
  test(`${db} dB -> x${gain}`, (t) => {
    t.true(Math.abs(dbToGain(db) - gain) < 1e-4);
  });
}

const gainTable: Array<[string, number[], number, number[]]> = [
  ['halves', [1000, -1000, 3], 0.5, [500, -500, 2]],
  ['clips high and low', [20000, -20000], 2, [32767, -32768]],
  ['mutes', [123, -456], 0, [0, 0]],
];
for (const [name, input, gain, want] of gainTable) {
  test(`applyGain ${name}`, (t) => {
    t.deepEqual(samples(applyGain(pcm(...input), gain)), want);
  });
}

test('applyGain by 1 is the same buffer', (t) => {
  const b = pcm(1, 2, 3);
  t.is(applyGain(b, 1), b);
});

test('levels: a full-scale square is 0 dBFS, silence -Infinity, peak', (t) => {
  t.is(levelDbfs(pcm(32767, -32768)), 10 * Math.log10((32767 ** 2 + 32768 ** 2) / 2 / 32768 ** 2));
  t.is(levelDbfs(pcm(0, 0)), Number.NEGATIVE_INFINITY);
  t.is(levelDbfs(Buffer.alloc(0)), Number.NEGATIVE_INFINITY);
  t.is(peak(pcm(100, -16384, 5)), 0.5);
});
