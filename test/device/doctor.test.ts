/**
 * `babel-device --doctor` against a real hub on loopback (TLS link, embedded broker in
 * TLS) with fake hardware: the shipped audio fakes (`tone:`, `null`, `file:`) and a fake
 * GPIO sysfs tree with `FakeGpioBank`. All pass; then one test per failing check.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { formatCheck, runDoctor, verdict } from '../../device/doctor.ts';
import { FakeGpioBank } from '../../device/io/fake-gpio.ts';
import { AccountStore } from '../../hub/store/accounts.ts';
import { openDatabase } from '../../hub/store/db.ts';
import { SEED_ENV, startHub, type TestHub, tempDir } from '../helpers/hub.ts';
import { testLog } from '../helpers/log.ts';
import { freePort } from '../helpers/mosquitto.ts';

const SECRET = 'doctor-secret-0123456789';

/** A fake `/sys/class/gpio` of a Pi 4 (header chip at base 512). */
function fakeSysfs(): string {
  const root = tempDir('babel-gpio-');
  fs.writeFileSync(path.join(root, 'export'), '');
  fs.writeFileSync(path.join(root, 'unexport'), '');
  const chip = path.join(root, 'gpiochip512');
  fs.mkdirSync(chip);
  fs.writeFileSync(path.join(chip, 'base'), '512\n');
  fs.writeFileSync(path.join(chip, 'label'), 'pinctrl-bcm2711\n');
  fs.writeFileSync(path.join(chip, 'ngpio'), '58\n');
  return root;
}

let hub: TestHub;

test.before(async () => {
  const dataDir = tempDir();
  const store = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  await store.createUser({ name: 'door', secret: SECRET });
  store.close();
  hub = await startHub(['--mqtt', 'embedded'], {}, dataDir, {
    ...SEED_ENV,
    BABEL_HUB_MQTT__EMBEDDED_HOST: '127.0.0.1',
    BABEL_HUB_MQTT__EMBEDDED_PORT: '0',
    BABEL_HUB_MQTT__EMBEDDED_TLS_PORT: '0',
  });
});

test.after.always(async () => {
  await hub?.stop();
});

/** The doctor with the hub's TLS link, pin and broker, `extra` flags last. */
async function doctor(extra: string[] = [], sysfsRoot = fakeSysfs()) {
  const h = hub.hub;
  const argv = [
    '--name',
    'door',
    '--hub',
    `tls://127.0.0.1:${h.textTlsPort}`,
    '--hub-fingerprint',
    h.fingerprint,
    '--secret',
    SECRET,
    '--state-dir',
    tempDir(),
    '--capture',
    'tone:440',
    '--playback',
    'null',
    '--button',
    'gpio:17',
    '--mqtt',
    `mqtts://127.0.0.1:${h.mqttTlsPort}`,
    ...extra,
  ];
  const loaded = loadDeviceConfig(argv, {});
  if (loaded.kind !== 'config') throw new Error('help');
  const bank = new FakeGpioBank();
  let out = '';
  const code = await runDoctor(loaded.config, {
    log: testLog,
    env: {},
    print: (text) => {
      out += text;
    },
    sysfsRoot,
    gpioFactory: bank.factory,
    // A bound against a hang, not a speed check: a loaded machine takes seconds for TLS.
    timeoutMs: 30_000,
  });
  /** The line of check `name`. */
  const line = (name: string) =>
    out.split('\n').find((l) => l.slice(6).startsWith(name.padEnd(10))) ?? '';
  return { code, out, line, bank };
}

test('a working device: every check ok, verdict passed, exit 0; GPIO lines released', async (t) => {
  const r = await doctor();
  t.is(r.code, 0, r.out);
  for (const name of ['config', 'hub', 'tls pin', 'capture', 'playback', 'media', 'gpio', 'mqtt']) {
    t.regex(r.line(name), /^ok {4}/, `${name}: ${r.out}`);
  }
  t.regex(r.line('tls pin'), /sha256:[0-9a-f]{64} matches hub_fingerprint/);
  t.regex(r.line('mqtt'), /logged in to mqtts:\/\/127\.0\.0\.1:\d+ as door/);
  t.regex(r.line('gpio'), /gpio:17 free/);
  t.regex(
    r.line('media'),
    /^ok {4}media {5}native loop \(babel-media\): capture tone, speaker null, echo off$/,
  );
  t.regex(r.out, /verdict: all 8 checks passed: this device is ready\n$/);
  t.false(r.out.includes(SECRET));
  // The line was opened and let go again.
  t.is(r.bank.created.length, 1);
  t.false(r.bank.created[0]!.exported);
});

