/**
 * `babel-device --doctor`: checks, one line each, what this device needs to work, with
 * the same config, flags and environment it runs with, then says a verdict:
 *
 * ```
 * ok    config    door, hub tls://hub.lan:4342, secret stored in /var/lib/babel-device
 * ok    hub       hub.lan:4342 answers in TLS
 * FAIL  tls pin   the hub presents sha256:..., expected sha256:... (hub_fingerprint)
 *                 -> if the hub really has a new certificate, set hub_fingerprint to ...
 * ok    capture   alsa:default opens and records
 * ok    playback  aplay:default opens and plays
 * skip  gpio      no GPIO lines configured
 * ok    mqtt      logged in to mqtts://hub.lan:8883 as door
 * verdict: 1 of 7 checks FAILED (tls pin); fix it and run --doctor again
 * ```
 *
 * Exit codes: 0 every check passed or was skipped, 1 one failed, 2 the config itself is
 * bad (said by the config loader before any check, one `path: message` line a problem).
 * Nothing is written: no secret made, no fingerprint recorded, no call placed.
 */
import path from 'node:path';
import type { DeviceConfig } from './config-schema.ts';
import { resolveStateDir } from './credentials.ts';
import {
  type CheckResult,
  checkCapture,
  checkGpio,
  checkHub,
  checkMqtt,
  checkPin,
  checkPlayback,
  type DoctorDeps,
} from './doctor-checks.ts';
import { parseHubAddress } from './hub-address.ts';
import { describeMediaEngine } from './media-setup.ts';
import { SECRET_FILE } from './secret.ts';

export type { DoctorDeps } from './doctor-checks.ts';

/** The width of the status and name columns. */
const STATUS_W = 6;
const NAME_W = 10;

/** One printed line (and its fix, indented under it when it failed). */
export function formatCheck(name: string, r: CheckResult): string {
  const head = `${r.status.padEnd(STATUS_W)}${name.padEnd(NAME_W)}${r.detail}\n`;
  return r.fix && r.status === 'FAIL'
    ? `${head}${' '.repeat(STATUS_W + NAME_W)}-> ${r.fix}\n`
    : head;
}

/** The verdict line from every check's name and result. */
export function verdict(results: ReadonlyArray<{ name: string; result: CheckResult }>): string {
  const failed = results.filter((r) => r.result.status === 'FAIL').map((r) => r.name);
  const skipped = results.filter((r) => r.result.status === 'skip').length;
  if (failed.length === 0) {
    return `verdict: all ${results.length} checks passed${skipped ? ` (${skipped} skipped)` : ''}: this device is ready\n`;
  }
  return `verdict: ${failed.length} of ${results.length} checks FAILED (${failed.join(', ')}); fix ${failed.length === 1 ? 'it' : 'them'} and run --doctor again\n`;
}

/** What the loaded config says, and where the secret comes from (never its value). */
function checkConfig(config: DeviceConfig, env: NodeJS.ProcessEnv): CheckResult {
  const hub = parseHubAddress(config.hub);
  const secret =
    config.secret !== undefined
      ? 'secret configured'
      : `secret in ${path.join(resolveStateDir(config, env), SECRET_FILE)} (made at first start if missing)`;
  return {
    status: 'ok',
    detail: `${config.name}, hub ${hub.transport}://${hub.host}:${hub.port}, ${secret}`,
  };
}

/** Runs every check, prints each line and the verdict; resolves with the exit code. */
export async function runDoctor(
  config: DeviceConfig,
  deps: DoctorDeps & { readonly print: (text: string) => void },
): Promise<number> {
  const results: Array<{ name: string; result: CheckResult }> = [];
  const add = (name: string, result: CheckResult) => {
    results.push({ name, result });
    deps.print(formatCheck(name, result));
  };
  const guard = async (name: string, run: () => CheckResult | Promise<CheckResult>) => {
    try {
      add(name, await run());
    } catch (err) {
      add(name, {
        status: 'FAIL',
        detail: `the check itself failed: ${(err as Error).message}`,
        fix: 'run with --log-level debug and report it',
      });
    }
  };
  // The agent's clock timers and closed sockets do not hold the process open; the checks
  // must, until the verdict.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await guard('config', () => checkConfig(config, deps.env));
    const contact = await checkHub(config, deps);
    add('hub', contact.result);
    await guard('tls pin', () => checkPin(config, contact, deps.env));
    await guard('capture', () => checkCapture(config, deps));
    await guard('playback', () => checkPlayback(config, deps));
    await guard('media', () => {
      const m = describeMediaEngine(config);
      return m.ok
        ? { status: 'ok', detail: m.detail }
        : { status: 'FAIL', detail: m.detail, ...(m.fix ? { fix: m.fix } : {}) };
    });
    await guard('gpio', () => checkGpio(config, deps));
    await guard('mqtt', () => checkMqtt(config, deps));
  } finally {
    clearInterval(keepAlive);
  }
  deps.print(verdict(results));
  return results.some((r) => r.result.status === 'FAIL') ? 1 : 0;
}
