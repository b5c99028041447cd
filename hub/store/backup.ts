/**
 * Backup and restore of the hub's SQLite database (`<data_dir>/babel.sqlite`).
 *
 * - `backupDatabase` uses SQLite's online backup API (better-sqlite3 `db.backup()`): it
 *   reads one consistent snapshot while the hub keeps running and writing (WAL: readers
 *   never block the writer). The copy is written beside the target, checked, switched to
 *   a single self-contained file (`journal_mode = DELETE`), synced and renamed into place,
 *   so a half-written backup never carries the target's name.
 * - `checkDatabase` opens a file read-only and says whether it is a hub database this
 *   version can use: `PRAGMA integrity_check` is `ok`, the schema version is known, the
 *   `users` table is there.
 * - `restoreDatabase` checks the candidate first, copies it beside the live file, keeps
 *   the old database as `babel.sqlite.pre-restore`, and renames the copy over the live
 *   file (atomic on one file system). The caller makes sure the hub is not running.
 *
 * Only the database is covered: users, secrets' hashes, tokens, contacts (and whatever
 * later schema steps add). The TLS identity (`<data_dir>/tls/`), the MQTT logins
 * (`mqtt-logins.json`) and the hub id (`hub-id`) are separate files; `babel-hub backup
 * --help` and the README say what to copy besides.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SCHEMA_VERSION } from './db.ts';

/** The database file's name inside the data directory (hub/main.ts opens the same). */
export const DB_FILE = 'babel.sqlite';
/** Where `restoreDatabase` keeps the database it replaced. */
export const PRE_RESTORE_SUFFIX = '.pre-restore';

/** What a checked database holds. */
export interface DatabaseSummary {
  readonly schemaVersion: number;
  readonly users: number;
  readonly bytes: number;
}

/** A file that is not a usable hub database; `message` says why in one line. */
export class BackupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackupError';
  }
}

/**
 * Copies the live database `source` to `target` while it may be in use. Resolves with the
 * copy's summary; `target` is replaced only once the copy is complete and checked.
 */
export async function backupDatabase(source: string, target: string): Promise<DatabaseSummary> {
  if (!fs.existsSync(source)) {
    throw new BackupError(`${source}: no database here (wrong --data-dir or --config?)`);
  }
  if (sameFile(source, target)) {
    throw new BackupError(`${target} is the live database itself; back up to another file`);
  }
  const tmp = tempBeside(target);
  const db = new BetterSqlite3(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // After the first (sizing) step, the rest in one step: one step is one read
    // transaction, so writers in other processes cannot make it start over.
    await db.backup(tmp, { progress: () => 0x7fffffff });
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new BackupError(`backup of ${source} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close();
  }
  try {
    selfContained(tmp);
    const summary = checkDatabase(tmp);
    // Password and token hashes: for the owner's eyes only.
    fs.chmodSync(tmp, 0o600);
    syncFile(tmp);
    fs.renameSync(tmp, target);
    syncDir(path.dirname(path.resolve(target)));
    return summary;
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Checks `file` read-only; throws `BackupError` saying what is wrong with it. */
export function checkDatabase(file: string): DatabaseSummary {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError(`${file}: cannot open: ${(err as Error).message}`, { cause: err });
  }
  try {
    let rows: Array<{ integrity_check: string }>;
    try {
      rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const what = code.startsWith('SQLITE_CORRUPT') ? 'damaged' : 'not an SQLite database';
      throw new BackupError(`${file}: ${what} (${(err as Error).message})`, { cause: err });
    }
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    if (problems.length > 0) {
      throw new BackupError(`${file}: integrity check failed: ${problems.slice(0, 3).join('; ')}`);
    }
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    if (schemaVersion < 1) {
      throw new BackupError(`${file}: not a babel-hub database (schema version 0)`);
    }
    if (schemaVersion > SCHEMA_VERSION) {
      throw new BackupError(
        `${file}: schema version ${schemaVersion} is newer than this hub knows (${SCHEMA_VERSION}); upgrade the hub first`,
      );
    }
    const hasUsers = db
      .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'users'")
      .get();
    if (!hasUsers) throw new BackupError(`${file}: not a babel-hub database (no users table)`);
    const { n } = db.prepare('SELECT count(*) AS n FROM users').get() as { n: number };
    return { schemaVersion, users: n, bytes: fs.statSync(file).size };
  } finally {
    db.close();
  }
}

/**
 * Replaces the database `live` with the checked backup `backup`; the replaced one is kept
 * as `<live>.pre-restore`. Nothing is touched unless the backup passes `checkDatabase`.
 * The hub must not be running (the caller checks; hub/backup-command.ts).
 */
export async function restoreDatabase(
  backup: string,
  live: string,
): Promise<{ summary: DatabaseSummary; previous: string | null }> {
  if (sameFile(backup, live)) {
    throw new BackupError(`${backup} is the live database itself, not a backup of it`);
  }
  checkDatabase(backup);
  fs.mkdirSync(path.dirname(path.resolve(live)), { recursive: true });
  const tmp = tempBeside(live);
  const src = new BetterSqlite3(backup, { readonly: true, fileMustExist: true });
  try {
    await src.backup(tmp, { progress: () => 0x7fffffff });
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new BackupError(`reading ${backup} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    src.close();
  }
  try {
    selfContained(tmp);
    const summary = checkDatabase(tmp);
    syncFile(tmp);
    let previous: string | null = null;
    if (fs.existsSync(live)) {
      // The hub's user must keep reading and writing it (`sudo babel-hub restore` runs as
      // root): the new file takes the owner and mode of the one it replaces.
      const st = fs.statSync(live);
      fs.chmodSync(tmp, st.mode & 0o777);
      if (process.getuid?.() === 0) fs.chownSync(tmp, st.uid, st.gid);
      // Folds the old WAL into its file and removes it, so no -wal of the old database is
      // left to be read against the new one; then keeps a copy to go back to.
      selfContained(live);
      previous = `${live}${PRE_RESTORE_SUFFIX}`;
      fs.copyFileSync(live, previous);
      syncFile(previous);
    }
    for (const side of ['-wal', '-shm']) fs.rmSync(`${live}${side}`, { force: true });
    fs.renameSync(tmp, live);
    syncDir(path.dirname(path.resolve(live)));
    return { summary, previous };
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Checkpoints `file` and leaves it in rollback-journal mode: one file, no -wal beside it. */
function selfContained(file: string): void {
  const db = new BetterSqlite3(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

/** Whether two paths name one file (also through links), or one path that does not exist yet. */
function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

function tempBeside(file: string): string {
  return path.join(
    path.dirname(path.resolve(file)),
    `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`,
  );
}

function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some file systems cannot sync a directory; the rename itself is still atomic.
  }
}
