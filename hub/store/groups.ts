/**
 * [G-1, G-2] Ring and paging groups: a name from the users' namespace [T-4] and users as
 * members, on the accounts' SQLite database (the `groups` and `group_members` tables).
 * A group name may not be a user's name, nor a user's name a group's (accounts.ts checks
 * the other way). Deleting a user drops it from every group (ON DELETE CASCADE); a group
 * left without members stays until it is removed.
 */
import { asciiLower } from '../../protocol/names.ts';
import type { Database } from './db.ts';
import { checkName } from './names.ts';

/** A group as the hub uses it: its members' ids and names, sorted by name. */
export interface GroupRecord {
  readonly name: string;
  readonly members: ReadonlyArray<{ readonly id: string; readonly name: string }>;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/**
 * Why a group operation was refused: `invalid` name, `user_name` (a user is called so),
 * `unknown` group, `unknown_member` (no such user), `not_member`, `no_members`.
 */
export type GroupErrorReason =
  | 'invalid'
  | 'user_name'
  | 'unknown'
  | 'unknown_member'
  | 'not_member'
  | 'no_members';

export class GroupError extends Error {
  readonly reason: GroupErrorReason;
  /** The member names the error is about (unknown users, non-members). */
  readonly names: readonly string[];

  constructor(reason: GroupErrorReason, message: string, names: readonly string[] = []) {
    super(message);
    this.name = 'GroupError';
    this.reason = reason;
    this.names = names;
  }
}

interface MemberRow {
  group_name: string;
  id: string;
  name: string;
}

function prepare(db: Database) {
  return {
    group: db.prepare<[string], { name: string; created_at: number }>(
      'SELECT name, created_at FROM groups WHERE name = ?',
    ),
    groups: db.prepare<[], { name: string; created_at: number }>(
      'SELECT name, created_at FROM groups ORDER BY name',
    ),
    members: db.prepare<[string], MemberRow>(
      `SELECT m.group_name, u.id, u.name FROM group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_name = ? ORDER BY u.name`,
    ),
    allMembers: db.prepare<[], MemberRow>(
      `SELECT m.group_name, u.id, u.name FROM group_members m JOIN users u ON u.id = m.user_id
        ORDER BY m.group_name, u.name`,
    ),
    user: db.prepare<[string], { id: string }>('SELECT id FROM users WHERE name = ?'),
    insertGroup: db.prepare<[string, number]>(
      'INSERT INTO groups (name, created_at) VALUES (?, ?)',
    ),
    insertMember: db.prepare<[string, string, number]>(
      'INSERT OR IGNORE INTO group_members (group_name, user_id, added_at) VALUES (?, ?, ?)',
    ),
    deleteMember: db.prepare<[string, string]>(
      'DELETE FROM group_members WHERE group_name = ? AND user_id = ?',
    ),
    deleteGroup: db.prepare<[string]>('DELETE FROM groups WHERE name = ?'),
    isMember: db
      .prepare<[string], number>('SELECT 1 FROM group_members WHERE user_id = ? LIMIT 1')
      .pluck(),
  };
}

/** Groups on the accounts' database (see `openDatabase`); every write is one transaction. */
export class GroupStore {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #q: ReturnType<typeof prepare>;
  readonly #listeners: Array<() => void> = [];

  constructor(db: Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    this.#q = prepare(db);
  }

  /**
   * Calls `listener` after every change made through this store (a group made, changed or
   * deleted): the one place group changes go through (the control socket, the web page).
   */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }

  /** Whether the user `userId` is a member of any group. */
  hasMember(userId: string): boolean {
    return this.#q.isMember.get(userId) !== undefined;
  }

  /**
   * Tells the listeners that members left groups without a write of this store: the account
   * store deleted a user, and ON DELETE CASCADE took it out of its groups.
   */
  membersDeleted(): void {
    this.#changed();
  }

