/**
 * The web page's logins (docs/web.md): the `admin` password of the page, kept only as an
 * scrypt hash as the account store keeps device secrets [B-9], and the bearer token a
 * Prometheus scraper sends for `/metrics`. Made on the hub's first start with `http_port`
 * on, in `<data_dir>/web-login.json` (mode 0600). The first password is kept there in the
 * clear too, so that `babel-hub web-login` can show it (as `babel-hub mqtt-login` shows
 * the MQTT logins); setting a password of one's own removes it. Nothing here is logged.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hashSecret } from '../store/crypto.ts';

export const WEB_LOGIN_FILE = 'web-login.json';
export const WEB_ADMIN_USER = 'admin';

export interface WebLogin {
  /** scrypt hash of the admin password (`scrypt$N$r$p$salt$hash`). */
  readonly admin_hash: string;
  /** The generated first password, until the administrator sets one. */
  readonly initial_password?: string;
  /** `Authorization: Bearer <token>` for `/metrics`. */
  readonly metrics_token: string;
}

export function webLoginPath(dataDir: string): string {
  return path.join(dataDir, WEB_LOGIN_FILE);
}

/** The stored logins, or null when none were made yet. A damaged file is an error. */
export function readWebLogin(dataDir: string): WebLogin | null {
  const file = webLoginPath(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const bad = () =>
    new Error(`${file} is damaged; remove it and restart the hub to make a new web login`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad();
  }
  const o = raw as Partial<WebLogin> | null;
  if (
    typeof o?.admin_hash !== 'string' ||
    !o.admin_hash.startsWith('scrypt$') ||
    typeof o.metrics_token !== 'string' ||
    o.metrics_token.length < 16 ||
    (o.initial_password !== undefined && typeof o.initial_password !== 'string')
  ) {
    throw bad();
  }
  return {
    admin_hash: o.admin_hash,
    metrics_token: o.metrics_token,
    ...(o.initial_password === undefined ? {} : { initial_password: o.initial_password }),
  };
}

function writeWebLogin(dataDir: string, login: WebLogin): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = webLoginPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** The stored logins, made first (a random password and token) if there are none. */
export async function loadOrCreateWebLogin(
  dataDir: string,
  random: (n: number) => Buffer = randomBytes,
): Promise<{ login: WebLogin; created: boolean }> {
  const existing = readWebLogin(dataDir);
  if (existing) return { login: existing, created: false };
  const password = generatePassword(random);
  const login: WebLogin = {
    admin_hash: await hashSecret(password),
    initial_password: password,
    metrics_token: random(32).toString('base64url'),
  };
  writeWebLogin(dataDir, login);
  return { login, created: true };
}

/**
 * Sets the admin password (the initial one is forgotten); the running hub sees the new
 * hash at the next request and ends every session of the old password.
 */
export async function setAdminPassword(dataDir: string, password: string): Promise<void> {
  const current = readWebLogin(dataDir);
  writeWebLogin(dataDir, {
    admin_hash: await hashSecret(password),
    metrics_token: current?.metrics_token ?? randomBytes(32).toString('base64url'),
  });
}

/** A new random metrics token; scrapers with the old one are refused from then on. */
export function newMetricsToken(dataDir: string): string {
  const current = readWebLogin(dataDir);
  if (!current) throw new Error('no web login yet: start the hub once with http_port on');
  const token = randomBytes(32).toString('base64url');
  writeWebLogin(dataDir, { ...current, metrics_token: token });
  return token;
}

/** A password that is easy to type on a phone: 16 characters without look-alikes. */
export function generatePassword(random: (n: number) => Buffer = randomBytes): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  return [...random(16)].map((b) => alphabet[b % alphabet.length]).join('');
}
