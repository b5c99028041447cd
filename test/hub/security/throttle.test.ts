/**
 * [S-7] Login throttling in both dialects, in process on a FakeClock: counted per address
 * and (address, account), refused without a password check and with the reply of a wrong
 * secret, one instance for both dialects, and a device that logged in before from its own
 * address is never slowed by a stranger.
 */
import test, { type ExecutionContext } from 'ava';
import type { Logger } from 'pino';
import type { ConnectionLimits } from '../../../hub/context.ts';
import { BinaryClient } from '../../helpers/binary-client.ts';
import { SECURE_ENV, tempDir } from '../../helpers/hub.ts';
import { startHubInProcess, type TestHubInProcess } from '../../helpers/in-process-hub.ts';
import { capturingLog, testLog } from '../../helpers/log.ts';
import { TextClient } from '../../helpers/text-client.ts';

const SLOW = 15_000;
const SECRET = 'right-secret-4u';
const ATTACKER = '10.0.0.66';
const DEVICE = '10.0.0.2';

/**
 * A hub whose throttled logins are answered at once, for the tests that count; the
 * tarpit that delays them has its own test below.
 */
async function hubWith(
  t: ExecutionContext,
  env: NodeJS.ProcessEnv = SECURE_ENV,
  log: Logger = testLog,
  limits: Partial<ConnectionLimits> = { throttledReplyDelayMs: 0 },
): Promise<TestHubInProcess> {
  const h = await startHubInProcess([], limits, tempDir(), env, log);
  t.teardown(() => h.stop());
  await h.hub.accounts.createUser({ name: 'alice', email: 'alice@example.org', secret: SECRET });
  return h;
}

/** The device logs in from its own address (which the throttle then knows). */
async function deviceLogsIn(h: TestHubInProcess): Promise<string | null> {
  const c = await TextClient.connect(h.hub.text, DEVICE);
  const reply = await c.request(`CONNECT alice 0 ${SECRET}`, SLOW);
  c.close();
  return reply;
}

test('text: past 5 failures an address gets 401 bad_secret without a password check, the right secret included; the device is not slowed', async (t) => {
  const h = await hubWith(t);
  const { accounts } = h.hub;
  t.regex((await deviceLogsIn(h)) ?? '', /^101 /);
  const c = await TextClient.connect(h.hub.text, ATTACKER);
  const before = accounts.passwordChecks;
  for (let i = 0; i < 20; i++) {
    t.is(await c.request(`CONNECT alice 0 guess-${i}`, SLOW), '401 alice bad_secret');
  }
  t.is(accounts.passwordChecks - before, 6, 'five tolerated failures and the one that blocks');
  t.is(await c.request(`CONNECT alice 0 ${SECRET}`, SLOW), '401 alice bad_secret');
  t.is(accounts.passwordChecks - before, 6, 'throttled: not even the right secret is checked');
  t.regex((await deviceLogsIn(h)) ?? '', /^101 /, 'the device logs in meanwhile');
  c.close();
  // 15 s later one attempt is checked again; its failure blocks for twice as long.
  h.clock.advance(15_000);
  const c2 = await TextClient.connect(h.hub.text, ATTACKER);
  const mid = accounts.passwordChecks;
  t.is(await c2.request('CONNECT alice 0 again', SLOW), '401 alice bad_secret');
  t.is(await c2.request('CONNECT alice 0 again2', SLOW), '401 alice bad_secret');
  t.is(accounts.passwordChecks - mid, 1);
  c2.close();
});

test('binary: /login past 5 failures is 401 without a password check; unknown e-mails count too', async (t) => {
  const h = await hubWith(t);
  const { accounts } = h.hub;
  const c = await BinaryClient.connect(h.hub.binary, ATTACKER);
  const before = accounts.passwordChecks;
  for (let i = 0; i < 3; i++) {
    const r = await c.request(
      '/login',
      {},
      { user_mail: `nobody${i}@example.org`, pass: 'x' },
      SLOW,
    );
    t.is(r.status, 401);
  }
  for (let i = 0; i < 10; i++) {
    const r = await c.request(
      '/login',
      {},
      { user_mail: 'alice@example.org', pass: `g${i}` },
      SLOW,
    );
    t.is(r.status, 401);
  }
  // the address key blocks after 6 failures, whatever the account
  t.is(accounts.passwordChecks - before, 6);
  const right = await c.request('/login', {}, { user_mail: 'alice', pass: SECRET }, SLOW);
  t.is(right.status, 401);
  t.is(accounts.passwordChecks - before, 6);
  const device = await BinaryClient.connect(h.hub.binary, DEVICE);
  const ok = await device.request('/login', {}, { user_mail: 'alice', pass: SECRET }, SLOW);
  t.is(ok.status, 200, 'an address that never failed is not slowed');
  c.close();
  device.close();
});

