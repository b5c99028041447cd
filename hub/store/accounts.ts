/**
 * The hub's persistent accounts: users, their secrets, login tokens and contacts, shared
 * by both dialects (a user created by text `NEW` can log in, and be added as a contact,
 * through the binary dialect, and the reverse).
 *
 * Every write is one SQLite transaction on a database opened by `openDatabase`
 * (`synchronous = FULL`): when a method returns (or its promise resolves) the change is
 * on disk. Only scrypt is asynchronous, and it runs before the write transaction opens.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { asciiLower } from '../../protocol/names.ts';
import { hashSecret, hashToken, newToken, tokenMatches, verifySecret } from './crypto.ts';
import type { Database } from './db.ts';
import { GroupStore } from './groups.ts';
import { checkName, nameFromEmail, RESERVED_NAMES, withSuffix } from './names.ts';

export { nameFromEmail };

/** One `@`, a non-empty local part and domain, no spaces or control characters. */
const EMAIL_PATTERN = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u;
const EMAIL_MAX = 254; // RFC 5321 path limit

/** A user as the dialects see it; the secret hash never leaves the store. */
export interface UserRecord {
  /** RFC 4122 v4 UUID, fixed at creation [T-6]. */
  id: string;
  /** Lowercase, matches `[a-z0-9][a-z0-9._-]{0,31}` [T-4]. */
  name: string;
  /** ASCII letters lowercased; null for users created by the text dialect without one. */
  email: string | null;
  hasSecret: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** Why an account operation was refused; adapters map `reason` to their wire codes. */
export type AccountErrorReason = 'exists' | 'invalid' | 'unknown' | 'self';

/** An account operation refused for a reason the client caused. */
export class AccountError extends Error {
  readonly reason: AccountErrorReason;

  constructor(reason: AccountErrorReason, message: string) {
    super(message);
    this.name = 'AccountError';
    this.reason = reason;
  }
}

/** Who asked whom: `outgoing` = the owner's request, `incoming` = a request to the owner. */
export type ContactDirection = 'outgoing' | 'incoming' | 'mutual';

/** One entry of `contactsOf`. */
export interface ContactEntry {
  user: UserRecord;
  /** Both users added each other [B-6]. */
  accepted: boolean;
  direction: ContactDirection;
}

/** What `createUser` takes: text `NEW` gives a name, binary `/create` an e-mail [B-5]. */
export interface NewUser {
  name?: string | undefined;
  email?: string | undefined;
  /** Absent = no secret: anyone may connect as this user (text dialect without secret). */
  secret?: string | undefined;
}

/** [T-4] `raw` normalized, or AccountError `invalid` (bad pattern or reserved name). */
function validName(raw: string): string {
  const checked = checkName(raw);
  if ('problem' in checked) throw new AccountError('invalid', checked.problem);
  return checked.name;
}

function normalizeEmail(raw: string): string {
  const email = asciiLower(raw);
  if (email.length > EMAIL_MAX || !EMAIL_PATTERN.test(email)) {
    throw new AccountError('invalid', `invalid e-mail: ${raw}`);
  }
  return email;
}

function checkSecretShape(secret: string): void {
  // An empty password is a client mistake, not "no secret": refuse rather than guess.
  if (secret.length === 0) throw new AccountError('invalid', 'empty secret');
}

interface UserRow {
  id: string;
  name: string;
  email: string | null;
  secret_hash: string | null;
  created_at: number;
}

interface ContactRow extends UserRow {
  outgoing: number;
  incoming: number;
}

const USER_COLUMNS = 'id, name, email, secret_hash, created_at';

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    hasSecret: row.secret_hash !== null,
    createdAt: row.created_at,
  };
}

