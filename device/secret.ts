/**
 * [S-6] A device without a configured secret makes a strong one on first start and keeps
 * it in its state directory (`secret`, mode 0600), so it registers with a secret from the
 * start and the same one ever after.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeDir } from '../shared/make-dir.ts';

/** The file, inside the state directory, that holds the generated secret. */
export const SECRET_FILE = 'secret';

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
 * The secret kept in `stateDir`, made first if there is none. The file is written to a
 * temporary name with mode 0600 and renamed into place, so a crash never leaves half a
 * secret. A file that exists but holds no usable secret is an error, never overwritten:
 * the hub already knows the old secret, and a new one would lock the device out.
 */
export function loadOrCreateSecret(
  stateDir: string,
  random: (n: number) => Buffer = randomBytes,
): StoredSecret {
  const file = path.join(stateDir, SECRET_FILE);
  let text: string | null = null;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) {
    const secret = text.trim();
    if (!/^[\x21-\x7e]{16,128}$/.test(secret)) {
      throw new Error(`${file} does not hold a usable secret (16 to 128 printable characters)`);
    }
    return { secret, created: false, path: file };
  }
  makeDir(stateDir, 0o700);
  const secret = newSecret(random);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return { secret, created: true, path: file };
}
