import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { normalizeName } from '../protocol/names.ts';
import { AccountError, AccountStore } from './store/accounts.ts';
import { openDatabase } from './store/db.ts';
import { subcommandConfig } from './subcommand-config.ts';
import { removeThroughHub } from './user-control.ts';

const ADMIN_USAGE = `usage: babel-hub user <command> [--config FILE] [--data-dir DIR]
  user add NAME [SECRET]      create an account; without SECRET one is generated and printed
  user list                   list accounts: name, id, e-mail, whether a secret is set
  user remove NAME            delete an account (its contacts too)
  user secret NAME [SECRET]   set a new secret (generated when omitted); ends its logins
The hub may keep running: the database is shared safely (SQLite WAL).
`;

export interface AdminIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A secret that is easy to type into a device config: 20 characters of base32. */
function generateSecret(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  return [...randomBytes(20)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * `babel-hub user ...`: provisioning of device accounts on the hub's database.
 * Exit codes: 0 done, 1 refused (unknown or existing user), 2 usage or config error.
 */
export async function runAdmin(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: AdminIo,
): Promise<number> {
  const positional: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      flags.push(a);
      if (!a.includes('=') && i + 1 < argv.length) flags.push(argv[++i]!);
    } else positional.push(a);
  }
  const [command, rawName, secretArg, ...extra] = positional;
  if (!command || command === 'help' || extra.length > 0) {
    io.err(ADMIN_USAGE);
    return command === 'help' ? 0 : 2;
  }
  const loaded = subcommandConfig(flags, env, io.err);
  if (loaded.kind === 'help') io.err(ADMIN_USAGE);
  if (loaded.kind !== 'config') return 2;
  const dataDir = loaded.config.data_dir;
  const needsName = command !== 'list';
  const name = rawName === undefined ? null : normalizeName(rawName);
  if (needsName && !name) {
    io.err(
      rawName === undefined
        ? ADMIN_USAGE
        : `${rawName}: not a valid name (a-z 0-9 . _ -, at most 32)\n`,
    );
    return 2;
  }
  const accounts = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  try {
    switch (command) {
      case 'list': {
        for (const u of accounts.listUsers()) {
          io.out(`${u.name}\t${u.id}\t${u.email ?? '-'}\t${u.hasSecret ? 'secret' : 'open'}\n`);
        }
        return 0;
      }
      case 'add': {
        const secret = secretArg ?? generateSecret();
        try {
          const u = await accounts.createUser({ name: name!, secret });
          io.out(
            secretArg
              ? `created ${u.name} ${u.id}\n`
              : `created ${u.name} ${u.id}\nsecret: ${secret}\n`,
          );
          return 0;
        } catch (err) {
          if (err instanceof AccountError) {
            io.err(`${name}: ${err.reason === 'exists' ? 'already exists' : err.message}\n`);
            return 1;
          }
          throw err;
        }
      }
      case 'remove': {
        // A running hub deletes it itself, so its MQTT groups lose the member at once [G-1].
        let removed: boolean | null;
        try {
          removed = await removeThroughHub(dataDir, name!);
        } catch (err) {
          io.err(`${name}: ${(err as Error).message}\n`);
          return 1;
        }
        if (removed === null) {
          const u = accounts.getByName(name!);
          removed = u !== undefined && accounts.deleteUser(u.id);
        }
        if (!removed) {
          io.err(`${name}: no such user\n`);
          return 1;
        }
        io.out(`removed ${name}\n`);
        return 0;
      }
      case 'secret': {
        const u = accounts.getByName(name!);
        if (!u) {
          io.err(`${name}: no such user\n`);
          return 1;
        }
        const secret = secretArg ?? generateSecret();
        await accounts.setSecret(u.id, secret);
        io.out(
          secretArg
            ? `secret of ${name} changed\n`
            : `secret of ${name} changed\nsecret: ${secret}\n`,
        );
        return 0;
      }
      default:
        io.err(ADMIN_USAGE);
        return 2;
    }
  } finally {
    accounts.close();
  }
}
