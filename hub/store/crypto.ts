/**
 * Secrets and login tokens [B-9]: passwords are kept only as a slow salted hash (scrypt),
 * tokens only as a fast hash (sha256), and every comparison is constant time.
 */
import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters; stored with each hash so they can be raised later. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** The cost used for new hashes: ~16 MiB and some tens of ms per hash. */
const SCRYPT_DEFAULTS: ScryptParams = { N: 16384, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const TOKEN_BYTES = 32; // 256 bits, well above the 128 the contract asks for [B-9]
const TOKEN_HASH_BYTES = 32;
/** Upper bounds on stored parameters, so a corrupt row cannot ask for gigabytes. */
const MAX = { N: 1 << 20, r: 32, p: 16 } as const;

function derive(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // Memory is 128 * N * r bytes; allow twice that so raising N needs no other change.
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r,
  };
  // NFC so the same password typed on two keyboards hashes the same (RFC 8265).
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, KEY_BYTES, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a password as `scrypt$N$r$p$saltB64$hashB64` with a fresh random salt [B-9]. */
export async function hashSecret(
  secret: string,
  params: ScryptParams = SCRYPT_DEFAULTS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')]
    .map(String)
    .join('$');
}

/**
 * True when `secret` matches a hash made by `hashSecret`, compared in constant time.
 * A malformed or out-of-bounds encoding never matches.
 */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map((x) => (/^[1-9][0-9]{0,9}$/.test(x) ? Number(x) : 0));
  if (!N || !r || !p || N > MAX.N || r > MAX.r || p > MAX.p || (N & (N - 1)) !== 0) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || expected.length === 0) return false;
  const key = await derive(secret, salt, { N, r, p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A new login token: 32 random bytes as base64url (43 characters) [B-9]. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * The stored form of a token. A token carries 256 random bits, so unlike a password it
 * cannot be guessed or found in a dictionary; a slow or salted hash would add nothing but
 * CPU on every request. sha256 only makes a leaked database useless for logging in.
 */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** True when `token` hashes to `hash`, compared in constant time [B-9]. */
export function tokenMatches(token: string, hash: Buffer): boolean {
  if (hash.length !== TOKEN_HASH_BYTES) return false;
  return timingSafeEqual(hashToken(token), hash);
}
