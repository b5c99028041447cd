/**
 * [S-6] A device without a configured secret makes a strong one on first start and keeps
 * it in its state directory (`secret`, mode 0600), so it registers with a secret from the
 * start and the same one ever after.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { readOrCreate } from '../shared/read-or-create.ts';

/** The file, inside the state directory, that holds the generated secret. */
export const SECRET_FILE = 'secret';
/** A usable secret: 16 to 128 printable ASCII characters, no spaces. */
const SECRET = /^[\x21-\x7e]{16,128}$/;

/** 32 random bytes, base64url: 43 printable characters, no spaces (a bare token [T-2]). */
export function newSecret(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/** What `loadOrCreateSecret` did. */
export interface StoredSecret {
  readonly secret: string;
  readonly created: boolean;
  readonly path: string;
}

/**
 * The secret kept in `stateDir`, made first if there is none (shared/read-or-create.ts: a
 * temporary file with mode 0600 linked into place, so a crash never leaves half a secret).
 * A file that exists but holds no usable secret is an error, never overwritten: the hub
 * already knows the old secret, and a new one would lock the device out.
 */
export function loadOrCreateSecret(
  stateDir: string,
  random: (n: number) => Buffer = randomBytes,
): StoredSecret {
  const got = readOrCreate(path.join(stateDir, SECRET_FILE), {
    parse: (text) => (SECRET.test(text.trim()) ? text.trim() : null),
    create: () => newSecret(random),
    format: (secret) => `${secret}\n`,
    invalid: 'does not hold a usable secret (16 to 128 printable characters)',
    dirMode: 0o700,
  });
  return { secret: got.value, created: got.created, path: got.path };
}
