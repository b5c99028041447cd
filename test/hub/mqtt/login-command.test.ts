/** [S-9] `babel-hub mqtt-login`: what Home Assistant needs, or a plain reason why not. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { reachableHost, runMqttLogin } from '../../../hub/mqtt/login-command.ts';
import { loadOrCreateMqttLogins } from '../../../hub/mqtt/logins.ts';
import { tempDir } from '../../helpers/hub.ts';

const LAN = () => ({
  lo: [
    {
      address: '127.0.0.1',
      family: 'IPv4' as const,
      internal: true,
      netmask: '255.0.0.0',
      mac: '00:00:00:00:00:00',
      cidr: '127.0.0.1/8',
    },
  ],
  eth0: [
    {
      address: 'fe80::1',
      family: 'IPv6' as const,
      internal: false,
      netmask: 'ffff:ffff:ffff:ffff::',
      mac: '02:00:00:00:00:01',
      cidr: 'fe80::1/64',
      scopeid: 2,
    },
    {
      address: '192.168.1.20',
      family: 'IPv4' as const,
      internal: false,
      netmask: '255.255.255.0',
      mac: '02:00:00:00:00:01',
      cidr: '192.168.1.20/24',
    },
  ],
});

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = runMqttLogin(argv, env, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    interfaces: LAN,
  });
  return { code, out, err };
}

test('prints host, port, admin and its password as plain lines', (t) => {
  const dir = tempDir();
  const logins = loadOrCreateMqttLogins(dir);
  const r = run(['--data-dir', dir]);
  t.is(r.code, 0, r.err);
  t.is(
    r.out,
    `host: 192.168.1.20\nport: 1883\ntls_port: 8883\nusername: admin\npassword: ${logins.admin.password}\n`,
  );
  t.false(r.out.includes(logins.hub.password));
});

test('finds the data dir and broker settings through --config, as `babel-hub user` does', (t) => {
  const dir = tempDir();
  const logins = loadOrCreateMqttLogins(path.join(dir, 'data'));
  const file = path.join(dir, 'hub.yaml');
  fs.writeFileSync(
    file,
    `version: 1\ndata_dir: ${path.join(dir, 'data')}\nmqtt:\n  embedded_host: 10.0.0.5\n  embedded_port: 11883\n`,
  );
  const r = run(['--config', file]);
  t.is(r.code, 0, r.err);
  t.is(
    r.out,
    `host: 10.0.0.5\nport: 11883\ntls_port: 8883\nusername: admin\npassword: ${logins.admin.password}\n`,
  );
});

test('a hub that never started: says so plainly, exits 1, makes nothing', (t) => {
  const dir = tempDir();
  const r = run(['--data-dir', dir]);
  t.is(r.code, 1);
  t.is(r.out, '');
  t.regex(r.err, /no MQTT logins in .*start it once/);
  t.deepEqual(fs.readdirSync(dir), []);
});

test('another broker or MQTT off: nothing to print, says why', (t) => {
  const dir = tempDir();
  loadOrCreateMqttLogins(dir);
  const off = run(['--data-dir', dir, '--mqtt', 'off']);
  t.is(off.code, 1);
  t.regex(off.err, /MQTT off/);
  const ext = run(['--data-dir', dir], { BABEL_HUB_MQTT__URL: 'mqtt://broker.lan:1883' });
  t.is(ext.code, 1);
  t.regex(ext.err, /mqtt:\/\/broker\.lan:1883.*An external broker/);
  t.is(ext.out, '');
});

test('a bad flag or config is a usage error (2)', (t) => {
  const r = run(['--no-such-flag']);
  t.is(r.code, 2);
  t.regex(r.err, /--no-such-flag: unknown flag/);
  t.regex(r.err, /usage: babel-hub mqtt-login/);
});

test('a damaged logins file: its message, exit 1', (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'mqtt-logins.json'), '{');
  const r = run(['--data-dir', dir]);
  t.is(r.code, 1);
  t.regex(r.err, /damaged; remove it/);
});

test('reachableHost: the bind address, or for a wildcard the first LAN IPv4 address', (t) => {
  t.is(reachableHost('10.1.2.3', LAN), '10.1.2.3');
  t.is(reachableHost('0.0.0.0', LAN), '192.168.1.20');
  t.is(reachableHost('::', LAN), '192.168.1.20');
  t.is(
    reachableHost('0.0.0.0', () => ({})),
    os.hostname(),
  );
});

test('babel-hub mqtt-login runs from the command line', async (t) => {
  const dir = tempDir();
  const logins = loadOrCreateMqttLogins(dir);
  const bin = path.resolve(import.meta.dirname, '../../../hub/bin.ts');
  const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', bin, 'mqtt-login', '--data-dir', dir],
      (_err, stdout) => resolve({ code: child.exitCode, stdout }),
    );
  });
  t.is(out.code, 0);
  t.regex(out.stdout, new RegExp(`^username: admin\\npassword: ${logins.admin.password}$`, 'm'));
});
