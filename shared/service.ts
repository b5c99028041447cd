import type { Logger } from 'pino';
import { ConfigError } from './config/errors.ts';
import type { LoadResult } from './config/load.ts';
import { createLogger } from './log.ts';
import { SdNotify } from './sd-notify.ts';
import { packageVersion } from './version.ts';

/** A long-running program as `runService` drives it. */
export interface ServiceSpec<C extends { log_level: string }, S extends { stop(): Promise<void> }> {
  /** `babel-hub`, `babel-device`: the logger's name and the `--version` line. */
  readonly program: string;
  /** Loads the config from argv and environment; throws ConfigError listing every problem. */
  load(): LoadResult<C>;
  /** Handles a config that asks for a one-shot action (`--list-audio`); a number is the exit code. */
  oneShot?(config: C): number | null | Promise<number | null>;
  /** Starts everything; rejects (having released what started) when it cannot. */
  start(config: C, log: Logger): Promise<S>;
  /** The STATUS= line for systemd once started. */
  status(service: S): string;
}

/**
 * The life of a `babel-*` program [interfaces]: a bad config or flag prints one
 * `path: message` line per problem and exits 2 with nothing started; `--help` and
 * `--version` print and exit 0; otherwise start, tell systemd `READY=1` and keep its
 * watchdog fed, and on SIGTERM or SIGINT stop cleanly. Resolves with the exit code:
 * 0 clean stop, 1 could not start or stop cleanly, 2 bad config.
 */
export async function runService<
  C extends { log_level: string },
  S extends { stop(): Promise<void> },
>(spec: ServiceSpec<C, S>, env: NodeJS.ProcessEnv): Promise<number> {
  let loaded: LoadResult<C>;
  try {
    loaded = spec.load();
  } catch (err) {
    if (err instanceof ConfigError) {
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
    process.stdout.write(`${spec.program} ${packageVersion()}\n`);
    return 0;
  }
  const config = loaded.config;
  const done = await spec.oneShot?.(config);
  if (typeof done === 'number') return done;

  const log = createLogger(config.log_level, undefined, spec.program);
  const notify = new SdNotify({ env, log: log.child({ mod: 'sd-notify' }) });
  let service: S;
  try {
    service = await spec.start(config, log);
  } catch (err) {
    log.fatal({ err }, `${spec.program} failed to start`);
    return 1;
  }
  notify.ready(spec.status(service));
  notify.startWatchdog();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      notify.stopping();
      notify.stop();
      service.stop().then(
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

/**
 * What a `bin.ts` prints when its program failed outside a service's own reporting (a
 * subcommand): a system error (a directory that cannot be made, a file that cannot be
 * read) is one line `program: message`; anything else is a bug, printed with its stack.
 */
export function reportFailure(program: string, err: unknown): void {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (err instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    process.stderr.write(`${program}: ${err.message}\n`);
  } else {
    console.error(err);
  }
}
