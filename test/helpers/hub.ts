import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HubConfig } from '../../hub/config-schema.ts';
import { loadHubConfig } from '../../hub/config-schema.ts';
import type { ConnectionLimits } from '../../hub/context.ts';
import { Hub } from '../../hub/main.ts';
import { testLog } from './log.ts';

export interface TestHub {
  hub: Hub;
  config: HubConfig;
  dataDir: string;
  stop(): Promise<void>;
}

/** A temporary data directory, removed by the caller (or left for the OS in /tmp). */
export function tempDir(prefix = 'babel-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The hub's config as the CLI would build it, on free loopback ports, MQTT off. */
export function testConfig(argv: string[] = [], dataDir = tempDir()): HubConfig {
  const loaded = loadHubConfig(
    [
      '--host',
      '127.0.0.1',
      '--text-port',
      '0',
      '--binary-port',
      '0',
      '--mqtt',
      'off',
      '--data-dir',
      dataDir,
      ...argv,
    ],
    {},
  );
  if (loaded.kind !== 'config') throw new Error('unexpected help/version');
  return loaded.config;
}

/** Starts a real hub in this process on loopback. */
export async function startHub(
  argv: string[] = [],
  limits: Partial<ConnectionLimits> = {},
  dataDir = tempDir(),
): Promise<TestHub> {
  const config = testConfig(argv, dataDir);
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

/** A `babel-hub` in its own process (for `kill -9`), on loopback, MQTT off. */
export async function spawnHubProcess(args: string[], dataDir: string) {
  const { spawn } = await import('node:child_process');
  const readline = await import('node:readline');
  const bin = path.resolve(import.meta.dirname, '../../hub/bin.ts');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      bin,
      '--host',
      '127.0.0.1',
      '--binary-port',
      '0',
      '--mqtt',
      'off',
      '--data-dir',
      dataDir,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ports = await new Promise<{ textPort: number; binaryPort: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; textPort?: number; binaryPort?: number };
        if (rec.msg === 'hub listening' && rec.textPort && rec.binaryPort) {
          resolve({ textPort: rec.textPort, binaryPort: rec.binaryPort });
        }
      } catch {
        // not JSON
      }
    });
  });
  return {
    ...ports,
    kill: async (signal: NodeJS.Signals) => {
      child.kill(signal);
      await exited;
    },
  };
}
