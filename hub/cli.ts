import { runService } from '../shared/service.ts';
import { runAdmin } from './admin.ts';
import { loadHubConfig } from './config-schema.ts';
import { runPair } from './control/pair-command.ts';
import { Hub } from './main.ts';

/** `babel-hub` (and `babel-hub user ...`, `babel-hub pair`). Exit codes: 0 stopped, 1 could not start, 2 bad config. */
export async function runHub(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'user') {
    return runAdmin(argv.slice(1), env, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  }
  if (argv[0] === 'pair') {
    // [S-6] opens registration on the running hub for a while
    return runPair(argv.slice(1), env, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  }
  return runService(
    {
      program: 'babel-hub',
      load: () => loadHubConfig(argv, env),
      start: (config, log) => Hub.start(config, { log }),
      status: (hub) => `text ${hub.textPort}, binary ${hub.binaryPort}`,
    },
    env,
  );
}
