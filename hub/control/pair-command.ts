/**
 * `babel-hub pair [--minutes N]` [S-6]: opens registration on the running hub for N
 * minutes (default 10), through its control socket. Exit codes: 0 open, 1 the hub is not
 * running or refused, 2 usage or config error.
 */
import { subcommandConfig } from '../subcommand-config.ts';
import { controlRequest, HubNotRunningError } from './client.ts';

const PAIR_USAGE = `usage: babel-hub pair [--minutes N] [--config FILE] [--data-dir DIR]
  Opens registration on the running hub for N minutes (default 10, at most 1440): new
  devices may create their accounts (with a secret) meanwhile. Running it again restarts
  the count.
`;

export interface PairIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function runPair(argv: string[], env: NodeJS.ProcessEnv, io: PairIo): Promise<number> {
  let minutes = 10;
  const configFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    if (flag === '--help' || flag === '-h') {
      io.out(PAIR_USAGE);
      return 0;
    }
    if (flag === '--minutes') {
      const value = inline ?? argv[++i];
      if (
        value === undefined ||
        !/^\d{1,4}$/.test(value) ||
        Number(value) < 1 ||
        Number(value) > 1440
      ) {
        io.err(
          `--minutes: must be a whole number from 1 to 1440, got ${JSON.stringify(value ?? '')}\n`,
        );
        return 2;
      }
      minutes = Number(value);
    } else if (flag === '--config' || flag === '--data-dir') {
      const value = inline ?? argv[++i];
      if (value === undefined) {
        io.err(`${flag}: needs a value\n${PAIR_USAGE}`);
        return 2;
      }
      configFlags.push(flag, value);
    } else {
      io.err(`${a}: unknown argument\n${PAIR_USAGE}`);
      return 2;
    }
  }
  const loaded = subcommandConfig(configFlags, env, io.err);
  if (loaded.kind === 'help') io.err(PAIR_USAGE);
  if (loaded.kind !== 'config') return 2;
  const dataDir = loaded.config.data_dir;
  try {
    const reply = await controlRequest(dataDir, { cmd: 'pair', minutes });
    if (reply.ok !== true) {
      io.err(`babel-hub pair: the hub refused: ${String(reply.error)}\n`);
      return 1;
    }
    const until = typeof reply.until === 'number' ? new Date(reply.until).toISOString() : '?';
    io.out(
      `pairing open for ${minutes} minute${minutes === 1 ? '' : 's'} (until ${until}): new devices may create their accounts now\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof HubNotRunningError) {
      io.err(`babel-hub pair: ${err.message}\n`);
      return 1;
    }
    io.err(`babel-hub pair: ${(err as Error).message}\n`);
    return 1;
  }
}
