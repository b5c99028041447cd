/**
 * `babel-hub group add|remove|list` [G-1]: ring and paging groups. With the hub running
 * the change goes through its control socket (the hub logs it, and `list` shows each
 * member's state); without it the command works on the database directly and says so.
 * Exit codes: 0 done, 1 refused, 2 usage or config error.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { controlRequest, HubNotRunningError } from './control/client.ts';
import type { ControlHandler, ControlRequest } from './control/server.ts';
import type { CallCore } from './core/call-core.ts';
import { AccountStore } from './store/accounts.ts';
import { openDatabase } from './store/db.ts';
import { GroupError, type GroupRecord, type GroupStore } from './store/groups.ts';
import { subcommandConfig } from './subcommand-config.ts';

const GROUP_USAGE = `usage: babel-hub group <command> [--config FILE] [--data-dir DIR]
  group add GROUP MEMBER...       make GROUP (if new) and add users to it
  group remove GROUP [MEMBER...]  take users out of GROUP; without MEMBER, delete GROUP
  group list                      every group with its members (and their states, when
                                  the hub is running)
A group's name is in the users' namespace: no user may be called so. CALL GROUP rings
every member that is online, idle and not in do-not-disturb; PAGE GROUP pages them.
`;

export interface GroupIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** One member as `list` shows it: its state only when the hub is running. */
interface ListedGroup {
  name: string;
  members: Array<{ name: string; state?: string }>;
}

/** What the control socket answers for `{"cmd": "group", ...}`. */
type GroupReply =
  | { op: 'add'; group: ListedGroup; created: boolean }
  | { op: 'remove'; group: ListedGroup | null }
  | { op: 'list'; groups: ListedGroup[] };

/** Applies one group request to `groups`; `state` names a member's state (running hub). */
export function applyGroupRequest(
  groups: GroupStore,
  req: Readonly<Record<string, unknown>>,
  state?: (userId: string) => string,
): GroupReply {
  const listed = (g: GroupRecord): ListedGroup => ({
    name: g.name,
    members: g.members.map((m) =>
      state ? { name: m.name, state: state(m.id) } : { name: m.name },
    ),
  });
  const members = Array.isArray(req.members) ? req.members.map(String) : [];
  const name = typeof req.name === 'string' ? req.name : '';
  switch (req.op) {
    case 'add': {
      const { group, created } = groups.add(name, members);
      return { op: 'add', group: listed(group), created };
    }
    case 'remove': {
      const group = groups.remove(name, members);
      return { op: 'remove', group: group && listed(group) };
    }
    case 'list':
      return { op: 'list', groups: groups.list().map(listed) };
    default:
      throw new Error(`unknown group operation: ${String(req.op)}`);
  }
}

/** The running hub's `group` control command (registered in main.ts). */
export function groupControl(groups: GroupStore, core: CallCore, log: Logger): ControlHandler {
  return (req: ControlRequest) => {
    const reply = applyGroupRequest(groups, { ...req }, (id) => core.stateOf(id));
    if (reply.op === 'add') {
      const members = reply.group.members.map((m) => m.name);
      log.info({ group: reply.group.name, members, created: reply.created }, 'group changed');
    } else if (reply.op === 'remove') {
      log.info(
        { group: req.name, members: reply.group?.members.map((m) => m.name) ?? null },
        'group changed',
      );
    }
    return reply;
  };
}

export async function runGroup(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: GroupIo,
): Promise<number> {
  const positional: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      io.out(GROUP_USAGE);
      return 0;
    }
    if (a.startsWith('--')) {
      flags.push(a);
      if (!a.includes('=') && i + 1 < argv.length) flags.push(argv[++i]!);
    } else positional.push(a);
  }
  const [op, name, ...members] = positional;
  const shapeOk =
    (op === 'add' && name !== undefined && members.length > 0) ||
    (op === 'remove' && name !== undefined) ||
    (op === 'list' && name === undefined);
  if (!shapeOk) {
    io.err(GROUP_USAGE);
    return op === 'help' ? 0 : 2;
  }
  const loaded = subcommandConfig(flags, env, io.err);
  if (loaded.kind === 'help') io.err(GROUP_USAGE);
  if (loaded.kind !== 'config') return 2;
  const dataDir = loaded.config.data_dir;
  const request = { op, name, members };
  let reply: GroupReply;
  let running = true;
  try {
    const answer = await controlRequest(dataDir, { cmd: 'group', ...request });
    if (answer.ok !== true) {
      io.err(`babel-hub group: ${String(answer.error)}\n`);
      return 1;
    }
    reply = answer as unknown as GroupReply;
  } catch (err) {
    if (!(err instanceof HubNotRunningError)) {
      io.err(`babel-hub group: ${(err as Error).message}\n`);
      return 1;
    }
    running = false;
    const accounts = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
    try {
      reply = applyGroupRequest(accounts.groups, request);
    } catch (refused) {
      if (!(refused instanceof GroupError)) throw refused;
      io.err(`babel-hub group: ${refused.message}\n`);
      return 1;
    } finally {
      accounts.close();
    }
  }
  print(reply, (name ?? '').toLowerCase(), running, io);
  return 0;
}

function print(reply: GroupReply, name: string, running: boolean, io: GroupIo): void {
  const members = (g: ListedGroup) =>
    g.members.map((m) => (m.state ? `${m.name}:${m.state}` : m.name)).join(' ') || '(none)';
  if (reply.op === 'list') {
    for (const g of reply.groups) io.out(`${g.name}\t${members(g)}\n`);
    if (!running) io.err('(the hub is not running: member states are shown only while it runs)\n');
    return;
  }
  if (reply.op === 'add') {
    io.out(
      `${reply.created ? 'created' : 'changed'} group ${reply.group.name}: ${members(reply.group)}\n`,
    );
  } else if (reply.group) io.out(`changed group ${reply.group.name}: ${members(reply.group)}\n`);
  else io.out(`removed group ${name}\n`);
  if (!running)
    io.err(
      '(the hub is not running: the database was changed directly; a hub started later uses it)\n',
    );
}
