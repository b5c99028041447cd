/**
 * [S-2] The hub's TLS identity: a certificate and its private key, either named in the
 * config (`tls.cert`, `tls.key`) or made on first start in `<data_dir>/tls/` and kept
 * across restarts. The certificate is made by Debian's `openssl` (a self-signed ECDSA
 * P-256 certificate, CN babel-hub), never written by hand.
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeDir } from '../../shared/make-dir.ts';
import { lanAddresses } from '../net/lan-addresses.ts';

/** Where the made identity lives in the data directory. */
export const TLS_DIR = 'tls';
export const CERT_FILE = 'hub.crt';
export const KEY_FILE = 'hub.key';

/** About 100 years: a pinned hub certificate must not expire under its devices. */
const VALIDITY_DAYS = 36_500;

export interface HubIdentity {
  /** PEM. */
  readonly cert: Buffer;
  /** PEM; never logged. */
  readonly key: Buffer;
  /** `sha256:<64 lowercase hex>` of the certificate's DER [S-2]. */
  readonly fingerprint: string;
  /** Where it came from: the config's files or `<data_dir>/tls/`. */
  readonly certPath: string;
  /** True when this call made it (first start). */
  readonly created: boolean;
}

/** The identity cannot be used; `setting` is the config path to blame, for `path: message`. */
export class IdentityError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'IdentityError';
    this.setting = setting;
  }
}

/** What the identity needs of the hub's config. */
export interface IdentityConfig {
  readonly data_dir: string;
  readonly tls: { readonly cert?: string | undefined; readonly key?: string | undefined };
}

/** Runs `openssl ARGS`; the seam tests replace to make it fail. */
export type RunOpenssl = (args: string[]) => Promise<void>;

const execFileAsync = promisify(execFile);

export const runOpenssl: RunOpenssl = async (args) => {
  try {
    await execFileAsync('openssl', args, { timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('openssl is not installed (Debian package openssl; scripts/setup.sh)');
    }
    throw new Error(`openssl failed: ${(e.stderr ?? e.message).trim()}`);
  }
};

/** `sha256:<64 lowercase hex>` of a PEM certificate's DER [S-2]. */
export function fingerprintOf(certPem: Buffer | string): string {
  const der = new X509Certificate(certPem).raw;
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/**
 * [S-2] The problem with the config's own `tls.cert` / `tls.key` (unreadable, not PEM, not
 * a pair), as one `path: message` line; null when they serve or are not set.
 */
export function checkConfiguredIdentity(config: IdentityConfig): string | null {
  const { cert, key } = config.tls;
  if (cert === undefined && key === undefined) return null;
  try {
    if (cert === undefined) throw new IdentityError('tls.cert', 'set it together with tls.key');
    if (key === undefined) throw new IdentityError('tls.key', 'set it together with tls.cert');
    readPair(cert, key, 'tls.cert', 'tls.key', false);
    return null;
  } catch (err) {
    if (err instanceof IdentityError) return err.message;
    throw err;
  }
}

/**
 * The hub's identity: the config's `tls.cert` / `tls.key` when set, otherwise the one in
 * `<data_dir>/tls/`, made now if there is none. Throws `IdentityError` when the files
 * cannot be read or do not match.
 */
export async function loadIdentity(
  config: IdentityConfig,
  run: RunOpenssl = runOpenssl,
  hostname: string = os.hostname(),
  addresses: readonly string[] = lanAddresses(),
): Promise<HubIdentity> {
  const { cert, key } = config.tls;
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined) throw new IdentityError('tls.cert', 'set it together with tls.key');
    if (key === undefined) throw new IdentityError('tls.key', 'set it together with tls.cert');
    return readPair(cert, key, 'tls.cert', 'tls.key', false);
  }
  const dir = path.join(config.data_dir, TLS_DIR);
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  const created = fs.existsSync(certPath)
    ? false
    : await makeIdentity(config.data_dir, run, subjectAltName(hostname, addresses));
  return readPair(certPath, keyPath, 'data_dir', 'data_dir', created);
}

function readPair(
  certPath: string,
  keyPath: string,
  certSetting: string,
  keySetting: string,
  created: boolean,
): HubIdentity {
  const cert = readFile(certPath, certSetting);
  const key = readFile(keyPath, keySetting);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new IdentityError(certSetting, `${certPath} is not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new IdentityError(keySetting, `${keyPath} is not an unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new IdentityError(keySetting, `${keyPath} is not the key of ${certPath}`);
  }
  return { cert, key, fingerprint: fingerprintOf(cert), certPath, created };
}

function readFile(file: string, setting: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new IdentityError(setting, `cannot read ${file} (${code})`);
  }
}

/**
 * Makes a key and a self-signed certificate in a fresh private directory beside `tls/`,
 * then renames that directory to `tls/`: a crash leaves either no identity or a whole
 * one, and of two processes making one at once (the hub and `babel-hub fingerprint`)
 * exactly one wins, the other uses the winner's.
 */
async function makeIdentity(dataDir: string, run: RunOpenssl, names: string): Promise<boolean> {
  makeDir(dataDir);
  const tmp = fs.mkdtempSync(path.join(dataDir, '.tls-new-')); // mode 0700
  try {
    const keyPath = path.join(tmp, KEY_FILE);
    const certPath = path.join(tmp, CERT_FILE);
    await run([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-sha256',
      '-days',
      String(VALIDITY_DAYS),
      '-subj',
      '/CN=babel-hub',
      '-addext',
      `subjectAltName=${names}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
    fs.chmodSync(keyPath, 0o600); // [S-2] readable by the hub's user only
    fs.chmodSync(certPath, 0o644);
    fs.chmodSync(tmp, 0o700);
    for (const f of [keyPath, certPath]) fsyncFile(f);
    const dir = path.join(dataDir, TLS_DIR);
    try {
      fs.renameSync(tmp, dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process made it first, or `tls/` holds something else: theirs stands.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      return false;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The names a made certificate carries: DNS:<hostname> and, for a plain host name,
 * DNS:<hostname>.local (Raspberry Pi OS answers mDNS), DNS:localhost, IP:127.0.0.1, and
 * the machine's network addresses at the time (`addresses`), so that a client checking
 * names (Home Assistant's bridge, a browser) can reach the hub by name or by address. A
 * hostname openssl would refuse, and anything in `addresses` that is not an IP, are left
 * out. The addresses are those of the first start: give the hub a fixed address (a DHCP
 * reservation), or use the names.
 */
export function subjectAltName(hostname: string, addresses: readonly string[] = []): string {
  const names = ['DNS:localhost', 'IP:127.0.0.1'];
  if (
    /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(hostname) &&
    hostname !== 'localhost'
  ) {
    const local = hostname.includes('.') ? [] : [`DNS:${hostname}.local`];
    names.unshift(`DNS:${hostname}`, ...local);
  }
  for (const a of addresses) {
    const ip = a.replace(/%.*$/, ''); // no IPv6 zone in a certificate
    if (isIP(ip) !== 0 && ip !== '127.0.0.1' && !names.includes(`IP:${ip}`)) names.push(`IP:${ip}`);
  }
  return names.join(',');
}
