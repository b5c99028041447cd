import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { AccountStore, UserRecord } from '../store/accounts.ts';
import { LoginThrottle } from './login-throttle.ts';
import { type PairingState, PairingWindow } from './pairing.ts';
import { PreLoginGate } from './prelogin-gate.ts';

export interface AccessOptions {
  clock: Clock;
  log: Logger;
  /** [S-6] The configured registration; a pairing window opens a closed one for a while. */
  registration: 'open' | 'closed';
  /** [S-7] `off` checks every password however often it is wrong. */
  loginThrottle: 'on' | 'off';
  /** [S-8] Caps on connections that have not logged in. */
  perAddress: number;
  total: number;
  /** [S-7] How much later a throttled login is answered (0: at once). */
  throttledReplyDelayMs: number;
}

/** Why a login was refused; the adapters map it to their replies. */
export type LoginRefusal =
  /** No such account. */
  | 'unknown'
  /** The secret did not match. */
  | 'bad_secret'
  /** [S-6] The account has no secret and registration is not open. */
  | 'no_secret'
  /** [S-7] Too many failures from there: refused without a password check. */
  | 'throttled';

/** One login attempt, as an adapter hands it to `Access.login`. */
export interface LoginAttempt {
  readonly accounts: AccountStore;
  /** The peer's IP [S-7]. */
  readonly address: string;
  /** The account name the attempt is counted under (for an unknown e-mail, the e-mail). */
  readonly account: string;
  /** The account, when it exists. */
  readonly user: UserRecord | undefined;
  readonly secret: string | undefined;
  /** Spend a password check on an unknown account, as on a known one [B-9]. */
  readonly spendOnUnknown: boolean;
  /** Refuse an account without a secret even under open registration. */
  readonly secretRequired: boolean;
  /** The connection's logger. */
  readonly log: Logger;
}

export type LoginOutcome = { ok: true; user: UserRecord } | { ok: false; reason: LoginRefusal };

/**
 * The hub's access rules of section S, one instance per hub shared by every listener and
 * both dialects: who may create an account [S-6], who may try a password and when [S-7],
 * and how many connections may wait to log in [S-8].
 */
export class Access {
  readonly pairing: PairingWindow;
  /** Null when `login_throttle: off`. */
  readonly throttle: LoginThrottle | null;
  readonly gate: PreLoginGate;
  readonly #registration: 'open' | 'closed';
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #throttledReplyDelayMs: number;
  readonly #pairingListeners: Array<(state: PairingState) => void> = [];
  readonly #loginListeners: Array<(outcome: LoginOutcome) => void> = [];
  /** The login in progress from each address: one password check at a time per address. */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(options: AccessOptions) {
    this.#log = options.log;
    this.#clock = options.clock;
    this.#throttledReplyDelayMs = options.throttledReplyDelayMs;
    this.#registration = options.registration;
    this.throttle =
      options.loginThrottle === 'on' ? new LoginThrottle({ clock: options.clock }) : null;
    this.gate = new PreLoginGate({ perAddress: options.perAddress, total: options.total });
    this.pairing = new PairingWindow({
      clock: options.clock,
      onChange: (state, untilWallMs) => {
        // [S-6] logged and published (retained `<base>/bridge/pairing`)
        if (state === 'open') {
          this.#log.info({ until: new Date(untilWallMs ?? 0).toISOString() }, 'pairing open');
        } else this.#log.info('pairing closed');
        for (const fn of this.#pairingListeners) fn(state);
      },
    });
  }

  /** [S-6] Whether a new account may be created now: open registration or a pairing window. */
  get mayRegister(): boolean {
    return this.#registration === 'open' || this.pairing.state === 'open';
  }

  /**
   * [S-6] Whether accounts may go without a secret: only with `registration: open`.
   * Accounts made in a pairing window have one like all others.
   */
  get secretOptional(): boolean {
    return this.#registration === 'open';
  }

  /** Hears every opening and closing of the pairing window. */
  onPairing(fn: (state: PairingState) => void): void {
    this.#pairingListeners.push(fn);
  }

  /** Hears the outcome of every login attempt (the metrics count them). */
  onLogin(fn: (outcome: LoginOutcome) => void): void {
    this.#loginListeners.push(fn);
  }

  /**
   * A login of `account` (a user name, or for an unknown binary login the e-mail given)
   * from `address` with `secret`. [S-7] Throttled attempts are refused before any
   * password check; a failure is counted, a success clears the (address, account) pair.
   * Checks from one address run one at a time, so parallel connections cannot outrun the
   * count; a throttled attempt is answered only `throttledReplyDelayMs` later, so that
   * refusing a flood costs the hub little. `spendOnUnknown` costs an unknown account one
   * hash too (the binary dialect does not reveal which e-mails exist [B-9]). An account without a secret lets one in
   * only with open registration, and never when `secretRequired` (binary `/login`,
   * whose token could then delete the account). Every failure that got as far as a check
   * is logged at info with the address and the account, never the secret, and so is the
   * start of each throttle block; refusals while blocked go to debug, so that a flood of
   * attempts does not flood the log.
   */
  async login(opts: LoginAttempt): Promise<LoginOutcome> {
    const { address } = opts;
    if (!this.throttle) {
      // nothing to count: no queue either
      const outcome = await this.#login(opts);
      for (const fn of this.#loginListeners) fn(outcome);
      return outcome;
    }
    const before = this.#inFlight.get(address) ?? Promise.resolve();
    const run = before.then(() => this.#login(opts));
    const tail = run.catch(() => {});
    this.#inFlight.set(address, tail);
    void tail.then(() => {
      if (this.#inFlight.get(address) === tail) this.#inFlight.delete(address);
    });
    const outcome = await run;
    for (const fn of this.#loginListeners) fn(outcome);
    // [S-7] a throttled attempt waits out the tarpit (outside the per-address queue, so
    // it holds only its own connection)
    if (!outcome.ok && outcome.reason === 'throttled' && this.#throttledReplyDelayMs > 0) {
      const delay = this.#throttledReplyDelayMs;
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, delay));
    }
    return outcome;
  }

  async #login(opts: LoginAttempt): Promise<LoginOutcome> {
    const { accounts, address, account, user, secret, log } = opts;
    const refuse = (reason: LoginRefusal): LoginOutcome => {
      if (reason === 'throttled') {
        // At debug: a flood of refusals must not flood the log too; its start is at info.
        log.debug({ address, user: account, reason }, 'login failed');
        return { ok: false, reason };
      }
      log.info({ address, user: account, reason }, 'login failed');
      const throttle = this.throttle;
      if (throttle) {
        throttle.failure(address, account);
        const verdict = throttle.check(address, account);
        if (!verdict.allowed) {
          log.info(
            { address, user: account, retryAfterMs: verdict.retryAfterMs },
            'login throttled',
          );
        }
      }
      return { ok: false, reason };
    };
    const verdict = this.throttle?.check(address, account);
    if (verdict && !verdict.allowed) return refuse('throttled'); // [S-7] no password check
    if (!user) {
      if (opts.spendOnUnknown) await accounts.spendPasswordCheck(secret ?? '');
      return refuse('unknown');
    }
    if (!user.hasSecret) {
      // [S-6] Outside open registration every account has a secret: one without cannot
      // be used until an administrator gives it one (`babel-hub user secret`).
      if (opts.secretRequired || !this.secretOptional) return refuse('no_secret');
    } else if (!(await accounts.checkSecret(user.id, secret))) {
      return refuse('bad_secret');
    }
    this.throttle?.success(address, account);
    return { ok: true, user };
  }
}