test('one throttle for both dialects: text failures count against binary logins from there', async (t) => {
  const h = await hubWith(t);
  const { accounts } = h.hub;
  const text = await TextClient.connect(h.hub.text, ATTACKER);
  const before = accounts.passwordChecks;
  for (let i = 0; i < 6; i++) await text.request(`CONNECT alice 0 g${i}`, SLOW);
  const bin = await BinaryClient.connect(h.hub.binary, ATTACKER);
  const r = await bin.request('/login', {}, { user_mail: 'alice', pass: SECRET }, SLOW);
  t.is(r.status, 401);
  t.is(accounts.passwordChecks - before, 6);
  text.close();
  bin.close();
});

test('parallel connections from one address cannot outrun the count', async (t) => {
  const h = await hubWith(t);
  const { accounts } = h.hub;
  const before = accounts.passwordChecks;
  const clients = await Promise.all(
    Array.from({ length: 30 }, () => TextClient.connect(h.hub.text, ATTACKER)),
  );
  const replies = await Promise.all(
    clients.map((c, i) => c.request(`CONNECT alice 0 wrong-${i}`, SLOW)),
  );
  t.true(replies.every((r) => r === '401 alice bad_secret'));
  t.is(accounts.passwordChecks - before, 6);
  for (const c of clients) c.close();
});

test('login_throttle: off checks every attempt', async (t) => {
  const h = await hubWith(t, { BABEL_HUB_LOGIN_THROTTLE: 'off' });
  const { accounts } = h.hub;
  const c = await TextClient.connect(h.hub.text, ATTACKER);
  const before = accounts.passwordChecks;
  for (let i = 0; i < 12; i++) await c.request(`CONNECT alice 0 g${i}`, SLOW);
  t.is(accounts.passwordChecks - before, 12);
  t.regex((await c.request(`CONNECT alice 0 ${SECRET}`, SLOW)) ?? '', /^101 /);
  c.close();
});

test('failed logins are logged at info in both dialects with address and account, never the secret', async (t) => {
  const cap = capturingLog('debug');
  const h = await hubWith(t, SECURE_ENV, cap.log);
  const text = await TextClient.connect(h.hub.text, ATTACKER);
  t.is(await text.request('CONNECT alice 0 text-guess-1', SLOW), '401 alice bad_secret');
  const bin = await BinaryClient.connect(h.hub.binary, ATTACKER);
  t.is(
    (await bin.request('/login', {}, { user_mail: 'alice', pass: 'bin-guess-2' }, SLOW)).status,
    401,
  );
  const failed = cap.records.filter((r) => r.msg === 'login failed');
  t.deepEqual(
    failed.map((r) => [r.level, r.mod, r.address, r.user, r.reason]),
    [
      [30, 'text', ATTACKER, 'alice', 'bad_secret'],
      [30, 'binary', ATTACKER, 'alice', 'bad_secret'],
    ],
  );
  for (const secret of ['text-guess-1', 'bin-guess-2', SECRET])
    t.false(cap.text().includes(secret));
  text.close();
  bin.close();
});

test('a throttled login is answered 250 ms later (a tarpit), so a flood of them costs the hub little', async (t) => {
  const h = await hubWith(t, SECURE_ENV, testLog, {});
  t.regex((await deviceLogsIn(h)) ?? '', /^101 /);
  const c = await TextClient.connect(h.hub.text, ATTACKER);
  for (let i = 0; i < 6; i++) {
    t.is(await c.request(`CONNECT alice 0 g${i}`, SLOW), '401 alice bad_secret');
  }
  c.send('CONNECT alice 0 g6');
  t.true(await c.quiet(), 'not answered at once');
  h.clock.advance(249);
  t.true(await c.quiet(), 'not before 250 ms');
  h.clock.advance(1);
  t.is(await c.next(SLOW), '401 alice bad_secret');
  // the tarpit holds only that connection: another address is answered meanwhile
  c.send('CONNECT alice 0 g7');
  t.regex((await deviceLogsIn(h)) ?? '', /^101 /);
  c.close();
});
