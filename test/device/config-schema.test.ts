import test from 'ava';
import {
  type DeviceConfig,
  loadDeviceConfig,
  parseHubAddress,
} from '../../device/config-schema.ts';
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
  [['--hub', 'a b'], '--hub: must be HOST or HOST:PORT'],
  [['--media-port', '70000'], '--media-port: must be an integer from 0 to 65535'],
  [['--mqtt', 'tcp://x'], '--mqtt: must be auto, off, or an mqtt:// or mqtts:// URL'],
];
for (const [argv, line] of bad) {
  test(`bad: ${argv.join(' ')}`, (t) => {
    t.deepEqual(problems(argv), [line]);
  });
}

test('hub address parsing', (t) => {
  t.deepEqual(parseHubAddress('hub.local'), { host: 'hub.local', port: 4242 });
  t.deepEqual(parseHubAddress('10.0.0.1:5000'), { host: '10.0.0.1', port: 5000 });
  t.deepEqual(parseHubAddress('[::1]:4242'), { host: '::1', port: 4242 });
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
