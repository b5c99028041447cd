import test from 'ava';
import { SilenceWatch } from '../../../device/media/silence-watch.ts';

/** Feeds a watch one 20 ms frame at a time; returns when it fired (or null). */
function drive(opts: {
  until: number;
  sendFrom?: number;
  sendUntil?: number;
  receiveUntil?: number;
  receiveFrom?: number;
}): number | null {
  const w = new SilenceWatch({ start: 0 });
  for (let now = 0; now <= opts.until; now += 20) {
    if (now >= (opts.sendFrom ?? 0) && now < (opts.sendUntil ?? Infinity)) w.sent(now);
    if (now >= (opts.receiveFrom ?? Infinity) && now < (opts.receiveUntil ?? Infinity))
      w.received(now);
    if (now % 100 === 0 && w.check(now)) return now;
  }
  return null;
}

const cases: Array<[string, Parameters<typeof drive>[0], number | null]> = [
  ['sending, nothing back: fires at 2 s', { until: 5000 }, 2000],
  ['both ways: never fires', { until: 5000, receiveFrom: 40 }, null],
  [
    'audio stops coming at 1 s: fires 2 s later',
    { until: 5000, receiveFrom: 0, receiveUntil: 1000 },
    3000,
  ],
  ['not sending (no microphone): never fires', { until: 5000, sendFrom: 99_999 }, null],
  ['the microphone opens late: fires once sending', { until: 5000, sendFrom: 2500 }, 2500],
  ['stopped sending at 1 s: never fires', { until: 5000, sendUntil: 1000 }, null],
  ['the first audio arrives at 1.9 s: never fires', { until: 5000, receiveFrom: 1900 }, null],
];

for (const [name, opts, firesAt] of cases) {
  test(name, (t) => {
    t.is(drive(opts), firesAt);
  });
}

test('fires once only', (t) => {
  const w = new SilenceWatch({ start: 0 });
  let fired = 0;
  for (let now = 0; now <= 10_000; now += 20) {
    w.sent(now);
    if (w.check(now)) fired++;
  }
  t.is(fired, 1);
  t.true(w.fired);
});

test('the silence that counts can be set', (t) => {
  const w = new SilenceWatch({ start: 1000, afterMs: 500 });
  w.sent(1400);
  t.false(w.check(1400));
  w.sent(1500);
  t.true(w.check(1500));
});
