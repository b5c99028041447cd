/**
 * Issue 14's config defects on the device: values YAML reads as something else, ports and
 * GPIO lines out of range, a broken MQTT URL. Each is one `path: message` line, where
 * `path` is what the user typed (the flag, or the setting's dotted path in the file).
 */
import test from 'ava';
import { type DeviceConfig, loadDeviceConfig } from '../../device/config-schema.ts';
import { ConfigError } from '../../shared/config/errors.ts';

function outcome(argv: string[], file?: string): DeviceConfig | string[] {
  const args = file === undefined ? argv : [...argv, '--config', 'device.yaml'];
  try {
    const r = loadDeviceConfig(args, {}, () => file ?? '');
    if (r.kind !== 'config') throw new Error(r.kind);
    return r.config;
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

function load(argv: string[], file?: string): DeviceConfig {
  const r = outcome(argv, file);
  if (Array.isArray(r)) throw new Error(r.join('\n'));
  return r;
}

test('playback: null in YAML is the null speaker, in any spelling of null', (t) => {
  for (const v of ['null', 'Null', 'NULL', '~', '"null"']) {
    t.is(load([], `playback: ${v}\n`).playback, 'null', v);
  }
  t.is(load([], 'playback:\n').playback, 'aplay:default', 'an empty value is the default');
});

test('null where it means nothing is an error that says what to write', (t) => {
  t.deepEqual(outcome([], 'capture: null\n'), [
    'capture: is null (YAML reads null and ~ as no value); must be alsa:PCM, arecord:PCM, file:PATH.wav, tone:HZ or silence, or leave it out for the default',
  ]);
  t.is((outcome([], 'capture: ~\nsecret: ~\n') as string[]).length, 2);
});

test('numbers and booleans where a string is expected are the text as written', (t) => {
  const c = load([], 'name: 1234\nsecret: 0123\ntarget: 101\npanel:\n  1: 202\n');
  t.is(c.name, '1234');
  t.is(c.secret, '0123');
  t.is(c.target, '101');
  t.deepEqual(c.panel, { '1': '202' });
  t.is(load([], 'secret: 1e3\n').secret, '1e3');
  t.is(load([], 'secret: true\n').secret, 'true');
});

test('unquoted yes/no/on/off are booleans as in YAML 1.1; quoted values stay text', (t) => {
  t.true(load([], 'auto_answer: yes\n').auto_answer);
  t.false(load([], 'auto_answer: No\n').auto_answer);
  t.true(load([], 'do_not_disturb: on\n').do_not_disturb);
  t.deepEqual(outcome([], 'auto_answer: "no"\n'), ['auto_answer: must be true or false']);
  t.deepEqual(outcome([], 'media_port: "5006"\n'), [
    'media_port: must be an integer from 0 to 65535',
  ]);
  t.deepEqual(outcome([], 'auto_answer: maybe\n'), ['auto_answer: must be true or false']);
  t.deepEqual(outcome([], 'media_port: five\n'), [
    'media_port: must be an integer from 0 to 65535',
  ]);
});

test('the hub port is checked, and the line names what the user typed', (t) => {
  t.deepEqual(outcome(['--hub', '127.0.0.1:99999']), ['--hub: port 99999 is out of range 1-65535']);
  t.deepEqual(outcome([], 'hub: hub.local:70000\n'), ['hub: port 70000 is out of range 1-65535']);
  t.is(load(['--hub', 'tls://hub.local:65535']).hub, 'tls://hub.local:65535');
});

test('GPIO lines are those of the 40-pin header, BCM 0-27', (t) => {
  const msg = (bcm: number) => `GPIO ${bcm} is not on the Raspberry Pi's 40-pin header (BCM 0-27)`;
  t.deepEqual(outcome([], 'led: gpio:99\n'), [`led: ${msg(99)}`]);
  t.deepEqual(outcome(['--button', 'gpio:17', '--button', 'gpio:28:active_low']), [
    `--button: ${msg(28)}`,
  ]);
  t.deepEqual(outcome([], 'button: [stdin, gpio:40]\n'), [`button[1]: ${msg(40)}`]);
  t.deepEqual(outcome([], 'door:\n  relay: gpio:64\n  button: gpio:30\n'), [
    `door.relay: ${msg(64)}`,
    `door.button: ${msg(30)}`,
  ]);
  const ok = load(
    ['--button', 'gpio:0', '--button', 'gpio:27'],
    'led: gpio:27\ndoor:\n  relay: fake\n',
  );
  t.deepEqual(ok.button, ['gpio:0', 'gpio:27']);
});

test('an MQTT URL that does not parse, or a port out of range, is refused', (t) => {
  t.deepEqual(outcome(['--mqtt', 'mqtt://[broken']), [
    '--mqtt: is not a valid URL (mqtt[s]://HOST[:PORT], port 1-65535)',
  ]);
  t.deepEqual(outcome([], 'mqtt:\n  url: mqtts://broker:99999\n'), [
    'mqtt.url: is not a valid URL (mqtt[s]://HOST[:PORT], port 1-65535)',
  ]);
  t.is(load(['--mqtt', 'mqtts://broker.lan:8883']).mqtt.url, 'mqtts://broker.lan:8883');
  t.is(load(['--mqtt', 'mqtt://[fd00::1]:1883']).mqtt.url, 'mqtt://[fd00::1]:1883');
});
