/**
 * `babel-hub status [--json] [hub flags]`: asks the running hub, through its control
 * socket, for its listeners, the stations online, the calls, MQTT and its uptime. The hub
 * is found as the hub itself would find its data directory: the same `--config`, flags
 * and `BABEL_HUB_*` environment. Exit codes (as LSB `status`): 0 running, 3 not running,
 * 1 it did not answer properly, 2 usage or config error.
 */
import { controlRequest, HubNotRunningError } from './control/client.ts';
import type { HubStatus } from './main.ts';
import { subcommandConfig } from './subcommand-config.ts';

const USAGE = `usage: babel-hub status [--json] [--config FILE] [--data-dir DIR] [other babel-hub flags]
  Shows what the running hub serves: listeners, stations online, calls, MQTT, uptime.
  Exit code 0 when the hub runs, 3 when it does not, 2 for a bad flag or config.
`;

export interface StatusIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const EXIT_NOT_RUNNING = 3;

export async function runStatus(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: StatusIo,
): Promise<number> {
  const json = argv.includes('--json');
  const flags = argv.filter((a) => a !== '--json');
  if (flags.includes('--help') || flags.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  const loaded = subcommandConfig(flags, env, io.err);
  if (loaded.kind !== 'config') {
    io.err(USAGE);
    return loaded.kind === 'help' ? 0 : 2;
  }
  let reply: Record<string, unknown>;
  try {
    reply = await controlRequest(loaded.config.data_dir, { cmd: 'status' });
  } catch (err) {
    io.err(`babel-hub status: ${(err as Error).message}\n`);
    return err instanceof HubNotRunningError ? EXIT_NOT_RUNNING : 1;
  }
  if (reply.ok !== true) {
    io.err(`babel-hub status: the hub refused: ${String(reply.error)}\n`);
    return 1;
  }
  const { ok: _ok, ...status } = reply;
  io.out(
    json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status as unknown as HubStatus),
  );
  return 0;
}

function uptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

/** The status as lines for people. */
export function formatStatus(s: HubStatus): string {
  const listeners = Object.entries(s.listeners ?? {})
    .map(([name, port]) => `${name} ${port === null || port === 0 ? 'off' : port}`)
    .join(', ');
  const calls = s.calls ?? [];
  const stations = s.stations ?? [];
  const lines = [
    `babel-hub is running (pid ${s.pid}, up ${uptime(s.uptime_s)}, since ${s.started})`,
    `data dir: ${s.data_dir}`,
    `listeners: ${listeners}`,
    ...(s.listeners?.http
      ? [`web page: ${s.web?.url ?? `http://localhost:${s.listeners.http}/`}`]
      : []),
    ...(s.web
      ? [`web page from the network: ${s.web.lan_url} (certificate ${s.web.fingerprint})`]
      : []),
    `stations online (${stations.length} of ${s.users}): ${stations.length ? stations.join(', ') : '-'}`,
    `calls (${calls.length}): ${
      calls.length
        ? calls
            .map((c) => `${c.caller} -> ${c.callee} ${c.phase}${c.relayed ? ' (relayed)' : ''}`)
            .join('; ')
        : '-'
    }`,
    `mqtt: ${s.mqtt ? `${s.mqtt.url} ${s.mqtt.connected ? 'connected' : 'not connected'}` : 'off'}`,
    `pairing: ${s.pairing}`,
  ];
  return `${lines.join('\n')}\n`;
}