  /** The group called `name` (any case [T-4]), if any. */
  get(name: string): GroupRecord | undefined {
    const row = this.#q.group.get(asciiLower(name));
    if (!row) return undefined;
    const members = this.#q.members.all(row.name).map((m) => ({ id: m.id, name: m.name }));
    return { name: row.name, members, createdAt: row.created_at };
  }

  /** Every group, sorted by name. */
  list(): GroupRecord[] {
    const byGroup = new Map<string, Array<{ id: string; name: string }>>();
    for (const m of this.#q.allMembers.all()) {
      const list = byGroup.get(m.group_name) ?? [];
      list.push({ id: m.id, name: m.name });
      byGroup.set(m.group_name, list);
    }
    return this.#q.groups
      .all()
      .map((g) => ({ name: g.name, members: byGroup.get(g.name) ?? [], createdAt: g.created_at }));
  }

  /**
   * Adds users to a group, creating it if needed. All or nothing: an unknown member name
   * refuses the whole request (GroupError `unknown_member`, `names` listing them). A group
   * needs at least one member (`no_members`); a user's name is refused (`user_name`).
   * Returns the group after the change and whether it was created.
   */
  add(rawName: string, memberNames: readonly string[]): { group: GroupRecord; created: boolean } {
    const name = groupName(rawName);
    if (memberNames.length === 0) {
      throw new GroupError('no_members', `a group needs at least one member`);
    }
    const created = this.#db
      .transaction((): boolean => {
        if (this.#q.user.get(name)) {
          throw new GroupError(
            'user_name',
            `${name} is a user's name; a group needs its own [G-1]`,
          );
        }
        const ids = this.#memberIds(memberNames);
        const isNew = !this.#q.group.get(name);
        const now = this.#now();
        if (isNew) this.#q.insertGroup.run(name, now);
        for (const id of ids) this.#q.insertMember.run(name, id, now);
        return isNew;
      })
      .immediate();
    this.#changed();
    return { group: this.get(name)!, created };
  }

  /**
   * Removes members from a group, or with no member names deletes the group. Throws
   * GroupError `unknown` (no such group), `unknown_member` or `not_member` (all or
   * nothing). Returns the group after the change, or null when it was deleted.
   */
  remove(rawName: string, memberNames: readonly string[] = []): GroupRecord | null {
    const name = groupName(rawName);
    this.#db
      .transaction(() => {
        if (!this.#q.group.get(name)) throw new GroupError('unknown', `no group ${name}`);
        if (memberNames.length === 0) {
          this.#q.deleteGroup.run(name);
          return;
        }
        const ids = this.#memberIds(memberNames);
        const current = new Set(this.#q.members.all(name).map((m) => m.id));
        const outside = memberNames.filter((_, i) => !current.has(ids[i]!));
        if (outside.length > 0) {
          throw new GroupError(
            'not_member',
            `not in ${name}: ${outside.join(', ')}`,
            outside.map((n) => asciiLower(n)),
          );
        }
        for (const id of ids) this.#q.deleteMember.run(name, id);
      })
      .immediate();
    this.#changed();
    return this.get(name) ?? null;
  }

  /** The ids of users named so, in order; GroupError `unknown_member` listing the unknown. */
  #memberIds(memberNames: readonly string[]): string[] {
    const unknown: string[] = [];
    const ids = memberNames.map((raw) => {
      const row = this.#q.user.get(asciiLower(raw));
      if (!row) unknown.push(asciiLower(raw));
      return row?.id ?? '';
    });
    if (unknown.length > 0) {
      throw new GroupError('unknown_member', `no such user: ${unknown.join(', ')}`, unknown);
    }
    return ids;
  }
}

/** [T-4] A group's name, validated as a user's name is; GroupError `invalid` else. */
function groupName(raw: string): string {
  const checked = checkName(raw);
  if ('problem' in checked) throw new GroupError('invalid', checked.problem);
  return checked.name;
}
