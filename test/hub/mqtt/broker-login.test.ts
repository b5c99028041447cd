/** [S-9] Who a login is, as a table; [S-7] which logins cost a secret check. */
import test from 'ava';
import type { MqttIdentity } from '../../../hub/mqtt/acl.ts';
import { type BrokerLoginOptions, checkLogin } from '../../../hub/mqtt/broker-login.ts';
import { LoginThrottle } from '../../../hub/security/login-throttle.ts';
import { FakeClock } from '../../../shared/clock.ts';

const HUB = { username: 'babel-hub', password: 'hub-password-0123456789' };
const ADMIN = { username: 'admin', password: 'admin-password-0123456789' };
/** Accounts and their secrets; `admin` is also a Babel account here. */
const SECRETS: Record<string, string> = { door: 'door-secret', admin: 'account-secret' };

function options(throttle: LoginThrottle | null = null) {
  const checked: string[] = [];
  const opts: BrokerLoginOptions = {
    hub: HUB,
    admin: ADMIN,
    throttle,
    verifyDevice: async (name, secret) => {
      checked.push(name);
      return SECRETS[name] === secret;
    },
  };
  return { opts, checked };
}

const pw = (s: string) => Buffer.from(s);

const table: Array<
  [string, string | undefined, Buffer | undefined, MqttIdentity | number, string[]]
> = [
  ['no user name: not authorized', undefined, undefined, 5, []],
  ['empty user name: not authorized', '', pw('door-secret'), 5, []],
  ['the hub', HUB.username, pw(HUB.password), { kind: 'hub' }, []],
  ['admin', ADMIN.username, pw(ADMIN.password), { kind: 'admin' }, []],
  ["admin with the hub's password", ADMIN.username, pw(HUB.password), 4, []],
  ['admin without a password', ADMIN.username, undefined, 4, []],
  [
    'a device by name and secret',
    'door',
    pw('door-secret'),
    { kind: 'device', name: 'door' },
    ['door'],
  ],
  [
    'a device name in capitals is the same account [T-4]',
    'DOOR',
    pw('door-secret'),
    { kind: 'device', name: 'door' },
    ['door'],
  ],
  ['a device with a wrong secret', 'door', pw('wrong'), 4, ['door']],
  ['a device without a password: no check', 'door', undefined, 4, []],
  ['a device with an empty password: no check', 'door', pw(''), 4, []],
  ['an unknown account', 'nobody', pw('x'), 4, ['nobody']],
  ['not a valid name: no check', 'a/b', pw('x'), 4, []],
  ['the Babel account `admin` has no MQTT login', 'ADMIN', pw('account-secret'), 4, []],
  ['nor `babel-hub`', 'Babel-Hub', pw(HUB.password), 4, []],
];

for (const [name, user, password, want, checks] of table) {
  test(name, async (t) => {
    const { opts, checked } = options();
    const r = await checkLogin(opts, '192.0.2.1', user, password);
    if (typeof want === 'number') {
      t.false(r.ok);
      if (!r.ok) t.is(r.returnCode as number, want);
    } else {
      t.deepEqual(r, { ok: true, identity: want });
    }
    t.deepEqual(checked, checks);
  });
}

test('[S-7] throttled: past 5 failures no check, the same reply; another known address gets in', async (t) => {
  const clock = new FakeClock();
  const { opts, checked } = options(new LoginThrottle({ clock }));
  t.true((await checkLogin(opts, '192.0.2.7', 'door', pw('door-secret'))).ok);
  const replies = [];
  for (let i = 0; i < 20; i++)
    replies.push(await checkLogin(opts, '192.0.2.66', 'door', pw(`g${i}`)));
  t.is(checked.length, 1 + 6);
  t.true(replies.every((r) => !r.ok && r.returnCode === 4));
  t.deepEqual(
    replies.map((r) => !r.ok && r.reason),
    [...Array(6).fill('refused'), ...Array(14).fill('throttled')],
  );
  const right = await checkLogin(opts, '192.0.2.66', 'door', pw('door-secret'));
  t.like(right, { ok: false, returnCode: 4, reason: 'throttled' });
  t.true((await checkLogin(opts, '192.0.2.7', 'door', pw('door-secret'))).ok);
  // Guessing admin's password is throttled the same way.
  for (let i = 0; i < 6; i++) await checkLogin(opts, '192.0.2.99', 'admin', pw(`g${i}`));
  t.like(await checkLogin(opts, '192.0.2.99', 'admin', pw(ADMIN.password)), {
    ok: false,
    reason: 'throttled',
  });
  // Time heals.
  clock.advance(16_000);
  t.true((await checkLogin(opts, '192.0.2.66', 'door', pw('door-secret'))).ok);
});
