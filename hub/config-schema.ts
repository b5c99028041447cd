/**
 * The hub's configuration: one TypeBox schema from which come the `HubConfig` type, the
 * defaults, validation, the `BABEL_HUB_*` environment variables and `--help`.
 *
 * A YAML file (`--config FILE`) uses the same snake_case keys:
 *
 * ```yaml
 * version: 1
 * text_tls_port: 4342
 * plaintext: loopback
 * mqtt:
 *   url: mqtt://broker.lan:1883
 *   username: babel
 * relay: auto
 * ```
 *
 * Ports accept 0, meaning "let the system pick a free port" (tests use it; the bound port
 * is then logged). Relative paths (`data_dir`) are relative to the working directory.
 */
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import {
  type ConfigSpec,
  type FlagTable,
  type LoadResult,
  loadConfig,
  mqttUrlProblem,
  oneOf,
} from '../shared/config/load.ts';
import { LOG_LEVELS } from '../shared/log.ts';
import { HUB_COMMANDS } from './commands-help.ts';

/** The config file format version this hub writes and reads; older files are migrated. */
const HUB_CONFIG_VERSION = 1;

const port = (description: string, value: number) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: value, description });

/** Every hub setting, with its default. */
export const HubConfigSchema = Type.Object(
  {
    version: Type.Literal(HUB_CONFIG_VERSION, {
      default: HUB_CONFIG_VERSION,
      description: 'config file format version',
    }),
    host: Type.String({
      minLength: 1,
      default: '0.0.0.0',
      description: 'address the listeners bind (the plaintext ones: see plaintext)',
    }),
    text_port: port('TCP port of the text dialect in plaintext, 0 for any free port', 4242),
    binary_port: port('TCP port of the binary dialect in plaintext, 0 for any free port', 4243),
    // [S-1]
    text_tls_port: port('TCP port of the text dialect over TLS, 0 for any free port', 4342),
    binary_tls_port: port('TCP port of the binary dialect over TLS, 0 for any free port', 4343),
    plaintext: oneOf(['loopback', 'all', 'off'], {
      default: 'loopback',
      description: 'plaintext ports: loopback (127.0.0.1), all (on host; warned) or off',
    }),
    data_dir: Type.String({
      minLength: 1,
      default: './data',
      description: 'directory of the SQLite database',
    }),
    mqtt: Type.Object(
      {
        url: Type.Union(
          [
            Type.Literal('embedded'),
            Type.Literal('off'),
            Type.String({ pattern: '^mqtts?://\\S+$' }),
          ],
          {
            default: 'embedded',
            description: 'MQTT broker: embedded (inside the hub), off, or mqtt[s]://host[:port]',
            errorMessage: 'must be embedded, off, or an mqtt:// or mqtts:// URL',
          },
        ),
        base_topic: Type.String({
          pattern: '^[^/#+\\s]+(/[^/#+\\s]+)*$',
          default: 'babel',
          description: 'topic every hub topic is under',
          errorMessage: 'must be an MQTT topic without wildcards or outer slashes, e.g. babel',
        }),
        embedded_host: Type.String({
          minLength: 1,
          default: '0.0.0.0',
          description: 'address the embedded broker binds',
        }),
        embedded_port: port('TCP port of the embedded broker, 0 for any free port', 1883),
        // [S-9, extension] Devices log in here; 1883 stays plaintext for Home Assistant.
        embedded_tls_port: port(
          'TLS port of the embedded broker (the hub certificate), 0 for any free port',
          8883,
        ),
        // [S-9] With `embedded` these replace the hub's generated login (docs/mqtt.md).
        username: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'user name the hub logs in to the broker with',
          }),
        ),
        password: Type.Optional(
          Type.String({ description: 'password the hub logs in to the broker with' }),
        ),
        // [S-11] Unsafe: logged at warn on every start.
        anonymous: Type.Optional(
          Type.Boolean({
            description:
              'embedded broker: let anyone connect and publish anything, as before S-9 (unsafe; default false)',
          }),
        ),
        client_id: Type.Optional(Type.String({ minLength: 1, description: 'MQTT client id' })),
      },
      { additionalProperties: false, default: {} },
    ),
    // Home Assistant MQTT discovery, as zigbee2mqtt's `homeassistant` options.
    homeassistant: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'publish Home Assistant MQTT discovery (devices, entities)',
        }),
        discovery_topic: Type.String({
          pattern: '^[^/#+\\s]+(/[^/#+\\s]+)*$',
          default: 'homeassistant',
          description: "Home Assistant's MQTT discovery prefix",
          errorMessage:
            'must be an MQTT topic without wildcards or outer slashes, e.g. homeassistant',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    // [S-2] Without them the hub makes its own certificate in <data_dir>/tls/.
    tls: Type.Object(
      {
        cert: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'PEM certificate of the hub (default: made on first start in <data_dir>/tls/)',
          }),
        ),
        key: Type.Optional(
          Type.String({ minLength: 1, description: 'PEM private key of tls.cert' }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    relay: oneOf(['auto', 'always', 'never'], {
      default: 'auto',
      description: 'relay call media through the hub [M-4]',
    }),
    ring_timeout: Type.Integer({
      minimum: 1,
      maximum: 600,
      default: 30,
      description: 'seconds a call rings before it ends unanswered',
    }),
    // [T-12]
    idle_timeout: Type.Integer({
      minimum: 5,
      maximum: 3600,
      default: 90,
      description: 'seconds of silence before a connection is closed',
    }),
    // [B-3]
    max_frame: Type.Integer({
      minimum: 1024,
      maximum: 16 * 1024 * 1024,
      default: 65536,
      description: 'largest binary frame accepted, in bytes',
    }),
    // [S-6]
    registration: oneOf(['open', 'closed'], {
      default: 'closed',
      description:
        'closed: accounts come from `babel-hub user add` or a pairing window (`babel-hub pair`); open: anyone may create one (warned at start)',
    }),
    // [S-7]
    login_throttle: oneOf(['on', 'off'], {
      default: 'on',
      description: 'throttle failed logins per address and account; off is warned at start',
    }),
    // [S-8]
    connections: Type.Object(
      {
        prelogin_per_address: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 32,
          description: 'connections not yet logged in from one address; more are closed at accept',
        }),
        prelogin_total: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 1024,
          description: 'connections not yet logged in, in all; more are closed at accept',
        }),
        login_deadline: Type.Integer({
          minimum: 1,
          maximum: 3600,
          default: 10,
          description: 'seconds from accept to log in before the connection is closed',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    // The status page, /metrics and /healthz (docs/web.md)
    http_port: port(
      'TCP port of the web page and /metrics on host (behind a login), 0 for off',
      8090,
    ),
    log_level: oneOf(LOG_LEVELS, { default: 'info', description: 'least severe level logged' }),
    max_connections: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10000,
      description: 'connections accepted at once, both dialects together',
    }),
  },
  { additionalProperties: false },
);

