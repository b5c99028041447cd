/**
 * `babel-hub user remove` on a running hub goes through its control socket,
 * `{"cmd": "user", "op": "remove", "name": "..."}`, so that the hub's own account store
 * deletes the user and its listeners hear of it: the groups the user was in lose it on MQTT
 * and in Home Assistant at once [G-1]. Without a running hub the command works on the
 * database directly (hub/admin.ts), and a hub started later publishes the groups as they are.
 */
import type { Logger } from 'pino';
import { normalizeName } from '../protocol/names.ts';
import { controlRequest, HubNotRunningError } from './control/client.ts';
import type { ControlHandler, ControlRequest } from './control/server.ts';
import type { AccountStore } from './store/accounts.ts';

/** The running hub's `user` control command (registered in main.ts). */
export function userControl(accounts: AccountStore, log: Logger): ControlHandler {
  return (req: ControlRequest) => {
    if (req.op !== 'remove') throw new Error(`unknown user operation: ${String(req.op)}`);
    const name = typeof req.name === 'string' ? normalizeName(req.name) : null;
    if (name === null) throw new Error(`not a valid name: ${String(req.name)}`);
    const u = accounts.getByName(name);
    if (!u || !accounts.deleteUser(u.id)) return { removed: false };
    log.info({ user: u.name }, 'user deleted');
    return { removed: true };
  };
}

/**
 * Removes the user `name` through the hub running on `dataDir`: true if removed, false if
 * there is no such user, null when no hub runs there (the caller then opens the database).
 */
export async function removeThroughHub(dataDir: string, name: string): Promise<boolean | null> {
  let answer: Record<string, unknown>;
  try {
    answer = await controlRequest(dataDir, { cmd: 'user', op: 'remove', name });
  } catch (err) {
    if (err instanceof HubNotRunningError) return null;
    throw err;
  }
  if (answer.ok !== true) throw new Error(`the hub refused: ${String(answer.error)}`);
  return answer.removed === true;
}
