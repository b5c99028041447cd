/**
 * Opens the hub's SQLite database with the pragmas that make acknowledged writes survive
 * `kill -9` and power loss, and brings its schema up to date.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** A better-sqlite3 connection. */
export type Database = BetterSqlite3.Database;

/**
 * Schema steps; step `i` takes `PRAGMA user_version` from `i` to `i + 1`. Append only:
 * never edit a step that has shipped, add a new one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: users, login tokens, contact requests.
  `
  CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,  -- RFC 4122 v4, fixed at creation [T-6]
    name        TEXT NOT NULL UNIQUE,       -- lowercased, NAME_PATTERN [T-4] [B-5]
    email       TEXT UNIQUE,                -- lowercased; NULL for text-dialect users
    secret_hash TEXT,                       -- scrypt$N$r$p$salt$hash, NULL = no secret [B-9]
    created_at  INTEGER NOT NULL            -- ms since the epoch
  ) STRICT;

  CREATE TABLE tokens (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL,               -- sha256 of the token, never the token [B-9]
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX tokens_by_user ON tokens(user_id);

  -- One row per request "owner wants contact"; accepted when both rows exist [B-6].
  CREATE TABLE contacts (
    owner_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id),
    CHECK (owner_id <> contact_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX contacts_by_contact ON contacts(contact_id);
  `,
  // 2: ring and paging groups [G-1, G-2]; a group's name is in the users' namespace [T-4]
  // (the stores refuse a name the other table holds).
  `
  CREATE TABLE groups (
    name       TEXT PRIMARY KEY NOT NULL,   -- lowercased, NAME_PATTERN [T-4]
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (group_name, user_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX group_members_by_user ON group_members(user_id);
  `,
];

/** The schema version this code writes; a newer database is refused. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) the database at `file` (`':memory:'` allowed), sets WAL with
 * `synchronous = FULL` so a commit is on disk before it returns, enables foreign keys, and
 * applies pending migrations, each in its own transaction. Throws if the file was written
 * by a newer version of the hub.
 */
export function openDatabase(file: string): Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma('busy_timeout = 5000');
    // WAL: readers never block the writer and a crash mid-write leaves the main file
    // intact. FULL (not NORMAL) syncs the WAL at every commit, so a commit that returned
    // survives power loss, not only a process crash.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  // Read and bump the version inside one IMMEDIATE (write-locked) transaction per step,
  // so two processes opening the same file cannot both apply a step. user_version lives
  // in the file header and is part of the transaction: a crash mid-step leaves the old
  // version with the old schema.
  const step = db.transaction((): boolean => {
    const current = version();
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `database ${db.name} has schema version ${current}, newer than this hub knows ` +
          `(${SCHEMA_VERSION}); upgrade the hub or restore a backup`,
      );
    }
    if (current === SCHEMA_VERSION) return false;
    db.exec(MIGRATIONS[current]!);
    db.pragma(`user_version = ${current + 1}`);
    return true;
  });
  let applied = true;
  while (applied) applied = step.immediate();
}
