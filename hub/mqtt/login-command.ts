/**
 * `babel-hub mqtt-login [--data-dir DIR | --config FILE]` [S-9]: what Home Assistant's MQTT
 * integration needs to reach the embedded broker, as plain `key: value` lines. Reads the
 * logins file the hub made on its first start; it never makes one itself, so a hub that
 * never ran is said to be so. Finds the data directory as `babel-hub user ...` does.
 */
import os from 'node:os';
import { subcommandConfig } from '../subcommand-config.ts';
import { readMqttLogins } from './logins.ts';

const USAGE = `usage: babel-hub mqtt-login [--config FILE] [--data-dir DIR]
Prints the embedded MQTT broker's address, its TLS port and the "admin" login for Home Assistant.
`;

export interface MqttLoginIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The machine's addresses (`os.networkInterfaces`), for a broker bound to every one. */
  interfaces?: () => ReturnType<typeof os.networkInterfaces>;
}

/** Exit codes: 0 printed, 1 nothing to print (no logins yet, other broker), 2 usage or config. */
export function runMqttLogin(argv: string[], env: NodeJS.ProcessEnv, io: MqttLoginIo): number {
  const loaded = subcommandConfig(argv, env, io.err);
  if (loaded.kind !== 'config') {
    io.err(USAGE);
    return loaded.kind === 'help' ? 0 : 2; // --help, --version: not an error
  }
  const { config } = loaded;
  const { mqtt } = config;
  if (mqtt.url !== 'embedded') {
    io.err(
      mqtt.url === 'off'
        ? 'this hub has MQTT off (mqtt.url: off); there is no broker to log in to\n'
        : `this hub uses the broker at ${mqtt.url}; Home Assistant logs in there with a login of that broker (docs/mqtt.md, "An external broker")\n`,
    );
    return 1;
  }
  let logins: ReturnType<typeof readMqttLogins>;
  try {
    logins = readMqttLogins(config.data_dir);
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    return 1;
  }
  if (!logins) {
    io.err(
      `no MQTT logins in ${config.data_dir}: the hub makes them on its first start; start it once (or pass the --data-dir / --config it runs with)\n`,
    );
    return 1;
  }
  const host = reachableHost(mqtt.embedded_host, io.interfaces ?? os.networkInterfaces);
  io.out(
    `host: ${host}\nport: ${mqtt.embedded_port}\ntls_port: ${mqtt.embedded_tls_port}\nusername: ${logins.admin.username}\npassword: ${logins.admin.password}\n`,
  );
  if (mqtt.anonymous) {
    io.err('note: mqtt.anonymous is on, so the broker takes anyone (unsafe, docs/mqtt.md)\n');
  }
  return 0;
}

/**
 * The address Home Assistant should use: the bind address itself, or for a wildcard bind
 * the machine's first non-internal IPv4 address (its host name when it has none).
 */
export function reachableHost(
  bind: string,
  interfaces: () => ReturnType<typeof os.networkInterfaces>,
): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  for (const list of Object.values(interfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return os.hostname();
}
