import test from 'ava';
import {
  type DeviceConfig,
  type HubAddress,
  loadDeviceConfig,
  parseHubAddress,
} from '../../device/config-schema.ts';
import { brokerUrlFor } from '../../device/hub-address.ts';
import { ConfigError } from '../../shared/config/errors.ts';

function load(argv: string[], env: NodeJS.ProcessEnv = {}, file = ''): DeviceConfig {
  const r = loadDeviceConfig(argv, env, () => file);
  if (r.kind !== 'config') throw new Error(r.kind);
  return r.config;
}

function problems(argv: string[], env: NodeJS.ProcessEnv = {}, file = ''): string[] {
  try {
    load(argv, env, file);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

test('defaults per interfaces.md', (t) => {
  const c = load([]);
  t.like(c, {
    hub: '127.0.0.1:4242',
    media_port: 5004,
    capture: 'alsa:default',
    playback: 'aplay:default',
  });
  t.deepEqual(c.button, []);
  t.is(c.mqtt.url, 'auto');
  t.is(c.debounce_ms, 30);
  t.is(c.long_press_ms, 1000);
  t.false(c.auto_answer);
});

test('flags: repeatable --button, --target, --mqtt off, env and file', (t) => {
  const c = load(
    [
      '--button',
      'gpio:17:active_low',
      '--button',
      'evdev:/dev/input/event0:28',
      '--target',
      'kitchen',
      '--mqtt',
      'off',
      '--config',
      'x.yaml',
    ],
    { BABEL_DEVICE_SECRET: 's3cret' },
    'name: door\npanel:\n  "1": flat-1\n  "2": flat-2\ndoor:\n  relay: gpio:22\n',
  );
  t.deepEqual(c.button, ['gpio:17:active_low', 'evdev:/dev/input/event0:28']);
  t.is(c.target, 'kitchen');
  t.is(c.mqtt.url, 'off');
  t.is(c.secret, 's3cret');
  t.is(c.name, 'door');
  t.deepEqual(c.panel, { '1': 'flat-1', '2': 'flat-2' });
  t.is(c.door.relay, 'gpio:22');
});

const bad: Array<[string[], string]> = [
  [
    ['--capture', 'mic'],
    '--capture: must be alsa:PCM, arecord:PCM, file:PATH.wav, tone:HZ or silence',
  ],
  [['--playback', 'speaker'], '--playback: must be aplay:PCM, file:PATH.wav or null'],
  [
    ['--button', 'gpio:x'],
    '--button: must be gpio:BCM[:active_low], evdev:PATH[:KEYCODE], serial:PATH[:BAUD] or stdin',
  ],
  [['--hub', 'a b'], '--hub: must be HOST[:PORT], tls://HOST[:PORT] or tcp://HOST[:PORT]'],
  [['--hub', 'udp://hub'], '--hub: must be HOST[:PORT], tls://HOST[:PORT] or tcp://HOST[:PORT]'],
  [['--hub', 'tls://'], '--hub: must be HOST[:PORT], tls://HOST[:PORT] or tcp://HOST[:PORT]'],
  [['--hub', 'hub:'], '--hub: must be HOST[:PORT], tls://HOST[:PORT] or tcp://HOST[:PORT]'],
  [['--hub', 'hub:99999'], '--hub: port 99999 is out of range 1-65535'],
  [['--hub', 'tls://hub:0'], '--hub: port 0 is out of range 1-65535'],
  [['--hub', '[1.2.3.4]'], '--hub: 1.2.3.4 is not an IPv6 address'],
  [
    ['--hub-fingerprint', 'abc'],
    '--hub-fingerprint: must be sha256: and 64 hex digits, as `babel-hub fingerprint` prints it',
  ],
  [['--media-port', '70000'], '--media-port: must be an integer from 0 to 65535'],
  [['--mqtt', 'tcp://x'], '--mqtt: must be auto, off, or an mqtt:// or mqtts:// URL'],
];
for (const [argv, line] of bad) {
  test(`bad: ${argv.join(' ')}`, (t) => {
    t.deepEqual(problems(argv), [line]);
  });
}

/** [S-3] What `hub` means: transport, host and port. */
const hubs: Array<[string, HubAddress]> = [
  ['hub.local', { host: 'hub.local', port: 4342, transport: 'tls', forced: false }],
  ['hub.local:5000', { host: 'hub.local', port: 5000, transport: 'tls', forced: false }],
  ['10.0.0.1', { host: '10.0.0.1', port: 4342, transport: 'tls', forced: false }],
  ['[fd00::1]:4343', { host: 'fd00::1', port: 4343, transport: 'tls', forced: false }],
  // Loopback: the seed's plaintext, as before.
  ['127.0.0.1:4242', { host: '127.0.0.1', port: 4242, transport: 'tcp', forced: false }],
  ['127.0.0.1', { host: '127.0.0.1', port: 4242, transport: 'tcp', forced: false }],
  ['127.1.2.3', { host: '127.1.2.3', port: 4242, transport: 'tcp', forced: false }],
  ['localhost', { host: 'localhost', port: 4242, transport: 'tcp', forced: false }],
  ['LocalHost:4000', { host: 'LocalHost', port: 4000, transport: 'tcp', forced: false }],
  ['[::1]:4242', { host: '::1', port: 4242, transport: 'tcp', forced: false }],
  ['[::1]', { host: '::1', port: 4242, transport: 'tcp', forced: false }],
  ['[::ffff:127.0.0.1]', { host: '::ffff:127.0.0.1', port: 4242, transport: 'tcp', forced: false }],
  // Look-alikes of loopback are not.
  ['128.0.0.1', { host: '128.0.0.1', port: 4342, transport: 'tls', forced: false }],
  [
    'localhost.example.com',
    { host: 'localhost.example.com', port: 4342, transport: 'tls', forced: false },
  ],
  [
    '127.0.0.1.example.com',
    { host: '127.0.0.1.example.com', port: 4342, transport: 'tls', forced: false },
  ],
  // Forced either way.
  ['tls://127.0.0.1', { host: '127.0.0.1', port: 4342, transport: 'tls', forced: true }],
  ['tls://127.0.0.1:9000', { host: '127.0.0.1', port: 9000, transport: 'tls', forced: true }],
  ['tls://hub.local', { host: 'hub.local', port: 4342, transport: 'tls', forced: true }],
  ['tcp://hub.local', { host: 'hub.local', port: 4242, transport: 'tcp', forced: true }],
  ['tcp://10.0.0.1:4000', { host: '10.0.0.1', port: 4000, transport: 'tcp', forced: true }],
  ['tcp://[fd00::2]', { host: 'fd00::2', port: 4242, transport: 'tcp', forced: true }],
];
test('[S-3] hub address parsing: tls:// and tcp:// force, a loopback host is plaintext', (t) => {
  for (const [hub, address] of hubs) {
    t.deepEqual(parseHubAddress(hub), address, hub);
    t.is(load(['--hub', hub]).hub, hub, `${hub} passes validation`);
  }
  t.throws(() => parseHubAddress('hub:0'), { instanceOf: RangeError, message: /out of range/ });
});

test('[S-3] mqtt auto: the broker on the hub host, whatever the form', (t) => {
  t.is(brokerUrlFor('hub.local'), 'mqtt://hub.local:1883');
  t.is(brokerUrlFor('tls://10.0.0.1:4342'), 'mqtt://10.0.0.1:1883');
  t.is(brokerUrlFor('tcp://hub.local:4242'), 'mqtt://hub.local:1883');
  t.is(brokerUrlFor('[fd00::1]:4342'), 'mqtt://[fd00::1]:1883');
  t.is(brokerUrlFor('127.0.0.1:4242'), 'mqtt://127.0.0.1:1883');
});

test('[S-3] hub_fingerprint: flag, file and environment, bare or as openssl prints it', (t) => {
  const hex = 'ab'.repeat(32);
  t.is(load(['--hub-fingerprint', `sha256:${hex}`]).hub_fingerprint, `sha256:${hex}`);
  t.is(
    load([], { BABEL_DEVICE_HUB_FINGERPRINT: `sha256:${hex}` }).hub_fingerprint,
    `sha256:${hex}`,
  );
  const pairs = `sha256:${'AB:'.repeat(31)}AB`;
  t.is(load(['--config', 'd.yaml'], {}, `hub_fingerprint: "${pairs}"\n`).hub_fingerprint, pairs);
  t.is(load([]).hub_fingerprint, undefined);
});

test('--button evdev accepts the key code by name, as --list-buttons prints it', (t) => {
  t.deepEqual(load(['--button', 'evdev:/dev/input/by-path/platform-intercom-event:BTN_0']).button, [
    'evdev:/dev/input/by-path/platform-intercom-event:BTN_0',
  ]);
  t.deepEqual(load(['--button', 'evdev:/dev/input/event0:KEY_ENTER']).button, [
    'evdev:/dev/input/event0:KEY_ENTER',
  ]);
});

test('audio: echo control, mic gain and speaker volume with their defaults and ranges', (t) => {
  t.like(load([]).audio, {
    echo: 'aec',
    mic_gain_db: 0,
    speaker_volume: 100,
    noise_suppression: false,
    auto_gain: false,
  });
  t.false(load([]).sound_check);
  t.true(load(['--sound-check']).sound_check);
  t.like(
    load(
      ['--config', 'x.yaml'],
      {},
      'audio:\n  echo: duck\n  mic_gain_db: 12.5\n  speaker_volume: 40\n',
    ).audio,
    { echo: 'duck', mic_gain_db: 12.5, speaker_volume: 40 },
  );
  const bad = problems(
    ['--config', 'x.yaml'],
    {},
    'audio:\n  echo: cancel\n  mic_gain_db: 31\n  speaker_volume: 101\n  auto_gain: yes please\n',
  );
  t.is(bad.length, 4, bad.join('\n'));
  t.true(bad.some((p) => /^audio\.echo: must be aec, duck or off/.test(p)));
  t.true(bad.some((p) => /^audio\.mic_gain_db: /.test(p)));
  t.true(bad.some((p) => /^audio\.speaker_volume: /.test(p)));
  t.true(bad.some((p) => /^audio\.auto_gain: /.test(p)));
  t.is(problems(['--config', 'x.yaml'], {}, 'audio:\n  speaker_volume: -1\n').length, 1);
  t.is(problems(['--config', 'x.yaml'], {}, 'audio:\n  speaker_volume: 50.5\n').length, 1);
});

test('[G-2] a page button: flags or file; it needs the group it pages', (t) => {
  t.deepEqual(load(['--page-button', 'gpio:27', '--page-target', 'floors']).page, {
    button: 'gpio:27',
    target: 'floors',
  });
  t.deepEqual(load(['--config', 'x.yaml'], {}, 'page:\n  button: stdin\n  target: floors\n').page, {
    button: 'stdin',
    target: 'floors',
  });
  t.deepEqual(load([]).page, {});
  t.deepEqual(problems(['--page-button', 'gpio:27']), [
    'page.target: required with page.button (the group it pages)',
  ]);
  t.deepEqual(problems(['--page-button', 'gpio:27', '--page-target', 'the floors']), [
    '--page-target: must be a group or user name',
  ]);
});
