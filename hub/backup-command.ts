/**
 * `babel-hub backup FILE` and `babel-hub restore FILE` (hub/store/backup.ts).
 *
 * `backup` works while the hub runs: SQLite's online backup reads one consistent snapshot
 * beside the hub's own writes. `restore` refuses while the hub runs (its control socket
 * answers): swapping the database under a running hub would lose whatever it writes next,
 * and the hub keeps users' sessions in memory. Stop it, restore, start it.
 *
 * Exit codes: 0 done, 1 failed (nothing replaced), 2 usage or config error.
 */
import path from 'node:path';
import { controlRequest, HubNotRunningError } from './control/client.ts';
import {
  BackupError,
  backupDatabase,
  type DatabaseSummary,
  DB_FILE,
  restoreDatabase,
} from './store/backup.ts';
import { subcommandConfig } from './subcommand-config.ts';

const COVERS = `  The file holds the database: users, their secrets (hashed), tokens and contacts.
  It does not hold the files beside it in the data directory; copy them too if the
  new machine must keep them:
    tls/               the hub's TLS identity: without it devices pinned to this hub
                       refuse the new certificate until re-paired
    mqtt-logins.json   the embedded broker's hub and admin (Home Assistant) logins
    hub-id             the id in Home Assistant's unique ids
  These hold secrets: keep the copies where only you can read them.
`;

export const BACKUP_USAGE = `usage: babel-hub backup FILE [--config FILE] [--data-dir DIR]
  Copies the hub's database to FILE, also while the hub is running (SQLite's online
  backup: one consistent snapshot). FILE is written whole or not at all.
${COVERS}`;

export const RESTORE_USAGE = `usage: babel-hub restore FILE [--config FILE] [--data-dir DIR]
  Replaces the hub's database with the backup FILE. The hub must be stopped first
  (systemctl stop babel-hub). FILE is checked (SQLite integrity check, schema version
  this hub knows) before anything is replaced; the database it replaces is kept as
  babel.sqlite.pre-restore in the data directory.
${COVERS}`;

export interface BackupIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** `babel-hub backup|restore ...`; `verb` is which, `argv` what follows it. */
export async function runBackupCommand(
  verb: 'backup' | 'restore',
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: BackupIo,
): Promise<number> {
  const usage = verb === 'backup' ? BACKUP_USAGE : RESTORE_USAGE;
  const configFlags: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a];
    if (flag === '--help' || flag === '-h') {
      io.out(usage);
      return 0;
    }
    if (flag === '--config' || flag === '--data-dir') {
      const value = inline ?? argv[++i];
      if (value === undefined) {
        io.err(`${flag}: needs a value\n${usage}`);
        return 2;
      }
      configFlags.push(flag, value);
    } else if (a.startsWith('-') && a !== '-') {
      io.err(`${a}: unknown argument\n${usage}`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    io.err(usage);
    return 2;
  }
  const file = files[0]!;
  const loaded = subcommandConfig(configFlags, env, io.err);
  if (loaded.kind === 'help') io.err(usage);
  if (loaded.kind !== 'config') return 2;
  const dataDir = loaded.config.data_dir;
  const live = path.join(dataDir, DB_FILE);
  try {
    if (verb === 'backup') {
      const s = await backupDatabase(live, file);
      io.out(`backed up ${live} to ${file}: ${describe(s)}\n`);
      io.out('not in it: tls/, mqtt-logins.json and hub-id of the data directory (see --help)\n');
      return 0;
    }
    if (await hubRunning(dataDir)) {
      io.err(
        `babel-hub restore: the hub is running on ${dataDir}; stop it first (systemctl stop babel-hub), restore, then start it again. Nothing was changed.\n`,
      );
      return 1;
    }
    const { summary, previous } = await restoreDatabase(file, live);
    io.out(`restored ${file} to ${live}: ${describe(summary)}\n`);
    if (previous) io.out(`the database it replaced is kept as ${previous}\n`);
    return 0;
  } catch (err) {
    const message = err instanceof BackupError ? err.message : (err as Error).message;
    io.err(`babel-hub ${verb}: ${message}${verb === 'restore' ? '; nothing was changed' : ''}\n`);
    return 1;
  }
}

function describe(s: DatabaseSummary): string {
  return `${s.users} user${s.users === 1 ? '' : 's'}, schema version ${s.schemaVersion}, ${s.bytes} bytes, integrity ok`;
}

/** Whether a hub answers on the data directory's control socket. */
async function hubRunning(dataDir: string): Promise<boolean> {
  try {
    await controlRequest(dataDir, { cmd: 'stats' }, 3000);
    return true;
  } catch (err) {
    return !(err instanceof HubNotRunningError);
  }
}
