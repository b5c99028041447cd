import { ConfigError } from '../shared/config/errors.ts';
import { runService } from '../shared/service.ts';
import { runAdmin } from './admin.ts';
import { loadHubConfig } from './config-schema.ts';
import { runPair } from './control/pair-command.ts';
import { runGroup } from './group-command.ts';
import { Hub } from './main.ts';
import { runMqttLogin } from './mqtt/login-command.ts';
import { runFingerprint } from './tls/fingerprint-command.ts';
import { checkConfiguredIdentity } from './tls/identity.ts';

/** `babel-hub` (and `babel-hub user ...`, `pair`, `mqtt-login`, `fingerprint`). Exit codes: 0 stopped, 1 could not start, 2 bad config. */
export async function runHub(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const io = {
    out: (t: string) => process.stdout.write(t),
    err: (t: string) => process.stderr.write(t),
  };
  if (argv[0] === 'user') return runAdmin(argv.slice(1), env, io);
  if (argv[0] === 'mqtt-login') return runMqttLogin(argv.slice(1), env, io);
  // [S-6] opens registration on the running hub for a while
  if (argv[0] === 'pair') return runPair(argv.slice(1), env, io);
  // [S-2] the hub certificate's fingerprint, for pinning devices
  if (argv[0] === 'fingerprint') return runFingerprint(argv.slice(1), env, io);
  // [G-1] ring and paging groups, on the running hub or its database
  if (argv[0] === 'group') return runGroup(argv.slice(1), env, io);
  return runService(
    {
      program: 'babel-hub',
      load: () => {
        const loaded = loadHubConfig(argv, env);
        // [S-2] configured certificate files that cannot serve are a config error (exit 2)
        if (loaded.kind === 'config') {
          const problem = checkConfiguredIdentity(loaded.config);
          if (problem) throw new ConfigError([problem]);
        }
        return loaded;
      },
      start: (config, log) => Hub.start(config, { log }),
      status: (hub) =>
        `text tls ${hub.textTlsPort}, binary tls ${hub.binaryTlsPort}, text ${hub.textPort}, binary ${hub.binaryPort}`,
    },
    env,
  );
}
