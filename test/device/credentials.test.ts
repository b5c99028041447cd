import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { deviceSecret, mqttLogin, resolveStateDir } from '../../device/credentials.ts';
import { lenientSettings } from '../../device/lenient.ts';
import { captureLog } from './capture-log.ts';

function config(argv: string[] = [], file = '') {
  const r = loadDeviceConfig(
    ['--name', 'door', ...(file ? ['--config', 'x'] : []), ...argv],
    {},
    () => file,
  );
  if (r.kind !== 'config') throw new Error(r.kind);
  return r.config;
}

test('[S-6] state directory: state_dir, else $STATE_DIRECTORY (first of a list), else ./data/device-<name>', (t) => {
  const cwd = '/srv/babel';
  t.is(resolveStateDir(config(['--state-dir', 'st']), {}, cwd), '/srv/babel/st');
  t.is(
    resolveStateDir(
      config(['--state-dir', '/x']),
      { STATE_DIRECTORY: '/var/lib/babel-device' },
      cwd,
    ),
    '/x',
  );
  t.is(
    resolveStateDir(config(), { STATE_DIRECTORY: '/var/lib/babel-device:/var/lib/other' }, cwd),
    '/var/lib/babel-device',
  );
  t.is(resolveStateDir(config(), {}, cwd), '/srv/babel/data/device-door');
  t.is(config([], '').state_dir, undefined);
  const viaEnv = loadDeviceConfig([], { BABEL_DEVICE_STATE_DIR: '/e' });
  t.is(viaEnv.kind === 'config' ? viaEnv.config.state_dir : null, '/e');
});

test('[S-6] no secret configured: one is made on first start, logged with its place, never its value', (t) => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'babel-cred-')), 'state');
  t.teardown(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));
  const { log, records, lines } = captureLog('trace');
  const first = deviceSecret(config(['--state-dir', dir]), log, {});
  t.is(first.source, 'created');
  t.is(first.path, path.join(dir, 'secret'));
  t.is(fs.statSync(first.path!).mode & 0o777, 0o600);
  const info = records.filter((r) => r.level === 30);
  t.is(info.length, 1);
  t.is(info[0]!.path, first.path);
  const again = deviceSecret(config(['--state-dir', dir]), log, {});
  t.deepEqual(again, { ...first, source: 'stored' });
  t.false(
    lines.some((l) => l.includes(first.secret)),
    'the secret is never logged',
  );
});

test('[S-6] a configured secret wins; nothing is written', (t) => {
  const dir = path.join(os.tmpdir(), `babel-cred-none-${process.pid}`);
  const { log, records } = captureLog('trace');
  const s = deviceSecret(config(['--secret', 'configured-secret', '--state-dir', dir]), log, {});
  t.deepEqual(s, { secret: 'configured-secret', source: 'config', path: null });
  t.false(fs.existsSync(dir));
  t.deepEqual(records, []);
});

test('[S-9] MQTT login: the device name and secret unless the config says otherwise', (t) => {
  const mqtt = (file: string) => config([], `mqtt:\n${file}`).mqtt;
  t.deepEqual(mqttLogin(mqtt('  url: auto\n'), 'door', 'S'), { username: 'door', password: 'S' });
  t.deepEqual(mqttLogin(mqtt('  username: ha\n  password: pw\n'), 'door', 'S'), {
    username: 'ha',
    password: 'pw',
  });
  t.deepEqual(mqttLogin(mqtt('  username: ha\n'), 'door', 'S'), { username: 'ha' });
  t.deepEqual(mqttLogin(mqtt('  password: pw\n'), 'door', 'S'), {
    username: 'door',
    password: 'pw',
  });
});

test('[S-11] lenient settings: door.from any is named; the defaults are not lenient', (t) => {
  t.deepEqual(lenientSettings(config()), []);
  t.deepEqual(lenientSettings(config([], 'door:\n  from: [kitchen]\n')), []);
  const any = lenientSettings(config([], 'door:\n  from: any\n'));
  t.is(any.length, 1);
  t.regex(any[0]!, /door\.from is any/);
});

test('[S-3, S-11] tcp:// to a remote hub is lenient; loopback and TLS are not', (t) => {
  for (const hub of [
    'hub.local',
    'tls://10.0.0.1',
    '127.0.0.1:4242',
    'tcp://127.0.0.1',
    'tcp://[::1]:4242',
    'tcp://localhost',
  ]) {
    t.deepEqual(lenientSettings(config(['--hub', hub])), [], hub);
  }
  const remote = lenientSettings(config(['--hub', 'tcp://hub.local']));
  t.is(remote.length, 1);
  t.regex(remote[0]!, /hub is tcp:\/\/hub\.local: .* in clear/);
});

test('[S-6] a state directory that cannot be written is a clear start error, not a lockout', (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-cred-ro-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const file = path.join(base, 'not-a-dir');
  fs.writeFileSync(file, 'x');
  const { log } = captureLog();
  const err = t.throws(() =>
    deviceSecret(config(['--state-dir', path.join(file, 'state')]), log, {}),
  );
  t.regex(
    err?.message ?? '',
    /no secret configured, and none can be kept in the state directory .*not-a-dir\/state/,
  );
  t.regex(err?.message ?? '', /set secret, or state_dir to a writable directory/);
});
