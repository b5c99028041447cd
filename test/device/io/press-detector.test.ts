import test from 'ava';
import { PressClassifier } from '../../../device/io/button.ts';
import { PressDetector } from '../../../device/io/press-detector.ts';
import { FakeClock } from '../../../shared/clock.ts';

type Step = readonly [level: 0 | 1, at: number];

/**
 * Drives the classifier as the backends do: raw edges at given times on a FakeClock,
 * timers firing in between; returns `short@T` / `long@T` with the clock time of each
 * report, after running on to `until`.
 */
function classify(steps: readonly Step[], until: number, initialPressed = false): string[] {
  const clock = new FakeClock();
  const out: string[] = [];
  const c = new PressClassifier(
    clock,
    (long) => out.push(`${long ? 'long' : 'short'}@${clock.now()}`),
    {
      initialPressed,
    },
  );
  for (const [level, at] of steps) {
    clock.advance(at - clock.now());
    c.level(level === 1);
  }
  clock.advance(until - clock.now());
  c.close();
  return out;
}

// Debounce 30 ms, long press at 1000 ms (the defaults).
const table: ReadonlyArray<[string, readonly Step[], string[]]> = [
  [
    'a clean short press is reported at release + debounce',
    [
      [1, 0],
      [0, 200],
    ],
    ['short@230'],
  ],
  [
    'a glitch shorter than the debounce is ignored',
    [
      [1, 0],
      [0, 10],
    ],
    [],
  ],
  [
    'a glitch of 29 ms is ignored',
    [
      [1, 100],
      [0, 129],
    ],
    [],
  ],
  [
    'a press of exactly the debounce counts',
    [
      [1, 100],
      [0, 130],
    ],
    ['short@160'],
  ],
  [
    'a release glitch of 29 ms does not end the press',
    [
      [1, 0],
      [0, 300],
      [1, 329],
      [0, 600],
    ],
    ['short@630'],
  ],
  [
    'bounces on press and release are one press',
    [
      [1, 0],
      [0, 3],
      [1, 5],
      [0, 9],
      [1, 12],
      [0, 400],
      [1, 402],
      [0, 405],
    ],
    ['short@435'],
  ],
  ['a hold reaches long at 1000 ms, while still held', [[1, 0]], ['long@1000']],
  [
    'the release after a long press reports nothing more',
    [
      [1, 0],
      [0, 2500],
    ],
    ['long@1000'],
  ],
  [
    'held 999 ms is short',
    [
      [1, 0],
      [0, 999],
    ],
    ['short@1029'],
  ],
  [
    'held exactly 1000 ms is long',
    [
      [1, 0],
      [0, 1000],
    ],
    ['long@1000'],
  ],
  [
    'a release bounce across the threshold stays long',
    [
      [1, 0],
      [0, 990],
      [1, 1000],
      [0, 1600],
    ],
    ['long@1000'],
  ],
  [
    'the threshold counts from the last press bounce',
    [
      [1, 0],
      [0, 10],
      [1, 20],
      [0, 1015],
    ],
    ['short@1045'],
  ],
  [
    'two presses, two reports',
    [
      [1, 0],
      [0, 100],
      [1, 300],
      [0, 1500],
    ],
    ['short@130', 'long@1300'],
  ],
  [
    'repeated levels change nothing',
    [
      [1, 0],
      [1, 50],
      [1, 80],
      [0, 100],
      [0, 110],
    ],
    ['short@130'],
  ],
];

for (const [name, steps, expected] of table) {
  test(`classifier: ${name}`, (t) => {
    t.deepEqual(classify(steps, 5000), expected);
  });
}

test('classifier: a button held at start reports nothing until released and pressed again', (t) => {
  t.deepEqual(
    classify(
      [
        [0, 100],
        [1, 200],
        [0, 300],
      ],
      5000,
      true,
    ),
    ['short@330'],
  );
  t.deepEqual(classify([], 5000, true), []);
});

test('detector without polls: presses are decided at the next edge', (t) => {
  const d = new PressDetector();
  t.deepEqual(d.edge(true, 0), []);
  t.deepEqual(d.edge(false, 1500), [{ long: true, at: 1000, heldMs: 1000 }]);
  t.deepEqual(d.edge(true, 2000), []);
  t.deepEqual(d.edge(false, 2100), []); // the release waits for its debounce
  t.deepEqual(d.advance(2129), []);
  t.deepEqual(d.advance(2130), [{ long: false, at: 2130, heldMs: 100 }]);
});

test('detector deadlines: debounce, then threshold, then nothing', (t) => {
  const d = new PressDetector();
  t.is(d.deadline(), null);
  d.edge(true, 0);
  t.is(d.deadline(), 30);
  d.advance(30);
  t.true(d.pressed);
  t.is(d.deadline(), 1000);
  d.edge(false, 990); // a release before the threshold holds the decision
  t.is(d.deadline(), 1020);
  t.deepEqual(d.advance(1000), []);
  t.deepEqual(d.advance(1020), [{ long: false, at: 1020, heldMs: 990 }]);
  t.is(d.deadline(), null);
});

test('detector with debounce 0 (kernel or panel debounced): a same-instant press counts', (t) => {
  const d = new PressDetector({ debounceMs: 0 });
  t.deepEqual(d.edge(true, 5), []);
  t.deepEqual(d.edge(false, 5), [{ long: false, at: 5, heldMs: 0 }]);
});

test('detector: custom timing and time running backwards', (t) => {
  const d = new PressDetector({ debounceMs: 10, longPressMs: 300, now: 1000 });
  d.edge(true, 1000);
  t.deepEqual(d.edge(false, 900), []); // clamped to 1000: a 0 ms glitch
  t.deepEqual(d.advance(2000), []);
  d.edge(true, 2000);
  t.deepEqual(d.advance(2300), [{ long: true, at: 2300, heldMs: 300 }]);
});

test('detector rejects timing that cannot work', (t) => {
  t.throws(() => new PressDetector({ debounceMs: -1 }), { instanceOf: RangeError });
  t.throws(() => new PressDetector({ debounceMs: 50, longPressMs: 50 }), {
    instanceOf: RangeError,
  });
});

test('classifier: close cancels a pending long press', (t) => {
  const clock = new FakeClock();
  const out: boolean[] = [];
  const c = new PressClassifier(clock, (long) => out.push(long));
  c.level(true);
  clock.advance(500);
  c.close();
  t.is(clock.pending, 0);
  clock.advance(2000);
  c.level(false);
  t.deepEqual(out, []);
});
