import test from 'ava';
import { type PairingState, PairingWindow } from '../../../hub/security/pairing.ts';
import { FakeClock } from '../../../shared/clock.ts';

function setup() {
  const clock = new FakeClock();
  const changes: Array<[PairingState, number | null]> = [];
  const pairing = new PairingWindow({ clock, onChange: (s, until) => changes.push([s, until]) });
  return { clock, changes, pairing };
}

test('[S-6] closed until opened; open for exactly the minutes asked', (t) => {
  const { clock, changes, pairing } = setup();
  t.is(pairing.state, 'closed');
  pairing.open(10);
  t.is(pairing.state, 'open');
  t.is(pairing.untilWallMs, clock.wallNow() + 600_000);
  clock.advance(599_999);
  t.is(pairing.state, 'open');
  clock.advance(1);
  t.is(pairing.state, 'closed');
  t.deepEqual(
    changes.map(([s]) => s),
    ['open', 'closed'],
  );
  t.is(clock.pending, 0, 'no timer left behind');
});

test('[S-6] opening again restarts the count; close ends it at once', (t) => {
  const { clock, changes, pairing } = setup();
  pairing.open(1);
  clock.advance(50_000);
  pairing.open(1);
  clock.advance(50_000);
  t.is(pairing.state, 'open');
  pairing.close();
  pairing.close();
  t.is(pairing.state, 'closed');
  t.deepEqual(
    changes.map(([s]) => s),
    ['open', 'open', 'closed'],
  );
  t.is(clock.pending, 0);
});

test('[S-6] minutes out of range are refused and change nothing', (t) => {
  const { changes, pairing } = setup();
  for (const m of [0, -1, Number.NaN, 1441]) {
    t.throws(() => pairing.open(m), { instanceOf: RangeError });
  }
  t.is(pairing.state, 'closed');
  t.deepEqual(changes, []);
});
