import test from 'ava';
import {
  HUB_FLAGS,
  type HubConfig,
  HubConfigSchema,
  loadHubConfig,
} from '../../../hub/config-schema.ts';
import { ConfigError } from '../../../shared/config/errors.ts';
import { type Files, reader } from '../../helpers/config-files.ts';

function hub(argv: string[], env: NodeJS.ProcessEnv = {}, files: Files = {}): HubConfig {
  const result = loadHubConfig(argv, env, reader(files));
  if (result.kind !== 'config') throw new Error(`expected a config, got ${result.kind}`);
  return result.config;
}

function problems(argv: string[], env: NodeJS.ProcessEnv = {}, files: Files = {}): string[] {
  try {
    loadHubConfig(argv, env, reader(files));
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

const DEFAULTS: HubConfig = {
  version: 1,
  host: '0.0.0.0',
  text_port: 4242,
  binary_port: 4243,
  text_tls_port: 4342,
  binary_tls_port: 4343,
  plaintext: 'loopback',
  tls: {},
  data_dir: './data',
  mqtt: {
    url: 'embedded',
    base_topic: 'babel',
    embedded_host: '0.0.0.0',
    embedded_port: 1883,
    embedded_tls_port: 8883,
  },
  homeassistant: { enabled: true, discovery_topic: 'homeassistant' },
  relay: 'auto',
  ring_timeout: 30,
  idle_timeout: 90,
  max_frame: 65536,
  registration: 'closed',
  login_throttle: 'on',
  connections: { prelogin_per_address: 32, prelogin_total: 1024, login_deadline: 10 },
  http_port: 8090,
  log_level: 'info',
  max_connections: 10000,
};

test('no flags, no environment, no file: the documented defaults', (t) => {
  t.deepEqual(hub([]), DEFAULTS);
  const relay: 'auto' | 'always' | 'never' = hub([]).relay; // the type follows the schema
  t.is(relay, 'auto');
});

const GOOD: [string, string[], NodeJS.ProcessEnv, Files, Partial<HubConfig>][] = [
  [
    'flags, spaced',
    ['--host', '127.0.0.1', '--text-port', '4000', '--relay', 'never'],
    {},
    {},
    { host: '127.0.0.1', text_port: 4000, relay: 'never' },
  ],
  [
    'flags, with =',
    ['--binary-port=0', '--data-dir=/var/lib/babel', '--ring-timeout=600', '--log-level=debug'],
    {},
    {},
    { binary_port: 0, data_dir: '/var/lib/babel', ring_timeout: 600, log_level: 'debug' },
  ],
  [
    '--mqtt sets mqtt.url',
    ['--mqtt', 'mqtts://broker.lan:8883'],
    {},
    {},
    { mqtt: { ...DEFAULTS.mqtt, url: 'mqtts://broker.lan:8883' } },
  ],
  ['--mqtt off', ['--mqtt=off'], {}, {}, { mqtt: { ...DEFAULTS.mqtt, url: 'off' } }],
  [
    'a repeated flag keeps the last',
    ['--text-port', '1', '--text-port', '2'],
    {},
    {},
    { text_port: 2 },
  ],
  [
    'environment, flat',
    [],
    { BABEL_HUB_TEXT_PORT: '4000', BABEL_HUB_REGISTRATION: 'open' },
    {},
    { text_port: 4000, registration: 'open' },
  ],
  [
    'environment: the seed protocols run with open registration and no login throttle',
    [],
    { BABEL_HUB_REGISTRATION: 'open', BABEL_HUB_LOGIN_THROTTLE: 'off' },
    {},
    { registration: 'open', login_throttle: 'off' },
  ],
  [
    'environment, nested',
    [],
    {
      BABEL_HUB_MQTT__URL: 'mqtt://b',
      BABEL_HUB_MQTT__EMBEDDED_PORT: '0',
      BABEL_HUB_MQTT__USERNAME: 'u',
    },
    {},
    { mqtt: { ...DEFAULTS.mqtt, url: 'mqtt://b', embedded_port: 0, username: 'u' } },
  ],
  [
    'empty variables and other prefixes are ignored',
    [],
    { BABEL_HUB_HOST: '', BABEL_DEVICE_NAME: 'x', PATH: '/bin' },
    {},
    { host: '0.0.0.0' },
  ],
  [
    'a YAML file',
    ['--config', 'hub.yaml'],
    {},
    {
      'hub.yaml':
        'version: 1\nidle_timeout: 60\nmax_frame: 2048\nmqtt:\n  url: mqtt://b:1883\n  password: "s3cret"\n  client_id: hub1\n',
    },
    {
      idle_timeout: 60,
      max_frame: 2048,
      mqtt: { ...DEFAULTS.mqtt, url: 'mqtt://b:1883', password: 's3cret', client_id: 'hub1' },
    },
  ],
  [
    'a file without version is the current version',
    ['--config=hub.yaml'],
    {},
    { 'hub.yaml': 'max_connections: 5\n' },
    { version: 1, max_connections: 5 },
  ],
  [
    'an empty key or file means the defaults',
    ['--config', 'hub.yaml'],
    {},
    { 'hub.yaml': '# nothing yet\nmqtt:\nhost:\n' },
    DEFAULTS,
  ],
];

for (const [name, argv, env, files, expected] of GOOD) {
  test(`loads: ${name}`, (t) => {
    t.deepEqual(hub(argv, env, files), { ...DEFAULTS, ...expected });
  });
}

test('precedence: flags > environment > file > defaults', (t) => {
  const files = { 'hub.yaml': 'text_port: 1\nbinary_port: 1\nring_timeout: 1\n' };
  const env = { BABEL_HUB_TEXT_PORT: '2', BABEL_HUB_BINARY_PORT: '2' };
  const config = hub(['--config', 'hub.yaml', '--text-port', '3'], env, files);
  t.like(config, { text_port: 3, binary_port: 2, ring_timeout: 1, idle_timeout: 90 });
  // A nested flag overrides one key of a file's mapping, not the whole mapping.
  const nested = hub(
    ['--config', 'hub.yaml', '--mqtt', 'off'],
    {},
    {
      'hub.yaml': 'mqtt:\n  url: mqtt://b\n  base_topic: intercom\n',
    },
  );
  t.deepEqual(nested.mqtt, { ...DEFAULTS.mqtt, url: 'off', base_topic: 'intercom' });
});

const BAD: [string, string[], NodeJS.ProcessEnv, Files, string[]][] = [
  [
    'a non-number',
    ['--ring-timeout', 'abc'],
    {},
    {},
    ['--ring-timeout: expected a number, got "abc"'],
  ],
  [
    'a bad choice',
    ['--relay', 'sometimes'],
    {},
    {},
    ['--relay: must be one of auto, always, never'],
  ],
  [
    'out of range',
    ['--ring-timeout=0'],
    {},
    {},
    ['--ring-timeout: must be an integer from 1 to 600'],
  ],
  [
    'not an integer',
    ['--text-port', '42.5'],
    {},
    {},
    ['--text-port: must be an integer from 0 to 65535'],
  ],
  [
    'a bad log level',
    ['--log-level', 'loud'],
    {},
    {},
    ['--log-level: must be one of fatal, error, warn, info, debug, trace, silent'],
  ],
  [
    'a bad MQTT URL',
    ['--mqtt', 'http://b'],
    {},
    {},
    ['--mqtt: must be embedded, off, or an mqtt:// or mqtts:// URL'],
  ],
  ['an unknown flag', ['--bogus'], {}, {}, ['--bogus: unknown flag']],
  ['an unknown flag with a value', ['--bogus', '5'], {}, {}, ['--bogus: unknown flag']],
  ['a single-dash flag', ['-x'], {}, {}, ['-x: unknown flag']],
  ['a stray argument', ['hub.yaml'], {}, {}, ['hub.yaml: unexpected argument']],
  ['a missing value at the end', ['--host'], {}, {}, ['--host: expected a value']],
  [
    'a missing value before a flag',
    ['--host', '--relay', 'auto'],
    {},
    {},
    ['--host: expected a value'],
  ],
  ['an empty host', ['--host='], {}, {}, ['--host: must be a non-empty string']],
  ['an empty --config', ['--config='], {}, {}, ['--config: expected a value']],
  [
    'a missing --config file',
    ['--config', 'nope.yaml'],
    {},
    {},
    ['nope.yaml: cannot read: no such file'],
  ],
  [
    'a bad variable',
    [],
    { BABEL_HUB_TEXT_PORT: 'x' },
    {},
    ['BABEL_HUB_TEXT_PORT: expected a number, got "x"'],
  ],
  [
    'a variable out of range',
    [],
    { BABEL_HUB_MQTT__EMBEDDED_PORT: '65536' },
    {},
    ['BABEL_HUB_MQTT__EMBEDDED_PORT: must be an integer from 0 to 65535'],
  ],
  [
    'an unknown variable',
    [],
    { BABEL_HUB_TEXTPORT: '1' },
    {},
    ['BABEL_HUB_TEXTPORT: unknown setting'],
  ],
  [
    'version is not a variable',
    [],
    { BABEL_HUB_VERSION: '1' },
    {},
    ['BABEL_HUB_VERSION: unknown setting'],
  ],
  [
    'a file value out of range',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'text_port: 70000\n' },
    ['text_port: must be an integer from 0 to 65535'],
  ],
  [
    'a quoted number in the file',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'ring_timeout: "30"\n' },
    ['ring_timeout: must be an integer from 1 to 600'],
  ],
  [
    'unknown keys at any depth',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'unknown_key: 1\nmqtt:\n  nope: 2\n' },
    ['unknown_key: unknown setting', 'mqtt.nope: unknown setting'],
  ],
  [
    'max_line is fixed by the contract',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'max_line: 2048\n' },
    ['max_line: unknown setting'],
  ],
  [
    'a scalar where a mapping belongs',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'mqtt: embedded\n' },
    ['mqtt: must be a mapping of settings'],
  ],
  [
    'a file that is a list',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': '- text_port\n' },
    ['c.yaml: must be a mapping of settings'],
  ],
  [
    'a topic with a wildcard',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'mqtt:\n  base_topic: babel/#\n' },
    ['mqtt.base_topic: must be an MQTT topic without wildcards or outer slashes, e.g. babel'],
  ],
  [
    'a newer version',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'version: 2\nnew_thing: 1\n' },
    ['version: 2 is newer than this babel-hub understands (1); upgrade babel-hub'],
  ],
  [
    'a malformed version',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'version: one\n' },
    ['version: must be 1'],
  ],
  [
    'a duplicate key',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'host: a\nhost: b\n' },
    ['c.yaml: line 2: map keys must be unique'],
  ],
  [
    'bad indentation',
    ['--config', 'c.yaml'],
    {},
    { 'c.yaml': 'mqtt:\n  url: off\n\tbase_topic: x\n' },
    ['c.yaml: line 3: tabs are not allowed as indentation'],
  ],
];