test('a device never started (no pin, nothing recorded): pin and MQTT skipped, exit 0, nothing written', async (t) => {
  const state = tempDir();
  const loaded = loadDeviceConfig(
    [
      '--name',
      'door',
      '--hub',
      `tls://127.0.0.1:${hub.hub.textTlsPort}`,
      '--state-dir',
      state,
      '--secret',
      SECRET,
      '--capture',
      'silence',
      '--playback',
      'null',
      '--mqtt',
      `mqtts://127.0.0.1:${hub.hub.mqttTlsPort}`,
    ],
    {},
  );
  if (loaded.kind !== 'config') throw new Error('help');
  let out = '';
  const code = await runDoctor(loaded.config, {
    log: testLog,
    env: {},
    print: (text) => {
      out += text;
    },
    // A bound against a hang, not a speed check: a loaded machine takes seconds for TLS.
    timeoutMs: 30_000,
  });
  t.is(code, 0, out);
  t.regex(out, /skip {2}tls pin {3}not paired yet: the hub presents sha256:[0-9a-f]{64}/);
  t.regex(out, /skip {2}mqtt {6}not paired with the hub yet/);
  // The doctor made no secret and recorded no fingerprint.
  t.deepEqual(fs.readdirSync(state), []);
});

test('no secret configured or stored: the MQTT login is skipped, and none is made', async (t) => {
  const state = tempDir();
  const loaded = loadDeviceConfig(
    [
      '--name',
      'door',
      '--hub',
      `tls://127.0.0.1:${hub.hub.textTlsPort}`,
      '--hub-fingerprint',
      hub.hub.fingerprint,
      '--state-dir',
      state,
      '--capture',
      'silence',
      '--playback',
      'null',
      '--mqtt',
      `mqtt://127.0.0.1:${hub.hub.mqttPort}`,
    ],
    {},
  );
  if (loaded.kind !== 'config') throw new Error('help');
  let out = '';
  const code = await runDoctor(loaded.config, {
    log: testLog,
    env: {},
    print: (text) => {
      out += text;
    },
    // A bound against a hang, not a speed check: a loaded machine takes seconds for TLS.
    timeoutMs: 30_000,
  });
  t.is(code, 0, out);
  t.regex(
    out,
    /config {4}door, hub tls:\/\/127\.0\.0\.1:\d+, secret in .*secret \(made at first start if missing\)/,
  );
  t.regex(out, /skip {2}mqtt {6}no secret yet: the device makes one at its first start/);
  t.deepEqual(fs.readdirSync(state), []);
});

test('wrong pin: tls pin FAIL with what to do, exit 1', async (t) => {
  const r = await doctor(['--hub-fingerprint', `sha256:${'ab'.repeat(32)}`]);
  t.is(r.code, 1);
  t.regex(r.line('hub'), /^ok/);
  t.regex(
    r.line('tls pin'),
    /^FAIL {2}tls pin {3}the hub presents sha256:[0-9a-f]{64}, expected sha256:(ab){32} \(hub_fingerprint\)/,
  );
  t.regex(r.out, /-> if the hub really has a new certificate, set hub_fingerprint/);
  t.regex(r.out, /verdict: \d of 8 checks FAILED \(tls pin.*\)/);
});

