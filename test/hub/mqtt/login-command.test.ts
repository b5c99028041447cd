/** [S-9] `babel-hub mqtt-login`: what Home Assistant needs, or a plain reason why not. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { certificateNames, reachableHost, runMqttLogin } from '../../../hub/mqtt/login-command.ts';
import { loadOrCreateMqttLogins } from '../../../hub/mqtt/logins.ts';
import { loadIdentity, runOpenssl } from '../../../hub/tls/identity.ts';
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

/** The hub's identity [S-2] as its first start makes it, on a machine named `babel-pi`. */
async function identityIn(dataDir: string): Promise<string> {
  const id = await loadIdentity({ data_dir: dataDir, tls: {} }, runOpenssl, 'babel-pi', [
    '192.168.1.20',
  ]);
  return id.certPath;
}

const LOOPBACK_ONLY = '(plaintext, this machine only; plaintext: all opens it to the network)';

test('[S-9, extension] prints the TLS port first, the certificate and its host name, the plain port as loopback-only, admin and its password', async (t) => {
  const dir = tempDir();
  const logins = loadOrCreateMqttLogins(dir);
  const cert = await identityIn(dir);
  t.is(cert, path.join(dir, 'tls', 'hub.crt'));
  const r = run(['--data-dir', dir]);
  t.is(r.code, 0, r.err);
  t.is(
    r.out,
    `host: 192.168.1.20\ntls_port: 8883\ntls_host: babel-pi\ncertificate: ${cert}\nport: 1883 ${LOOPBACK_ONLY}\nusername: admin\npassword: ${logins.admin.password}\n`,
  );
  t.is(
    r.err,
    `note: Home Assistant (docs/home-assistant.md): TLS to babel-pi:8883 with a copy of ${cert} as its CA file; the certificate names babel-pi, babel-pi.local, localhost, 127.0.0.1, 192.168.1.20\n`,
  );
  t.false(r.out.includes(logins.hub.password));
});

test('finds the data dir and broker settings through --config, as `babel-hub user` does', async (t) => {
  const dir = tempDir();
  const logins = loadOrCreateMqttLogins(path.join(dir, 'data'));
  const cert = await identityIn(path.join(dir, 'data'));
  const file = path.join(dir, 'hub.yaml');
  fs.writeFileSync(
    file,
    `version: 1\ndata_dir: ${path.join(dir, 'data')}\nmqtt:\n  embedded_host: 10.0.0.5\n  embedded_port: 11883\n`,
  );
  const r = run(['--config', file]);
  t.is(r.code, 0, r.err);
  // An explicit LAN address carries TLS; plaintext stays on this machine [S-1 rule].
  t.is(
    r.out,
    `host: 10.0.0.5\ntls_port: 8883\ntls_host: babel-pi\ncertificate: ${cert}\nport: 11883 ${LOOPBACK_ONLY}\nusername: admin\npassword: ${logins.admin.password}\n`,
  );
});

test('[S-1, S-11] the plain port line follows plaintext: all (open to the network) and off (none)', async (t) => {
  const dir = tempDir();
  loadOrCreateMqttLogins(dir);
  await identityIn(dir);
  const all = run(['--data-dir', dir, '--plaintext', 'all']);
  t.is(all.code, 0, all.err);
  t.regex(
    all.out,
    /^tls_port: 8883\n(.*\n){2}port: 1883 \(plaintext, open to the network: plaintext: all\)$/m,
  );
  const off = run(['--data-dir', dir], { BABEL_HUB_PLAINTEXT: 'off' });
  t.is(off.code, 0, off.err);
  t.regex(off.out, /^port: none \(plaintext: off\)$/m);
  // A broker bound to loopback itself: plaintext there too, still this machine only.
  const lo = run(['--data-dir', dir], { BABEL_HUB_MQTT__EMBEDDED_HOST: '127.0.0.1' });
  t.regex(lo.out, /^host: 127\.0\.0\.1\n/);
  t.true(lo.out.includes(`port: 1883 ${LOOPBACK_ONLY}\n`));
});

test('certificateNames: the SAN names and addresses; null for a file that is not one', async (t) => {
  const dir = tempDir();
  t.deepEqual(certificateNames(await identityIn(dir)), [
    'babel-pi',
    'babel-pi.local',
    'localhost',
    '127.0.0.1',
    '192.168.1.20',
  ]);
  t.is(certificateNames(path.join(dir, 'nope.crt')), null);
  fs.writeFileSync(path.join(dir, 'bad.crt'), 'not a certificate');
  t.is(certificateNames(path.join(dir, 'bad.crt')), null);
});

test('no certificate yet: the lines without tls_host, and a note saying so', (t) => {
  const dir = tempDir();
  loadOrCreateMqttLogins(dir);
  const r = run(['--data-dir', dir]);
  t.is(r.code, 0, r.err);
  t.false(r.out.includes('tls_host'));
  t.regex(r.out, /^tls_port: 8883\ncertificate: .*hub\.crt\nport: 1883 /m);
  t.regex(r.err, /cannot read a host name in the hub's certificate/);
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