/** The hub's validated configuration, with every default filled in. */
export type HubConfig = Static<typeof HubConfigSchema>;

/** `babel-hub` flags, as in docs/interfaces: `--mqtt` sets `mqtt.url`. */
export const HUB_FLAGS: FlagTable = [
  { flag: '--host', path: 'host', kind: 'string', arg: 'ADDR' },
  { flag: '--text-port', path: 'text_port', kind: 'number', arg: 'N' },
  { flag: '--binary-port', path: 'binary_port', kind: 'number', arg: 'N' },
  { flag: '--text-tls-port', path: 'text_tls_port', kind: 'number', arg: 'N' },
  { flag: '--binary-tls-port', path: 'binary_tls_port', kind: 'number', arg: 'N' },
  { flag: '--plaintext', path: 'plaintext', kind: 'string', arg: 'MODE' },
  { flag: '--data-dir', path: 'data_dir', kind: 'string', arg: 'DIR' },
  { flag: '--mqtt', path: 'mqtt.url', kind: 'string', arg: 'URL|embedded|off' },
  { flag: '--relay', path: 'relay', kind: 'string', arg: 'auto|always|never' },
  { flag: '--ring-timeout', path: 'ring_timeout', kind: 'number', arg: 'SECONDS' },
  { flag: '--log-level', path: 'log_level', kind: 'string', arg: 'LEVEL' },
  { flag: '--http-port', path: 'http_port', kind: 'number', arg: 'N' },
];

/** Everything `loadConfig` needs to know about the hub; environment prefix `BABEL_HUB_`. */
const HUB_CONFIG: ConfigSpec<typeof HubConfigSchema> = {
  program: 'babel-hub',
  schema: HubConfigSchema,
  flags: HUB_FLAGS,
  envPrefix: 'BABEL_HUB_',
  version: HUB_CONFIG_VERSION,
  commands: HUB_COMMANDS,
  check: (config) => {
    const url = config.mqtt.url;
    const problem = url === 'embedded' || url === 'off' ? null : mqttUrlProblem(url);
    return problem ? [{ path: 'mqtt.url', message: problem }] : [];
  },
};

/**
 * The hub's config from its command line (`process.argv.slice(2)`), environment and
 * optional `--config` file. Throws `ConfigError` (exit code 2) listing every problem.
 */
export function loadHubConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): LoadResult<HubConfig> {
  return loadConfig(HUB_CONFIG, { argv, env, readFile });
}
