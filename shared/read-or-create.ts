/**
 * Read a small file that a program keeps for itself (the hub's id, a device's secret), or
 * create it on first use.
 *
 * - Present and valid: its value. Present but invalid (empty included): an error naming the
 *   file, and the file is left as it is; replacing it would silently change an identity.
 * - Missing: the value is written to a temporary file (mode 0600, synced) and hard-linked to
 *   the name. A link never replaces a file, so when another process created the file first
 *   the link fails with EEXIST and that process's value is read and returned instead: two
 *   creators racing agree on one value. A crash leaves the whole file or none of it.
 *   Where hard links are not supported (vfat), the file is copied exclusively instead
 *   (still never replacing one, but a crash mid-copy may leave it short: an error later).
 * - A directory that cannot be made or written: an error naming the file and the reason.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeDir } from './make-dir.ts';

export interface ReadOrCreateOptions<T> {
  /** The value in the file's text, or null when the text holds no valid value. */
  readonly parse: (text: string) => T | null;
  /** Makes a new value (only called when the file is missing). */
  readonly create: () => T;
  /** The file's text for a value; `parse` must read it back. */
  readonly format: (value: T) => string;
  /** What a file `parse` refuses is, after `<file>: ` (e.g. "not a hub id (8 hex digits)"). */
  readonly invalid: string;
  /** The mode of the directories made for the file (default: the umask's). */
  readonly dirMode?: number;
}

/** What `readOrCreate` found or did. */
export interface ReadOrCreated<T> {
  readonly value: T;
  /** True when this call wrote the file. */
  readonly created: boolean;
  readonly path: string;
}

/** Reads `file`, or creates it with a new value; see the module comment. */
export function readOrCreate<T>(file: string, opts: ReadOrCreateOptions<T>): ReadOrCreated<T> {
  const found = read(file, opts);
  if (found !== null) return found;
  const value = opts.create();
  const text = opts.format(value);
  if (opts.parse(text) === null) throw new Error(`${file}: made a value that does not parse`);
  const dir = path.dirname(file);
  try {
    makeDir(dir, opts.dirMode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw Object.assign(new Error(`${file}: ${(err as Error).message}`), { cause: err, code });
  }
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let placed: boolean;
  try {
    writeSynced(tmp, text);
    placed = place(tmp, file);
  } catch (err) {
    throw cannotCreate(file, err);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  if (placed) return { value, created: true, path: file };
  // Another process created it between our read and our link: take its value.
  const theirs = read(file, opts);
  if (theirs === null) throw cannotCreate(file, new Error('it vanished while being created'));
  return theirs;
}

/** The file's value, null when it is missing; throws when it is unreadable or invalid. */
function read<T>(file: string, opts: ReadOrCreateOptions<T>): ReadOrCreated<T> | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file; the creation below says so.
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw Object.assign(new Error(`${file}: cannot be read (${code ?? (err as Error).message})`), {
      cause: err,
      code,
    });
  }
  const value = opts.parse(text);
  if (value === null) throw new Error(`${file}: ${opts.invalid}`);
  return { value, created: false, path: file };
}

function writeSynced(file: string, text: string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Puts `tmp` at `file` unless a file is there: false when one is. */
function place(tmp: string, file: string): boolean {
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw err;
    }
  }
  // No hard links here: an exclusive copy still never replaces a file.
  try {
    fs.copyFileSync(tmp, file, fs.constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function cannotCreate(file: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? `permission denied in ${path.dirname(file)}`
      : code === 'EROFS'
        ? `${path.dirname(file)} is on a read-only file system`
        : (err as Error).message.replace(/\s*\([A-Z]+\)$/, '');
  return Object.assign(new Error(`${file}: cannot be created: ${why}${code ? ` (${code})` : ''}`), {
    cause: err,
    code,
  });
}