for (const [name, argv, env, files, expected] of BAD) {
  test(`refuses: ${name}`, (t) => {
    t.deepEqual(problems(argv, env, files), expected);
  });
}

test('every problem from every source is listed at once, one line each', (t) => {
  const files = {
    'c.yaml':
      'version: 1\nidle_timeout: 1\nregistration: maybe\nmqtt:\n  embedded_port: -1\n  zz: 1\n',
  };
  const argv = ['--config', 'c.yaml', '--text-port', 'abc', '--relay=sometimes', '--nope'];
  const env = { BABEL_HUB_RING_TIMEOUT: '601', BABEL_HUB_NOPE: '1' };
  const err = t.throws(() => loadHubConfig(argv, env, reader(files)), { instanceOf: ConfigError });
  t.deepEqual(err?.problems, [
    '--text-port: expected a number, got "abc"',
    '--nope: unknown flag',
    'BABEL_HUB_NOPE: unknown setting',
    'mqtt.zz: unknown setting',
    'mqtt.embedded_port: must be an integer from 0 to 65535',
    '--relay: must be one of auto, always, never',
    'BABEL_HUB_RING_TIMEOUT: must be an integer from 1 to 600',
    'idle_timeout: must be an integer from 5 to 3600',
    'registration: must be one of open, closed',
  ]);
  t.is(err?.message, err?.problems.join('\n'));
});

