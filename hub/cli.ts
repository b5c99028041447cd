import { loadHubConfig } from '../shared/config/hub-schema.ts';
import { ConfigError } from '../shared/errors.ts';
import { createLogger } from '../shared/log.ts';
import { SdNotify } from '../shared/sd-notify.ts';
import { packageVersion } from '../shared/version.ts';
import { runAdmin } from './admin.ts';
import { Hub } from './main.ts';

/** Exit codes: 0 clean stop, 1 could not start (port taken, database), 2 bad config or flag. */
export async function runHub(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'user') {
    return runAdmin(argv.slice(1), env, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  }
  let loaded: ReturnType<typeof loadHubConfig>;
  try {
    loaded = loadHubConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // [interfaces] one line per problem, `path: message`, exit 2, nothing started.
      for (const p of err.problems) process.stderr.write(`${p}\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text);
    return 0;
  }
  if (loaded.kind === 'version') {
    process.stdout.write(`babel-hub ${packageVersion()}\n`);
    return 0;
  }
  const config = loaded.config;
  const log = createLogger(config.log_level, undefined, 'babel-hub');
  const notify = new SdNotify({ env, log: log.child({ mod: 'sd-notify' }) });
  let hub: Hub;
  try {
    hub = await Hub.start(config, { log });
  } catch (err) {
    log.fatal({ err }, 'hub failed to start');
    return 1;
  }
  notify.ready(`text ${hub.textPort}, binary ${hub.binaryPort}`);
  notify.startWatchdog();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      notify.stopping();
      notify.stop();
      hub.stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'unclean stop');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
