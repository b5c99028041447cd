/**
 * The one-file device bundle (dist/device/babel-device.mjs, scripts/bundle-device.mjs) is
 * what the systemd unit and the installed `babel-device` run: it must be the same agent as
 * the sources. A bundler breaks what resolves at run time (paths from `import.meta.url`,
 * `require` of native addons, lazy imports), so each of those is exercised here through the
 * bundle itself: the version (package.json found from the bundle's place), a call with
 * audio both ways (the Opus addon), and `--doctor` reaching MQTT (MQTT.js, loaded lazily).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { DeviceProcess } from '../helpers/device.ts';
import { startHub, tempDir } from '../helpers/hub.ts';
import { near, played, size, tones } from '../helpers/speaker-wav.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const BUNDLE = 'dist/device/babel-device.mjs';
const bundle = path.join(root, BUNDLE);
const unit = fs.readFileSync(path.join(root, 'systemd/babel-device.service'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

test('the unit, the installed command and package.json all run the bundle', (t) => {
  t.regex(
    unit,
    /^ExecStart=\/usr\/bin\/node \/opt\/babel-intercom\/dist\/device\/babel-device\.mjs /m,
  );
  t.is(pkg.bin['babel-device'], BUNDLE);
  t.true(fs.existsSync(bundle), `${BUNDLE} missing: npm run build makes it`);
  // One file: no import of our own modules is left for Node to resolve at run time.
  const text = fs.readFileSync(bundle, 'utf8');
  t.notRegex(text, /from\s*["']\.{1,2}\//);
  t.true(text.startsWith('#!/usr/bin/env node\n'));
});

test('the bundle finds its version and prints its usage', async (t) => {
  const version = await run(process.execPath, [bundle, '--version']);
  t.is(version.stdout, `babel-device ${pkg.version}\n`);
  const help = await run(process.execPath, [bundle, '--help']);
  t.regex(help.stdout, /--capture/);
});

test('the bundle loads MQTT.js when --doctor checks the broker', async (t) => {
  const dir = tempDir();
  // Nothing listens on port 1: the check fails on the connection, after MQTT.js loaded.
  const r = await run(process.execPath, [
    bundle,
    '--doctor',
    '--name',
    'door',
    '--state-dir',
    dir,
    '--secret',
    'abcdefghijkmnpqrstuvwxyz23',
    '--hub',
    '127.0.0.1:1',
    '--mqtt',
    'mqtt://127.0.0.1:1',
    '--capture',
    'silence',
    '--playback',
    'null',
    '--button',
    'stdin',
  ]).catch((err: { stdout: string }) => err);
  t.regex(
    r.stdout,
    /^FAIL\s+mqtt\s+cannot log in to mqtt:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/m,
  );
  t.regex(r.stdout, /^ok\s+capture\s+silence opens/m);
});

test.serial('two bundled devices call each other with audio both ways', async (t) => {
  const dir = tempDir();
  const { hub, stop } = await startHub();
  const wav = (n: string) => path.join(dir, `${n}.wav`);
  const args = (n: string, hz: number) => [
    '--hub',
    `127.0.0.1:${hub.textPort}`,
    '--media-port',
    '0',
    '--capture',
    `tone:${hz}`,
    '--playback',
    `file:${wav(n)}`,
    '--button',
    'stdin',
  ];
  const door = new DeviceProcess('door', [...args('door', 440), '--target', 'kitchen'], BUNDLE);
  const kitchen = new DeviceProcess('kitchen', [...args('kitchen', 1000), '--auto-answer'], BUNDLE);
  try {
    await door.waitFor(/connected to the hub/, 20_000);
    await kitchen.waitFor(/connected to the hub/, 20_000);
    door.press();
    await door.waitFor(/talking with kitchen/, 20_000);
    await kitchen.waitFor(/talking with door/, 20_000);
    await Promise.all([
      played(wav('door'), size(wav('door')), 1500),
      played(wav('kitchen'), size(wav('kitchen')), 1500),
    ]);
    door.press();
    await door.waitFor(/hung up on kitchen/);
  } finally {
    t.is(await door.stop(), 0);
    t.is(await kitchen.stop(), 0);
    await stop();
  }
  const atDoor = tones(wav('door'));
  const atKitchen = tones(wav('kitchen'));
  t.true(atDoor.filter((f) => near(f, 1000)).length >= 4, `door heard ${atDoor}`);
  t.true(atKitchen.filter((f) => near(f, 440)).length >= 4, `kitchen heard ${atKitchen}`);
});
