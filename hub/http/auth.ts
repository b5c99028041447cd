/**
 * Who may use the web page (docs/web.md): one `admin` login by password, sessions in a
 * cookie, and a bearer token for `/metrics`.
 *
 * - The password is checked against the scrypt hash in `<data_dir>/web-login.json`, read
 *   again when the file changes, so `babel-hub web-login --set-password` takes effect on
 *   the running hub and ends every session of the old password.
 * - [S-7] Failed logins count in the hub's login throttle (per address, account
 *   `web:admin`); while an address is blocked its attempts are refused without a check.
 * - Sessions: 256-bit random tokens, kept only as sha256 [B-9], at most `maxSessions`
 *   (the oldest go first), for `sessionMs` (12 h) from their last use. The cookie is
 *   `HttpOnly; SameSite=Strict; Path=/`, and `Secure` when set over HTTPS.
 */
import fs from 'node:fs';
import type { Clock } from '../../shared/clock.ts';
import type { LoginThrottle } from '../security/login-throttle.ts';
import { hashToken, newToken, tokenMatches, verifySecret } from '../store/crypto.ts';
import { readWebLogin, type WebLogin, webLoginPath } from './credentials.ts';

export const SESSION_COOKIE = 'babel_session';
const THROTTLE_ACCOUNT = 'web:admin';

export type WebLoginOutcome =
  | { ok: true; token: string }
  | { ok: false; reason: 'bad_password' | 'throttled'; retryAfterMs?: number };

export interface WebAuthOptions {
  dataDir: string;
  clock: Clock;
  /** The hub's login throttle [S-7]; null with `login_throttle: off`. */
  throttle: LoginThrottle | null;
  sessionMs?: number;
  maxSessions?: number;
}

interface Session {
  /** The admin hash the session was opened with: a new password ends it. */
  readonly adminHash: string;
  lastUsed: number;
}

export class WebAuth {
  readonly #opts: WebAuthOptions;
  readonly #sessionMs: number;
  readonly #maxSessions: number;
  /** sha256(token) in hex -> session, oldest first. */
  readonly #sessions = new Map<string, Session>();
  #cache: { mtimeMs: number; size: number; login: WebLogin } | null = null;

  constructor(opts: WebAuthOptions) {
    this.#opts = opts;
    this.#sessionMs = opts.sessionMs ?? 12 * 3600_000;
    this.#maxSessions = opts.maxSessions ?? 64;
  }

  /** The current logins, re-read when the file changed; null when there are none. */
  current(): WebLogin | null {
    const file = webLoginPath(this.#opts.dataDir);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      this.#cache = null;
      return null;
    }
    const c = this.#cache;
    if (c && c.mtimeMs === st.mtimeMs && c.size === st.size) return c.login;
    const login = readWebLogin(this.#opts.dataDir);
    this.#cache = login ? { mtimeMs: st.mtimeMs, size: st.size, login } : null;
    return login;
  }

  /** A login attempt with `password` from `address`. */
  async login(address: string, password: string): Promise<WebLoginOutcome> {
    const throttle = this.#opts.throttle;
    const verdict = throttle?.check(address, THROTTLE_ACCOUNT);
    if (verdict && !verdict.allowed) {
      return { ok: false, reason: 'throttled', retryAfterMs: verdict.retryAfterMs };
    }
    const login = this.current();
    if (!login || !(await verifySecret(password, login.admin_hash))) {
      throttle?.failure(address, THROTTLE_ACCOUNT);
      return { ok: false, reason: 'bad_password' };
    }
    throttle?.success(address, THROTTLE_ACCOUNT);
    const token = newToken();
    this.#sessions.set(hashToken(token).toString('hex'), {
      adminHash: login.admin_hash,
      lastUsed: this.#opts.clock.now(),
    });
    while (this.#sessions.size > this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    return { ok: true, token };
  }

  /** Whether the request's cookie header carries a live session (and refreshes it). */
  session(cookieHeader: string | undefined): boolean {
    const token = readCookie(cookieHeader, SESSION_COOKIE);
    if (!token) return false;
    const key = hashToken(token).toString('hex');
    const s = this.#sessions.get(key);
    if (!s) return false;
    const now = this.#opts.clock.now();
    if (now - s.lastUsed > this.#sessionMs || this.current()?.admin_hash !== s.adminHash) {
      this.#sessions.delete(key);
      return false;
    }
    s.lastUsed = now;
    // most recently used last, so the oldest are evicted first
    this.#sessions.delete(key);
    this.#sessions.set(key, s);
    return true;
  }

  /** Ends the session of this cookie, if any. */
  logout(cookieHeader: string | undefined): void {
    const token = readCookie(cookieHeader, SESSION_COOKIE);
    if (token) this.#sessions.delete(hashToken(token).toString('hex'));
  }

  /** Whether `Authorization: Bearer <metrics token>` is right (constant time). */
  metricsToken(authorization: string | undefined): boolean {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const login = this.current();
    if (!m || !login) return false;
    return tokenMatches(m[1]!, hashToken(login.metrics_token));
  }

  /** The `Set-Cookie` value of a new session; `secure` (set over HTTPS) adds `Secure`. */
  cookie(token: string, secure = false): string {
    const maxAge = Math.floor(this.#sessionMs / 1000);
    const attrs = `HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
    return `${SESSION_COOKIE}=${token}; ${attrs}`;
  }
}

/** The `Set-Cookie` value that removes the session cookie. */
export const CLEAR_COOKIE = `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

/** One cookie's value from a `Cookie` header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(v) ? v : null;
    }
  }
  return null;
}
