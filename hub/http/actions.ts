/**
 * What an administrator may do from the web page, as `babel-hub user` and `babel-hub pair`
 * do it: the same account store and the same pairing window [S-6]. Bad input throws
 * `ActionError` with a message fit for the page; nothing else is changed then.
 */
import { randomBytes } from 'node:crypto';
import { normalizeName } from '../../protocol/names.ts';
import type { ControlHandler } from '../control/server.ts';
import type { PairingWindow } from '../security/pairing.ts';
import { AccountError, type AccountStore } from '../store/accounts.ts';
import { GroupError } from '../store/groups.ts';

export class ActionError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'ActionError';
    this.status = status;
  }
}

export interface UserRow {
  name: string;
  id: string;
  hasSecret: boolean;
}

/** A device secret easy to type into a config: 20 characters without look-alikes. */
export function generateSecret(random: (n: number) => Buffer = randomBytes): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  return [...random(20)].map((b) => alphabet[b % alphabet.length]).join('');
}

export interface GroupRow {
  name: string;
  members: Array<{ name: string; state?: string }>;
}

export class WebActions {
  readonly #accounts: AccountStore;
  readonly #pairing: PairingWindow;
  readonly #changed: () => void;
  readonly #group: ControlHandler;

  constructor(opts: {
    accounts: AccountStore;
    pairing: PairingWindow;
    changed: () => void;
    /** [G-1] The hub's `group` control command, as `babel-hub group` uses it. */
    group: ControlHandler;
  }) {
    this.#accounts = opts.accounts;
    this.#pairing = opts.pairing;
    this.#changed = opts.changed;
    this.#group = opts.group;
  }

  /** [G-1] Every group with its members and their states. */
  groups(): GroupRow[] {
    return (this.#group({ cmd: 'group', op: 'list' }).groups ?? []) as GroupRow[];
  }

  /**
   * [G-1] `add`: makes the group (if new) and adds members; `remove`: takes members out,
   * or without members deletes the group, as `babel-hub group add|remove` does.
   */
  group(op: unknown, rawName: unknown, rawMembers: unknown): Record<string, unknown> {
    if (op !== 'add' && op !== 'remove') throw new ActionError('op: add or remove');
    if (typeof rawName !== 'string' || rawName === '') throw new ActionError('name: a group name');
    const members =
      rawMembers === undefined
        ? []
        : Array.isArray(rawMembers) && rawMembers.every((m) => typeof m === 'string')
          ? (rawMembers as string[]).filter((m) => m.trim() !== '').map((m) => m.trim())
          : null;
    if (members === null || members.length > 256) {
      throw new ActionError('members: a list of user names');
    }
    if (op === 'add' && members.length === 0) throw new ActionError('members: at least one user');
    try {
      const reply = this.#group({ cmd: 'group', op, name: rawName, members });
      this.#changed();
      return reply;
    } catch (err) {
      if (err instanceof GroupError) {
        throw new ActionError(err.message, err.reason === 'unknown' ? 404 : 400);
      }
      throw err;
    }
  }

  users(): UserRow[] {
    return this.#accounts
      .listUsers()
      .map((u) => ({ name: u.name, id: u.id, hasSecret: u.hasSecret }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Creates a user; without `secret` one is generated and returned (shown once). */
  async addUser(rawName: unknown, rawSecret: unknown): Promise<{ name: string; secret?: string }> {
    const name = this.#name(rawName);
    const given = this.#secret(rawSecret);
    const secret = given ?? generateSecret();
    try {
      await this.#accounts.createUser({ name, secret });
    } catch (err) {
      if (err instanceof AccountError) {
        throw new ActionError(
          err.reason === 'exists' ? `${name} already exists` : err.message,
          err.reason === 'exists' ? 409 : 400,
        );
      }
      throw err;
    }
    this.#changed();
    return given === null ? { name, secret } : { name };
  }

  removeUser(rawName: unknown): void {
    const name = this.#name(rawName);
    const u = this.#accounts.getByName(name);
    if (!u || !this.#accounts.deleteUser(u.id)) throw new ActionError(`no user ${name}`, 404);
    this.#changed();
  }

  /** Sets a user's secret (generated and returned when not given); ends their logins. */
  async setSecret(rawName: unknown, rawSecret: unknown): Promise<{ secret?: string }> {
    const name = this.#name(rawName);
    const given = this.#secret(rawSecret);
    const u = this.#accounts.getByName(name);
    if (!u) throw new ActionError(`no user ${name}`, 404);
    const secret = given ?? generateSecret();
    await this.#accounts.setSecret(u.id, secret);
    this.#changed();
    return given === null ? { secret } : {};
  }

  /** [S-6] Opens the pairing window for `minutes` (1..1440), as `babel-hub pair` does. */
  pair(rawMinutes: unknown): { state: string; until: number | null } {
    const minutes = rawMinutes === undefined ? 10 : rawMinutes;
    if (
      typeof minutes !== 'number' ||
      !Number.isInteger(minutes) ||
      minutes < 1 ||
      minutes > 1440
    ) {
      throw new ActionError('minutes: must be a whole number from 1 to 1440');
    }
    this.#pairing.open(minutes);
    return { state: this.#pairing.state, until: this.#pairing.untilWallMs };
  }

  closePairing(): { state: string } {
    this.#pairing.close();
    return { state: this.#pairing.state };
  }

  #name(raw: unknown): string {
    const name = typeof raw === 'string' ? normalizeName(raw) : null;
    if (!name) throw new ActionError('name: a-z 0-9 . _ -, at most 32 characters');
    return name;
  }

  #secret(raw: unknown): string | null {
    if (raw === undefined || raw === null || raw === '') return null;
    if (typeof raw !== 'string' || raw.length > 256) {
      throw new ActionError('secret: text of at most 256 characters');
    }
    return raw;
  }
}
