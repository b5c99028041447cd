import { runService } from '../shared/service.ts';
import { runAdmin } from './admin.ts';
import { loadHubConfig } from './config-schema.ts';
import { Hub } from './main.ts';
import { runMqttLogin } from './mqtt/login-command.ts';

/** `babel-hub` (and `babel-hub user ...`, `babel-hub mqtt-login`). Exit codes: 0 stopped, 1 could not start, 2 bad config. */
export async function runHub(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'user') {
    return runAdmin(argv.slice(1), env, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  }
  if (argv[0] === 'mqtt-login') {
    return runMqttLogin(argv.slice(1), env, {
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
