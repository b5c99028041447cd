import test from 'ava';
import { LoginThrottle } from '../../../hub/security/login-throttle.ts';
import { FakeClock } from '../../../shared/clock.ts';

const ATTACKER = '127.0.0.66';
const DEVICE = '127.0.0.2';

function setup() {
  const clock = new FakeClock();
  const throttle = new LoginThrottle({ clock });
  /** Fails from `address` while allowed; returns how many password checks happened. */
  const hammer = (address: string, account: string, attempts: number): number => {
    let checks = 0;
    for (let i = 0; i < attempts; i++) {
      if (!throttle.check(address, account).allowed) continue;
      checks++;
      throttle.failure(address, account);
    }
    return checks;
  };
  return { clock, throttle, hammer };
}

test('[S-7] five failures in a minute pass; the sixth blocks the address and the pair', (t) => {
  const { throttle, hammer } = setup();
  t.is(hammer(ATTACKER, 'door', 5), 5);
  t.true(throttle.check(ATTACKER, 'door').allowed);
  t.is(hammer(ATTACKER, 'door', 1000), 1);
  t.deepEqual(throttle.check(ATTACKER, 'door'), { allowed: false, retryAfterMs: 15_000 });
  // The address is blocked for every account, not just the one it guessed at.
  t.false(throttle.check(ATTACKER, 'kitchen').allowed);
});

test('[S-7] a stranger cannot slow another address that logs in to the same account', (t) => {
  const { throttle, hammer } = setup();
  throttle.success(DEVICE, 'door');
  hammer(ATTACKER, 'door', 1000);
  t.true(throttle.check(DEVICE, 'door').allowed);
  throttle.success(DEVICE, 'door');
  t.true(throttle.check(DEVICE, 'door').allowed);
});

test('[S-7] the refusal delay doubles at each further failure, up to five minutes', (t) => {
  const { clock, throttle } = setup();
  for (let i = 0; i < 6; i++) throttle.failure(ATTACKER, 'door');
  const delays: number[] = [];
  for (let round = 0; round < 8; round++) {
    const verdict = throttle.check(ATTACKER, 'door');
    if (verdict.allowed) throw new Error('expected a block');
    delays.push(verdict.retryAfterMs);
    clock.advance(verdict.retryAfterMs);
    t.true(throttle.check(ATTACKER, 'door').allowed);
    throttle.failure(ATTACKER, 'door');
  }
  t.deepEqual(delays, [15_000, 30_000, 60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
});

test('[S-7] failures spread over more than a minute are not blocked', (t) => {
  const { clock, throttle } = setup();
  for (let i = 0; i < 30; i++) {
    t.true(throttle.check(DEVICE, 'door').allowed);
    throttle.failure(DEVICE, 'door');
    clock.advance(15_000);
  }
});

test('[S-7] a success clears the pair but not the address', (t) => {
  const { throttle } = setup();
  for (let i = 0; i < 5; i++) throttle.failure(DEVICE, 'door');
  throttle.success(DEVICE, 'door');
  throttle.failure(DEVICE, 'door');
  // The pair starts afresh, but the address has now failed six times this minute.
  t.false(throttle.check(DEVICE, 'door').allowed);
  t.false(throttle.check(DEVICE, 'kitchen').allowed);
});

test('[S-7] probation ends after a quiet window past the longest delay', (t) => {
  const { clock, hammer } = setup();
  hammer(ATTACKER, 'door', 10);
  clock.advance(15_000 + 60_000 + 300_000);
  t.is(hammer(ATTACKER, 'door', 1000), 6);
});

test('[S-7] an attacker gets at most 10 password checks a minute after the first burst', (t) => {
  const { clock, hammer } = setup();
  let checks = hammer(ATTACKER, 'door', 100);
  t.is(checks, 6);
  const perMinute: number[] = [];
  for (let minute = 0; minute < 30; minute++) {
    checks = 0;
    for (let s = 0; s < 60; s++) {
      checks += hammer(ATTACKER, 'door', 10);
      clock.advance(1000);
    }
    perMinute.push(checks);
  }
  t.true(Math.max(...perMinute) <= 10, `checks per minute: ${perMinute.join(' ')}`);
  t.true(
    perMinute.slice(5).every((n) => n <= 1),
    `checks per minute: ${perMinute.join(' ')}`,
  );
});

test('[S-7] memory stays bounded under a spray of addresses', (t) => {
  const clock = new FakeClock();
  const throttle = new LoginThrottle({ clock, maxEntries: 100 });
  for (let i = 0; i < 5000; i++) throttle.failure(`10.0.${i >> 8}.${i & 255}`, `user${i}`);
  t.true(throttle.size <= 100);
});

test('[S-7] guessing one account from many addresses is throttled per account', (t) => {
  const { throttle, hammer } = setup();
  let checks = 0;
  for (let i = 0; i < 50; i++) checks += hammer(`127.0.1.${i}`, 'door', 3);
  t.is(checks, 6);
  // A new address is refused too, until the block ends.
  t.false(throttle.check('127.0.2.1', 'door').allowed);
});

test('[S-7] the device known to its account logs in through a per-account block', (t) => {
  const { throttle, hammer } = setup();
  throttle.success(DEVICE, 'door');
  for (let i = 0; i < 50; i++) hammer(`127.0.1.${i}`, 'door', 3);
  t.true(throttle.check(DEVICE, 'door').allowed);
  throttle.success(DEVICE, 'door');
  // Another account is not affected by the block on this one.
  t.true(throttle.check('127.0.2.1', 'kitchen').allowed);
});