function prepareStatements(db: Database) {
  return {
    byId: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    byName: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`),
    byEmail: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`),
    all: db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`),
    insertUser: db.prepare<[string, string, string | null, string | null, number]>(
      'INSERT INTO users (id, name, email, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    setSecret: db.prepare<[string | null, string]>('UPDATE users SET secret_hash = ? WHERE id = ?'),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE id = ?'),
    // [G-1] groups share the users' namespace [T-4]
    isGroup: db.prepare<[string], number>('SELECT 1 FROM groups WHERE name = ?').pluck(),
    insertToken: db.prepare<[string, Buffer, number]>(
      'INSERT INTO tokens (user_id, token_hash, created_at) VALUES (?, ?, ?)',
    ),
    tokensOf: db.prepare<[string], { token_hash: Buffer }>(
      'SELECT token_hash FROM tokens WHERE user_id = ?',
    ),
    deleteTokens: db.prepare<[string]>('DELETE FROM tokens WHERE user_id = ?'),
    insertContact: db.prepare<[string, string, number]>(
      'INSERT OR IGNORE INTO contacts (owner_id, contact_id, created_at) VALUES (?, ?, ?)',
    ),
    hasContact: db
      .prepare<[string, string], number>(
        'SELECT 1 FROM contacts WHERE owner_id = ? AND contact_id = ?',
      )
      .pluck(),
    removeContact: db.prepare<{ a: string; b: string }>(
      `DELETE FROM contacts
        WHERE (owner_id = @a AND contact_id = @b) OR (owner_id = @b AND contact_id = @a)`,
    ),
    contactsOf: db.prepare<{ me: string }, ContactRow>(
      `SELECT ${USER_COLUMNS},
              EXISTS (SELECT 1 FROM contacts WHERE owner_id = @me AND contact_id = u.id)
                AS outgoing,
              EXISTS (SELECT 1 FROM contacts WHERE owner_id = u.id AND contact_id = @me)
                AS incoming
         FROM users u
        WHERE u.id IN (SELECT contact_id FROM contacts WHERE owner_id = @me
                       UNION SELECT owner_id FROM contacts WHERE contact_id = @me)
        ORDER BY u.name`,
    ),
  };
}

/**
 * Users, secrets, tokens and contacts on one SQLite database (see `openDatabase`).
 * Statements are prepared once; everything but password hashing is synchronous.
 */
export class AccountStore {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #q: ReturnType<typeof prepareStatements>;
  #passwordChecks = 0;
  #dummyHash: Promise<string> | undefined;
  /** [G-1, G-2] Ring and paging groups, on the same database and namespace. */
  readonly groups: GroupStore;

  /** `now` gives `createdAt` timestamps (ms since the epoch). */
  constructor(db: Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    this.#q = prepareStatements(db);
    this.groups = new GroupStore(db, now);
  }

  /**
   * Creates a user. Text `NEW` passes `name` (+ `secret`) [T-4]; binary `/create` passes
   * `email` + `secret` and perhaps `name` [B-5]. Without a name, one is derived from the
   * e-mail (`nameFromEmail`) and made unique with a numeric suffix: alice, alice2, ...
   * Throws AccountError `invalid` (bad name, e-mail or empty secret, or neither name nor
   * e-mail) or `exists` (name or e-mail taken). Durable once the promise resolves.
   */
  async createUser(opts: NewUser): Promise<UserRecord> {
    const name = opts.name === undefined ? null : validName(opts.name);
    const email = opts.email === undefined ? null : normalizeEmail(opts.email);
    if (name === null && email === null) {
      throw new AccountError('invalid', 'a name or an e-mail is required');
    }
    if (opts.secret !== undefined) checkSecretShape(opts.secret);
    // Refuse a taken name or e-mail before spending ~50 ms of scrypt on it; checked
    // again inside the write transaction, since another create may run during the hash.
    this.#assertFree(name, email);
    const secretHash = opts.secret === undefined ? null : await hashSecret(opts.secret);
    const insert = this.#db.transaction((): UserRecord => {
      this.#assertFree(name, email);
      const record: UserRecord = {
        id: randomUUID(), // [T-6]
        name: name ?? this.#freeName(nameFromEmail(email!)),
        email,
        hasSecret: secretHash !== null,
        createdAt: this.#now(),
      };
      this.#q.insertUser.run(record.id, record.name, email, secretHash, record.createdAt);
      return record;
    });
    try {
      return insert.immediate();
    } catch (err) {
      if (err instanceof BetterSqlite3.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new AccountError('exists', 'name or e-mail already taken');
      }
      throw err;
    }
  }

  /** The user with this id, if any. */
  getById(id: string): UserRecord | undefined {
    const row = this.#q.byId.get(id);
    return row && toRecord(row);
  }

  /** The user with this name (ASCII letters lowercased [T-4]), if any. */
  getByName(name: string): UserRecord | undefined {
    const row = this.#q.byName.get(asciiLower(name));
    return row && toRecord(row);
  }

  /** The user with this e-mail (ASCII letters lowercased), if any. */
  getByEmail(email: string): UserRecord | undefined {
    const row = this.#q.byEmail.get(asciiLower(email));
    return row && toRecord(row);
  }

  /** Every user, sorted by name [T-7]. */
  listUsers(): UserRecord[] {
    return this.#q.all.all().map(toRecord);
  }

  /**
   * Whether `secret` lets one in as this user: a user without a secret accepts any or no
   * secret; a user with one requires it to match. False for an unknown user.
   */
  async checkSecret(userId: string, secret: string | undefined): Promise<boolean> {
    const row = this.#q.byId.get(userId);
    if (!row) return false;
    if (row.secret_hash === null) return true;
    if (secret === undefined) return false;
    this.#passwordChecks++;
    return verifySecret(secret, row.secret_hash);
  }

  /**
   * Spends one password check on a secret nobody knows, so that a login of an unknown
   * account takes as long as a wrong secret [B-9]. Always false.
   */
  async spendPasswordCheck(secret: string): Promise<false> {
    this.#dummyHash ??= hashSecret(randomBytes(16).toString('base64'));
    const hash = await this.#dummyHash;
    this.#passwordChecks++;
    await verifySecret(secret, hash);
    return false;
  }

  /** [S-7] Password hashes actually verified since the store opened (tests, benchmarks). */
  get passwordChecks(): number {
    return this.#passwordChecks;
  }

  /**
   * Sets (or with null removes) a user's secret and revokes the user's tokens, so a
   * changed password also ends the sessions opened with the old one. Throws AccountError
   * `unknown` or `invalid` (empty secret).
   */
  async setSecret(userId: string, secret: string | null): Promise<void> {
    if (secret !== null) checkSecretShape(secret);
    const secretHash = secret === null ? null : await hashSecret(secret);
    this.#db
      .transaction(() => {
        if (this.#q.setSecret.run(secretHash, userId).changes === 0) {
          throw new AccountError('unknown', `no user ${userId}`);
        }
        this.#q.deleteTokens.run(userId);
      })
      .immediate();
  }

  /**
   * Issues a new random token for a login and returns it; only its hash is stored [B-9].
   * One active token per user: a new login invalidates the previous token, so a user is
   * logged in on one binary client at a time. Throws AccountError `unknown`.
   */
  issueToken(userId: string): string {
    const token = newToken();
    this.#db
      .transaction(() => {
        if (!this.#q.byId.get(userId)) throw new AccountError('unknown', `no user ${userId}`);
        this.#q.deleteTokens.run(userId);
        this.#q.insertToken.run(userId, hashToken(token), this.#now());
      })
      .immediate();
    return token;
  }

  /** Whether `token` is this user's current token, compared in constant time [B-9]. */
  checkToken(userId: string, token: string): boolean {
    let ok = false;
    for (const { token_hash } of this.#q.tokensOf.all(userId)) {
      ok = tokenMatches(token, token_hash) || ok; // no short cut: compare every row
    }
    return ok;
  }

  /** Logs the user out everywhere (`/logout`). */
  revokeTokens(userId: string): void {
    this.#q.deleteTokens.run(userId);
  }

  /**
   * Deletes a user with their tokens and contacts (both directions); false if unknown.
   * [G-1] ON DELETE CASCADE takes them out of their groups too: the groups' listeners hear
   * of it (`GroupStore.onChange`), so MQTT republishes the groups' members.
   */
  deleteUser(userId: string): boolean {
    const { deleted, member } = this.#db
      .transaction(() => {
        const member = this.groups.hasMember(userId);
        return { deleted: this.#q.deleteUser.run(userId).changes > 0, member };
      })
      .immediate();
    if (deleted && member) this.groups.membersDeleted();
    return deleted;
  }

  /**
   * Records that `ownerId` wants `contactId` as a contact [B-6]. Returns `accepted` when
   * the other user had already asked for the owner, else `pending`; asking again is
   * harmless. Throws AccountError `unknown` (either user) or `self`.
   */
  addContact(ownerId: string, contactId: string): 'pending' | 'accepted' {
    return this.#db
      .transaction((): 'pending' | 'accepted' => {
        for (const id of [ownerId, contactId]) {
          if (!this.#q.byId.get(id)) throw new AccountError('unknown', `no user ${id}`);
        }
        if (ownerId === contactId) throw new AccountError('self', 'cannot add oneself');
        this.#q.insertContact.run(ownerId, contactId, this.#now());
        return this.#q.hasContact.get(contactId, ownerId) ? 'accepted' : 'pending';
      })
      .immediate();
  }

  /**
   * Ends the contact between two users in both directions, whether accepted or pending,
   * so either side can cancel or decline a request. False if there was none.
   */
  removeContact(ownerId: string, contactId: string): boolean {
    return this.#q.removeContact.run({ a: ownerId, b: contactId }).changes > 0;
  }

  /**
   * The owner's contact list, sorted by name: every user the owner asked for
   * (`outgoing`), every user who asked for the owner (`incoming`, so the owner can
   * accept by adding back), and those who did both (`mutual`, `accepted`) [B-6].
   */
  contactsOf(ownerId: string): ContactEntry[] {
    return this.#q.contactsOf.all({ me: ownerId }).map((row) => {
      const direction: ContactDirection =
        row.outgoing && row.incoming ? 'mutual' : row.outgoing ? 'outgoing' : 'incoming';
      return { user: toRecord(row), accepted: direction === 'mutual', direction };
    });
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  #assertFree(name: string | null, email: string | null): void {
    if (name !== null && this.#q.byName.get(name)) {
      throw new AccountError('exists', `name ${name} is taken`);
    }
    if (name !== null && this.#q.isGroup.get(name)) {
      throw new AccountError('exists', `name ${name} is taken by a group [G-1]`);
    }
    if (email !== null && this.#q.byEmail.get(email)) {
      throw new AccountError('exists', `e-mail ${email} is taken`);
    }
  }

  /** The first of base, base2, base3 ... that nobody uses [B-5]. */
  #freeName(base: string): string {
    for (let n = 1; ; n++) {
      const name = withSuffix(base, n);
      if (!RESERVED_NAMES.has(name) && !this.#q.byName.get(name) && !this.#q.isGroup.get(name))
        return name;
    }
  }
}
