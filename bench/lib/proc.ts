import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loopbackHubArgs, startHubProcess } from '../../test/helpers/hub-launch.ts';

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s

/** User + system CPU of a process so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
}

/** Resident set size of a process, in MiB. */
export function rssMb(pid: number): number {
  return statusMb(pid, 'VmRSS');
}

/**
 * Private resident memory of `pid` in MB (RssAnon: heaps, stacks, JIT code); the rest of
 * VmRSS is file pages (Node's binary, shared libraries) any other process of them shares.
 */
export function anonMb(pid: number): number {
  return statusMb(pid, 'RssAnon');
}

/**
 * Unique set size of `pid` in MB: its resident pages no other process maps (Private_Clean +
 * Private_Dirty of /proc/<pid>/smaps_rollup), what stopping it would give back. Node's
 * binary pages that a second Node process (the hub on the same Pi) also maps are not in it.
 */
export function ussMb(pid: number): number {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  let kb = 0;
  for (const m of rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+)/gm)) kb += Number(m[1]);
  return kb / 1024;
}

/** A `kB` field of /proc/<pid>/status, in MB (0 when absent). */
function statusMb(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Context switches of every thread of `pid` so far (voluntary + involuntary, summed over
 * /proc/<pid>/task/*): each is a wake-up or a preemption.
 */
export function contextSwitches(pid: number): number {
  let total = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm))
        total += Number(m[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
}

/** Threads of `pid` now. */
export function threadCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/task`).length;
}

export interface HubProcess {
  child: ChildProcess;
  textPort: number;
  binaryPort: number;
  /** [S-1] The TLS listeners' ports. */
  textTlsPort: number;
  binaryTlsPort: number;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * The environment of the benchmarks of the seed protocols: open registration (their
 * clients create their accounts), no login throttle, and room for every client of the
 * one loopback address to connect at once [S-6, S-7, S-8]. `bench/login-flood.ts` runs
 * the hub's own defaults instead.
 */
export const SEED_BENCH_ENV: NodeJS.ProcessEnv = {
  BABEL_HUB_REGISTRATION: 'open',
  BABEL_HUB_LOGIN_THROTTLE: 'off',
  BABEL_HUB_CONNECTIONS__PRELOGIN_PER_ADDRESS: '1024',
};

/**
 * Starts `babel-hub` as its own process (the built `dist/` when present, else the sources
 * through tsx) on free loopback ports and waits for its "hub listening" log line. Its
 * environment is this process's plus `env`.
 */
export async function spawnHub(
  args: string[] = [],
  env: NodeJS.ProcessEnv = SEED_BENCH_ENV,
): Promise<HubProcess> {
  const root = path.resolve(import.meta.dirname, '../..');
  const built = path.join(root, 'dist/hub/bin.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-bench-'));
  const entry = fs.existsSync(built) ? [built] : ['--import', 'tsx', path.join(root, 'hub/bin.ts')];
  const { child, ports, exited } = await startHubProcess(
    [...entry, ...loopbackHubArgs(dataDir, ['--log-level', 'info', ...args])],
    env,
  );
  return {
    child,
    ...ports,
    dataDir,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
