/**
 * How the tests (hub.ts), the benchmarks (bench/lib/proc.ts) and `npm run demo`
 * (scripts/demo.ts) launch a hub on loopback: its command line, and `babel-hub` as a process
 * of its own. Node's built-ins only, so that a script or a benchmark takes it without the
 * weight of the other helpers (or of the hub's modules).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';

/**
 * The command line of a hub on free loopback ports (the TLS ones too [S-1]), MQTT off, its
 * data in `dataDir`; `args` last: of a flag given twice the last counts, so they may
 * override any of these.
 */
export function loopbackHubArgs(dataDir: string, args: readonly string[] = []): string[] {
  return [
    '--host',
    '127.0.0.1',
    '--text-port',
    '0',
    '--binary-port',
    '0',
    '--text-tls-port',
    '0',
    '--binary-tls-port',
    '0',
    '--mqtt',
    'off',
    '--data-dir',
    dataDir,
    ...args,
  ];
}

/** The ports the hub's "hub listening" line names (0 for a plaintext port that is off). */
export interface HubPorts {
  textPort: number;
  binaryPort: number;
  textTlsPort: number;
  binaryTlsPort: number;
}

export interface HubChild {
  child: ChildProcess;
  ports: HubPorts;
  /** Settles when the process has exited, with its exit code. */
  exited: Promise<number | null>;
}

/**
 * Starts `node NODE_ARGS` (a babel-hub entry and its arguments, e.g. `loopbackHubArgs()`),
 * its environment this process's plus `env`, its stderr inherited. Resolves once it logs
 * "hub listening"; rejects should it exit before. `onLine` sees every line it logs.
 */
export async function startHubProcess(
  nodeArgs: readonly string[],
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void = () => {},
): Promise<HubChild> {
  const child = spawn(process.execPath, nodeArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ports = await new Promise<HubPorts>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      onLine(line);
      try {
        const rec = JSON.parse(line) as { msg?: string } & Partial<HubPorts>;
        if (rec.msg === 'hub listening')
          resolve({
            textPort: rec.textPort ?? 0,
            binaryPort: rec.binaryPort ?? 0,
            textTlsPort: rec.textTlsPort ?? 0,
            binaryTlsPort: rec.binaryTlsPort ?? 0,
          });
      } catch {
        // not JSON
      }
    });
  });
  return { child, ports, exited };
}
