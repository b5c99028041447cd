/**
 * `babel-hub mqtt-login [--data-dir DIR | --config FILE]` [S-9]: what Home Assistant's MQTT
 * integration needs to reach the embedded broker, as plain `key: value` lines. Reads the
 * logins file the hub made on its first start; it never makes one itself, so a hub that
 * never ran is said to be so. Finds the data directory as `babel-hub user ...` does.
 *
 * [S-9, extension] The TLS port comes first, with what a client needs to trust it: the
 * hub's certificate file [S-2] (`bridge_cafile` for the Mosquitto add-on) and the host name
 * it names. The plaintext port is said to be this machine's only unless `plaintext: all`
 * (`plain-host.ts`), since that is where the broker listens.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HubConfig } from '../config-schema.ts';
import { subcommandConfig } from '../subcommand-config.ts';
import { CERT_FILE, TLS_DIR } from '../tls/identity.ts';
import { readMqttLogins } from './logins.ts';
import { isLoopbackAddress, mqttPlaintextHost } from './plain-host.ts';

const USAGE = `usage: babel-hub mqtt-login [--config FILE] [--data-dir DIR]
Prints the embedded MQTT broker's address, its TLS port, the hub's certificate and the name
it carries, its plaintext port and the "admin" login for Home Assistant.
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
  const certFile = config.tls.cert ?? path.join(config.data_dir, TLS_DIR, CERT_FILE);
  const names = certificateNames(certFile);
  const tlsHost = names?.find((n) => n !== 'localhost' && !isIpLiteral(n)) ?? names?.[0];
  io.out(
    [
      `host: ${host}`,
      `tls_port: ${mqtt.embedded_tls_port}`,
      ...(tlsHost ? [`tls_host: ${tlsHost}`] : []),
      `certificate: ${certFile}`,
      `port: ${plainPort(config)}`,
      `username: ${logins.admin.username}`,
      `password: ${logins.admin.password}`,
      '',
    ].join('\n'),
  );
  if (names && tlsHost) {
    io.err(
      `note: Home Assistant (docs/home-assistant.md): TLS to ${tlsHost}:${mqtt.embedded_tls_port} with a copy of ${certFile} as its CA file; the certificate names ${names.join(', ')}\n`,
    );
  } else {
    io.err(`note: cannot read a host name in the hub's certificate ${certFile}\n`);
  }
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

/** The plaintext port and who can reach it [S-1 rule, `plain-host.ts`]. */
function plainPort(config: HubConfig): string {
  const { mqtt } = config;
  const bind = mqttPlaintextHost(config.plaintext, mqtt.embedded_host);
  if (bind === null) return 'none (plaintext: off)';
  if (isLoopbackAddress(bind)) {
    return `${mqtt.embedded_port} (plaintext, this machine only; plaintext: all opens it to the network)`;
  }
  return `${mqtt.embedded_port} (plaintext, open to the network: plaintext: all)`;
}

/** The DNS names and addresses a certificate is for (its SAN, else its CN); null if unreadable. */
export function certificateNames(file: string): string[] | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(fs.readFileSync(file));
  } catch {
    return null;
  }
  const san = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1])
    .filter((n): n is string => n !== undefined);
  if (san.length > 0) return san;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn] : [];
}

function isIpLiteral(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}
