import test from 'ava';
import { FakeClock } from '../../shared/clock.ts';

test('fake clock fires timers in time order and only when due', (t) => {
  const clock = new FakeClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 20);
  clock.setTimeout(() => fired.push('a'), 10);
  const c = clock.setTimeout(() => fired.push('c'), 15);
  c.cancel();
  clock.advance(9);
  t.deepEqual(fired, []);
  clock.advance(11);
  t.deepEqual(fired, ['a', 'b']);
  t.is(clock.now(), 20);
});

test('fake clock intervals repeat and stop when cancelled', (t) => {
  const clock = new FakeClock();
  let n = 0;
  const timer = clock.setInterval(() => {
    n++;
  }, 10);
  clock.advance(35);
  t.is(n, 3);
  timer.cancel();
  clock.advance(100);
  t.is(n, 3);
  t.is(clock.pending, 0);
});