test('--help and -h return the help text, even beside bad flags; --version is reported', (t) => {
  for (const argv of [['--help'], ['-h'], ['--bogus', '--text-port', 'x', '-h']]) {
    const result = loadHubConfig(argv, {});
    t.is(result.kind, 'help');
    if (result.kind !== 'help') continue;
    for (const flag of ['--config', ...HUB_FLAGS.map((f) => f.flag), '-h, --help', '--version']) {
      t.true(result.text.includes(flag), flag);
    }
    t.true(result.text.startsWith('Usage: babel-hub [--config FILE] [--host ADDR]'));
    t.regex(result.text, /--text-port N +TCP port of the text dialect.*\(default: 4242\)/);
    t.regex(result.text, /--mqtt URL\|embedded\|off +.*\(default: embedded\)/);
    t.regex(result.text, /BABEL_HUB_MQTT__URL/);
    t.true(result.text.split('\n').every((line) => line.length <= 120));
  }
  t.deepEqual(loadHubConfig(['--version'], {}), { kind: 'version' });
});

test('the result names the file it read', (t) => {
  const files = { 'hub.yaml': 'relay: always\n' };
  t.like(loadHubConfig(['--config', 'hub.yaml'], {}, reader(files)), {
    kind: 'config',
    file: 'hub.yaml',
  });
  t.like(loadHubConfig([], {}), { kind: 'config', file: null });
});

test('the hub schema rejects unknown keys everywhere', (t) => {
  t.is(HubConfigSchema.additionalProperties, false);
  t.is(HubConfigSchema.properties.mqtt.additionalProperties, false);
});
