import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HubConfig } from '../../hub/config-schema.ts';
import { loadHubConfig } from '../../hub/config-schema.ts';
import type { ConnectionLimits } from '../../hub/context.ts';
import { Hub } from '../../hub/main.ts';
import { loadIdentity, TLS_DIR } from '../../hub/tls/identity.ts';
import { hangGuardMs } from './hang-guard.ts';
import { loopbackHubArgs, startHubProcess } from './hub-launch.ts';
import { testLog } from './log.ts';

export interface TestHub {
  hub: Hub;
  config: HubConfig;
  dataDir: string;
  stop(): Promise<void>;
}

let sharedIdentity: Promise<string> | null = null;

/**
 * Gives `dataDir` a TLS identity [S-2] copied from one made once per test process, so
 * that each test hub does not run openssl. Tests of the identity itself start without.
 */
export async function seedIdentity(dataDir: string): Promise<void> {
  sharedIdentity ??= (async () => {
    const dir = tempDir('babel-identity-');
    await loadIdentity({ data_dir: dir, tls: {} });
    return path.join(dir, TLS_DIR);
  })();
  const from = await sharedIdentity;
  const to = path.join(dataDir, TLS_DIR);
  if (fs.existsSync(to)) return;
  fs.cpSync(from, to, { recursive: true });
}

/** A temporary data directory, removed by the caller (or left for the OS in /tmp). */
export function tempDir(prefix = 'babel-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The environment the tests of the seed protocols start the hub with, as the acceptance
 * checks do: open registration (`NEW` and `/create` from anyone, accounts without a
 * secret) and no login throttle (they fail logins on purpose from one address) [S-6,
 * S-7]. Tests of the secure defaults pass `SECURE_ENV` instead.
 */
export const SEED_ENV: NodeJS.ProcessEnv = {
  BABEL_HUB_REGISTRATION: 'open',
  BABEL_HUB_LOGIN_THROTTLE: 'off',
};

/** The hub's own defaults: registration closed, logins throttled. */
export const SECURE_ENV: NodeJS.ProcessEnv = {};

/**
 * The hub's config as the CLI would build it, on free loopback ports, MQTT off, with
 * `env` as its environment (the seed protocols' by default, see `SEED_ENV`).
 */
export function testConfig(
  argv: string[] = [],
  dataDir = tempDir(),
  env: NodeJS.ProcessEnv = SEED_ENV,
): HubConfig {
  const loaded = loadHubConfig(
    // the web page off unless the test asks for it: hubs in parallel never fight over 8090
    loopbackHubArgs(dataDir, ['--http-port', '0', ...argv]),
    env,
  );
  if (loaded.kind !== 'config') throw new Error('unexpected help/version');
  return loaded.config;
}

/** Starts a real hub in this process on loopback (environment: see `testConfig`). */
export async function startHub(
  argv: string[] = [],
  limits: Partial<ConnectionLimits> = {},
  dataDir = tempDir(),
  env: NodeJS.ProcessEnv = SEED_ENV,
): Promise<TestHub> {
  const config = testConfig(argv, dataDir, env);
  await seedIdentity(config.data_dir);
  const hub = await Hub.start(config, { log: testLog, limits });
  return {
    hub,
    config,
    dataDir,
    stop: async () => {
      await hub.stop();
    },
  };
}

/**
 * A `babel-hub` in its own process (for `kill -9`), on loopback, MQTT off, its
 * environment this process's plus `env` (the seed protocols' by default, see `SEED_ENV`).
 */
export async function spawnHubProcess(
  args: string[],
  dataDir: string,
  env: NodeJS.ProcessEnv = SEED_ENV,
) {
  const bin = path.resolve(import.meta.dirname, '../../hub/bin.ts');
  /** Every line the hub logged (JSON, one record a line). */
  const lines: string[] = [];
  const lineWaiters = new Set<(line: string) => void>();
  const { ports, child, exited } = await startHubProcess(
    // the web page off unless the test asks for it (docs/web.md)
    ['--import', 'tsx', bin, ...loopbackHubArgs(dataDir, ['--http-port', '0', ...args])],
    env,
    (line) => {
      lines.push(line);
      for (const w of lineWaiters) w(line);
    },
  );
  return {
    ...ports,
    lines,
    /** Resolves once the hub has logged a line `match` accepts (or had); rejects after `ms`. */
    waitForLine: (match: (line: string) => boolean, ms = 15_000): Promise<string> => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          lineWaiters.delete(waiter);
          reject(new Error('the hub did not log the line in time'));
        }, ms);
        const waiter = (line: string) => {
          if (!match(line)) return;
          clearTimeout(timer);
          lineWaiters.delete(waiter);
          resolve(line);
        };
        lineWaiters.add(waiter);
      });
    },
    kill: async (signal: NodeJS.Signals) => {
      child.kill(signal);
      await exited;
    },
  };
}

/** Runs `babel-hub ARGS` (a subcommand such as `pair` or `user`) to its end. */
export async function runHubCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  const bin = path.resolve(import.meta.dirname, '../../hub/bin.ts');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', bin, ...args],
      // A hang guard (tsx starting the CLI): it scales under emulation, as the others do.
      { env: { ...process.env, ...env }, timeout: hangGuardMs(60_000) },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
