/**
 * [S-9] Who is logging in to the embedded broker: the hub's own login, `admin` (Home
 * Assistant), or a device by its Babel name and secret. Nobody else: a client without a
 * user name is refused `not authorized` (CONNACK 5), a wrong login `bad user name or
 * password` (4).
 *
 * [S-7] Every password check goes through the hub's login throttle, keyed by the client's
 * address and the account, so MQTT is no side door for guessing a device's secret: past
 * the throttle's limit a login is refused with the same code as a wrong one, and no
 * secret is checked at all.
 */
import { timingSafeEqual } from 'node:crypto';
import { normalizeName } from '../../protocol/names.ts';
import type { LoginThrottle } from '../security/login-throttle.ts';
import type { MqttIdentity } from './acl.ts';
import type { MqttLogin } from './logins.ts';

/** CONNACK return codes of MQTT 3.1.1 (3.2.2.3) that a login can end with. */
export const CONNACK = {
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

/** Whether `secret` is the secret of the Babel account `name` (already normalized [T-4]). */
export type VerifyDevice = (name: string, secret: string) => Promise<boolean>;

export interface BrokerLoginOptions {
  /** The hub's bridge logs in with this one (everything is allowed to it). */
  readonly hub: MqttLogin;
  /** Home Assistant's (`babel-hub mqtt-login` prints it). */
  readonly admin: MqttLogin;
  /** The account store's secret check; called once per login that gets that far. */
  readonly verifyDevice: VerifyDevice;
  /** [S-7] Shared with the dialects; null: no throttling (`login_throttle: off`). */
  readonly throttle: LoginThrottle | null;
}

export type LoginResult =
  | { readonly ok: true; readonly identity: MqttIdentity }
  | {
      readonly ok: false;
      readonly returnCode: (typeof CONNACK)[keyof typeof CONNACK];
      /** For the debug log; never the password. */
      readonly reason: 'anonymous' | 'refused' | 'throttled';
    };

const ANONYMOUS: LoginResult = {
  ok: false,
  returnCode: CONNACK.NOT_AUTHORIZED,
  reason: 'anonymous',
};
const REFUSED: LoginResult = {
  ok: false,
  returnCode: CONNACK.BAD_USERNAME_OR_PASSWORD,
  reason: 'refused',
};
const THROTTLED: LoginResult = {
  ok: false,
  returnCode: CONNACK.BAD_USERNAME_OR_PASSWORD, // [S-7] the same reply as a wrong secret
  reason: 'throttled',
};

/** Decides one MQTT login from `address` (the peer's plain IP). Never throws for bad input. */
export async function checkLogin(
  opts: BrokerLoginOptions,
  address: string,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<LoginResult> {
  if (username === undefined || username === '') return ANONYMOUS;
  const login = ownLogin(opts, username);
  // The hub's and admin's names are taken on MQTT: `ADMIN` is not a device named admin.
  const account = login ? username : normalizeName(username);
  if (account === null) return REFUSED; // not a name any account can have: nothing to guess
  const throttle = opts.throttle;
  if (throttle && !throttle.check(address, account).allowed) return THROTTLED;
  const secret = password?.toString('utf8');
  let identity: MqttIdentity | null = null;
  if (login) {
    if (secret !== undefined && same(secret, login.password)) identity = login.identity;
  } else if (!isOwnName(opts, account) && secret !== undefined && secret !== '') {
    if (await opts.verifyDevice(account, secret)) identity = { kind: 'device', name: account };
  }
  if (identity === null) {
    throttle?.failure(address, account);
    return REFUSED;
  }
  throttle?.success(address, account);
  return { ok: true, identity };
}

function ownLogin(
  opts: BrokerLoginOptions,
  username: string,
): { password: string; identity: MqttIdentity } | null {
  if (username === opts.hub.username) return { password: opts.hub.password, identity: HUB };
  if (username === opts.admin.username) return { password: opts.admin.password, identity: ADMIN };
  return null;
}

function isOwnName(opts: BrokerLoginOptions, name: string): boolean {
  return name === normalizeName(opts.hub.username) || name === normalizeName(opts.admin.username);
}

const HUB: MqttIdentity = { kind: 'hub' };
const ADMIN: MqttIdentity = { kind: 'admin' };

/** Constant-time comparison of a given password with the expected one. */
function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