test('hub down: hub FAIL, the pin skipped, exit 1', async (t) => {
  const port = await freePort();
  const r = await doctor(['--hub', `tls://127.0.0.1:${port}`, '--mqtt', 'off']);
  t.is(r.code, 1);
  t.regex(
    r.line('hub'),
    new RegExp(`^FAIL  hub {7}cannot connect to 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
  );
  t.regex(r.out, /-> nothing listens there: start the hub/);
  t.regex(r.line('tls pin'), /^skip/);
  t.regex(r.line('mqtt'), /^skip {2}mqtt {6}MQTT is off/);
  t.regex(r.out, /verdict: 1 of 8 checks FAILED \(hub\)/);
});

test('sound card missing: capture and playback FAIL, exit 1', async (t) => {
  const gone = path.join(tempDir(), 'no-such-dir');
  const r = await doctor([
    '--capture',
    `file:${gone}/mic.wav`,
    '--playback',
    `file:${gone}/speaker.wav`,
  ]);
  t.is(r.code, 1);
  t.regex(r.line('capture'), /^FAIL {2}capture {3}file:.*mic\.wav does not open: /);
  t.regex(r.line('playback'), /^FAIL {2}playback {2}file:.*speaker\.wav (does not open|failed): /);
  t.regex(r.out, /-> `babel-device --list-audio` lists the sound cards/);
  t.regex(r.out, /verdict: 2 of 8 checks FAILED \(capture, playback\)/);
});

test('sound card missing, with the real alsa-utils: arecord and aplay on a card that is not there', async (t) => {
  if (!fs.existsSync('/usr/bin/arecord') || !fs.existsSync('/usr/bin/aplay')) {
    t.pass('alsa-utils not installed');
    return;
  }
  const r = await doctor(['--capture', 'arecord:hw:29', '--playback', 'aplay:hw:29']);
  t.is(r.code, 1);
  t.regex(r.line('capture'), /^FAIL {2}capture {3}arecord:hw:29 (does not open|failed): /);
  t.regex(r.line('playback'), /^FAIL {2}playback {2}aplay:hw:29 (does not open|failed): /);
});

test('MQTT refused: a wrong secret is refused by the broker, exit 1', async (t) => {
  const r = await doctor(['--secret', 'not-the-secret-of-door']);
  t.is(r.code, 1);
  t.regex(
    r.line('mqtt'),
    /^FAIL {2}mqtt {6}the broker at mqtts:\/\/127\.0\.0\.1:\d+ refused the login door/,
  );
  t.regex(r.out, /-> on the hub this device logs in with its name and secret/);
  t.false(r.out.includes('not-the-secret-of-door'));
  t.regex(r.out, /verdict: 1 of 8 checks FAILED \(mqtt\)/);
});

test('GPIO line in use (exported by another program): gpio FAIL, exit 1', async (t) => {
  const root = fakeSysfs();
  fs.mkdirSync(path.join(root, 'gpio529')); // BCM 17 on a chip at 512
  const r = await doctor(['--button', 'gpio:5'], root);
  t.is(r.code, 1);
  t.regex(
    r.line('gpio'),
    /^FAIL {2}gpio {6}button gpio:17: line 529 is in use \(exported\) by another program/,
  );
  t.false(r.line('gpio').includes('gpio:5:'));
  t.regex(r.out, /sudo systemctl stop babel-device/);
});

test('formatCheck and verdict: the columns and the words', (t) => {
  t.is(formatCheck('hub', { status: 'ok', detail: 'x' }), 'ok    hub       x\n');
  t.is(
    formatCheck('mqtt', { status: 'FAIL', detail: 'y', fix: 'do z' }),
    'FAIL  mqtt      y\n                -> do z\n',
  );
  t.is(
    verdict([
      { name: 'a', result: { status: 'ok', detail: '' } },
      { name: 'b', result: { status: 'skip', detail: '' } },
    ]),
    'verdict: all 2 checks passed (1 skipped): this device is ready\n',
  );
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = path.resolve(import.meta.dirname, '../../device/bin.ts');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', bin, ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test('babel-device --doctor: exit 0 on a working device, 2 on a bad config', async (t) => {
  const h = hub.hub;
  const good = await runCli([
    '--doctor',
    '--name',
    'door',
    '--hub',
    `tls://127.0.0.1:${h.textTlsPort}`,
    '--hub-fingerprint',
    h.fingerprint,
    '--secret',
    SECRET,
    '--state-dir',
    tempDir(),
    '--capture',
    'silence',
    '--playback',
    'null',
    '--mqtt',
    `mqtts://127.0.0.1:${h.mqttTlsPort}`,
  ]);
  t.is(good.code, 0, good.stdout + good.stderr);
  t.regex(good.stdout, /^ok {4}config {4}door, hub tls:\/\/127\.0\.0\.1:\d+, secret configured\n/);
  t.regex(good.stdout, /skip {2}gpio {6}no GPIO lines configured\n/);
  t.regex(good.stdout, /verdict: all 8 checks passed \(1 skipped\)/);
  const bad = await runCli(['--doctor', '--name', 'door', '--hub', '127.0.0.1:99999']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /hub: port 99999 is out of range/);
});
