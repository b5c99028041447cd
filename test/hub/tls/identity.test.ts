/**
 * [S-2] The hub's identity: made once by openssl in `<data_dir>/tls/` (private files), kept
 * across restarts, or taken from `tls.cert` / `tls.key`; `babel-hub fingerprint`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Hub } from '../../../hub/main.ts';
import {
  checkConfiguredIdentity,
  IdentityError,
  loadIdentity,
  subjectAltName,
} from '../../../hub/tls/identity.ts';
import { runHubCli, tempDir, testConfig } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';

const mode = (p: string) => fs.statSync(p).mode & 0o777;

/** `sha256:<hex>` of a PEM certificate's DER, computed by openssl itself. */
function opensslFingerprint(certPath: string): string {
  const der = execFileSync('openssl', ['x509', '-in', certPath, '-outform', 'der']);
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

test('[S-2] first start makes an ECDSA P-256 certificate, CN babel-hub, in a private tls/ directory', async (t) => {
  const dataDir = tempDir();
  const id = await loadIdentity({ data_dir: dataDir, tls: {} }, undefined, 'door-pi', [
    '192.168.1.20',
    'fd00::20',
  ]);
  t.true(id.created);
  const dir = path.join(dataDir, 'tls');
  t.is(mode(dir), 0o700);
  t.is(mode(path.join(dir, 'hub.key')), 0o600);
  t.is(fs.statSync(path.join(dir, 'hub.key')).uid, process.getuid?.() ?? -1);
  const text = execFileSync(
    'openssl',
    ['x509', '-in', path.join(dir, 'hub.crt'), '-noout', '-text'],
    {
      encoding: 'utf8',
    },
  );
  t.regex(text, /Subject: CN ?= ?babel-hub/);
  t.regex(text, /id-ecPublicKey/);
  t.regex(text, /prime256v1|P-256/);
  // By name, by mDNS name and by the addresses it had: a client checking names gets in.
  t.regex(
    text,
    /DNS:door-pi, DNS:door-pi\.local, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:192\.168\.1\.20, IP Address:FD00:0:0:0:0:0:0:20/i,
  );
  const notAfter = /Not After : (.+)/.exec(text)?.[1] ?? '';
  t.true(new Date(notAfter).getUTCFullYear() > new Date().getUTCFullYear() + 50, notAfter);
  t.is(id.fingerprint, opensslFingerprint(path.join(dir, 'hub.crt')));
  // No temporary directory is left behind.
  t.deepEqual(fs.readdirSync(dataDir), ['tls']);
});

test('[S-2] kept across restarts: the same certificate and fingerprint', async (t) => {
  const dataDir = tempDir();
  const a = await Hub.start(testConfig([], dataDir), { log: testLog });
  await a.stop();
  const b = await Hub.start(testConfig([], dataDir), { log: testLog });
  await b.stop();
  t.is(a.fingerprint, b.fingerprint);
  t.regex(a.fingerprint, /^sha256:[0-9a-f]{64}$/);
});

test('[S-2] two processes making it at once agree on one identity', async (t) => {
  const dataDir = tempDir();
  const ids = await Promise.all([1, 2, 3].map(() => loadIdentity({ data_dir: dataDir, tls: {} })));
  t.is(new Set(ids.map((i) => i.fingerprint)).size, 1);
  t.is(ids.filter((i) => i.created).length, 1);
  t.deepEqual(fs.readdirSync(dataDir), ['tls']);
});

test('[S-2] openssl failing leaves no identity and no half key; the error says why', async (t) => {
  const dataDir = tempDir();
  const err = await t.throwsAsync(
    loadIdentity({ data_dir: dataDir, tls: {} }, async () => {
      throw new Error('openssl is not installed');
    }),
  );
  t.regex(err?.message ?? '', /openssl is not installed/);
  t.deepEqual(fs.readdirSync(dataDir), []);
  // A crash mid-way (openssl wrote a key, then died) leaves no identity either.
  await t.throwsAsync(
    loadIdentity({ data_dir: dataDir, tls: {} }, async (args) => {
      fs.writeFileSync(args[args.indexOf('-keyout') + 1]!, 'half a key');
      throw new Error('killed');
    }),
  );
  t.deepEqual(fs.readdirSync(dataDir), []);
  const id = await loadIdentity({ data_dir: dataDir, tls: {} });
  t.true(id.created);
});

test('[S-2] tls.cert and tls.key from the config are used as they are', async (t) => {
  const made = await loadIdentity({ data_dir: tempDir(), tls: {} });
  const dir = tempDir();
  const cert = path.join(dir, 'c.pem');
  const key = path.join(dir, 'k.pem');
  fs.copyFileSync(made.certPath, cert);
  fs.copyFileSync(path.join(path.dirname(made.certPath), 'hub.key'), key);
  const dataDir = tempDir();
  const hub = await Hub.start(
    testConfig([], dataDir, {
      BABEL_HUB_TLS__CERT: cert,
      BABEL_HUB_TLS__KEY: key,
      BABEL_HUB_REGISTRATION: 'open',
    }),
    {
      log: testLog,
    },
  );
  await hub.stop();
  t.is(hub.fingerprint, made.fingerprint);
  t.false(fs.existsSync(path.join(dataDir, 'tls')));
  t.is(checkConfiguredIdentity({ data_dir: dataDir, tls: { cert, key } }), null);
});

test('[S-2] unusable tls.cert / tls.key: one clear line naming the setting', async (t) => {
  const a = await loadIdentity({ data_dir: tempDir(), tls: {} });
  const b = await loadIdentity({ data_dir: tempDir(), tls: {} });
  const keyOf = (certPath: string) => path.join(path.dirname(certPath), 'hub.key');
  const dir = tempDir();
  const garbage = path.join(dir, 'garbage.pem');
  fs.writeFileSync(garbage, 'not a pem\n');
  const cases: Array<[string, { cert?: string; key?: string }, RegExp]> = [
    [
      'missing file',
      { cert: path.join(dir, 'nope.pem'), key: keyOf(a.certPath) },
      /^tls\.cert: cannot read .*nope\.pem \(ENOENT\)$/,
    ],
    [
      'not a certificate',
      { cert: garbage, key: keyOf(a.certPath) },
      /^tls\.cert: .* is not a PEM certificate$/,
    ],
    [
      'not a key',
      { cert: a.certPath, key: garbage },
      /^tls\.key: .* is not an unencrypted PEM private key$/,
    ],
    [
      "another certificate's key",
      { cert: a.certPath, key: keyOf(b.certPath) },
      /^tls\.key: .* is not the key of /,
    ],
    ['cert without key', { cert: a.certPath }, /^tls\.key: set it together with tls\.cert$/],
    ['key without cert', { key: keyOf(a.certPath) }, /^tls\.cert: set it together with tls\.key$/],
  ];
  for (const [name, tls, expected] of cases) {
    t.regex(checkConfiguredIdentity({ data_dir: dir, tls }) ?? '', expected, name);
    const err = await t.throwsAsync(loadIdentity({ data_dir: dir, tls }), {
      instanceOf: IdentityError,
    });
    t.regex(err?.message ?? '', expected, name);
  }
});

test('[S-2] babel-hub with an unusable tls.key exits 2 with one line, before starting', async (t) => {
  const dataDir = tempDir();
  const a = await loadIdentity({ data_dir: tempDir(), tls: {} });
  const r = await runHubCli(['--data-dir', dataDir, '--mqtt', 'off'], {
    BABEL_HUB_TLS__CERT: a.certPath,
    BABEL_HUB_TLS__KEY: a.certPath,
  });
  t.is(r.code, 2);
  t.regex(r.stderr, /^tls\.key: .* is not an unencrypted PEM private key\n$/);
});

test("[S-2] babel-hub fingerprint: sha256:<64 lowercase hex> alone on a line, the running hub's", async (t) => {
  const dataDir = tempDir();
  // Without a hub ever started: it makes the identity the hub then uses.
  const first = await runHubCli(['fingerprint', '--data-dir', dataDir]);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /^sha256:[0-9a-f]{64}\n$/);
  t.is(first.stdout.trim(), opensslFingerprint(path.join(dataDir, 'tls', 'hub.crt')));
  const hub = await Hub.start(testConfig([], dataDir), { log: testLog });
  await hub.stop();
  t.is(hub.fingerprint, first.stdout.trim());
  const again = await runHubCli(['fingerprint', '--data-dir', dataDir]);
  t.is(again.stdout, first.stdout);
  t.is(again.stderr, '');
});

test('babel-hub fingerprint: a bad flag is a usage error (2); an unreadable cert is 1', async (t) => {
  const bad = await runHubCli(['fingerprint', '--bogus']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /usage: babel-hub fingerprint/);
  const missing = await runHubCli(['fingerprint', '--data-dir', tempDir()], {
    BABEL_HUB_TLS__CERT: '/nonexistent/hub.crt',
    BABEL_HUB_TLS__KEY: '/nonexistent/hub.key',
  });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /tls\.cert: cannot read \/nonexistent\/hub\.crt/);
  t.is(missing.stdout, '');
});

test('subjectAltName: the hostname when openssl can take it, always localhost and 127.0.0.1', (t) => {
  t.is(subjectAltName('door-pi'), 'DNS:door-pi,DNS:door-pi.local,DNS:localhost,IP:127.0.0.1');
  t.is(subjectAltName('hub.example.org'), 'DNS:hub.example.org,DNS:localhost,IP:127.0.0.1');
  t.is(
    subjectAltName('door-pi', ['192.168.1.20', '127.0.0.1', 'fe80::1%wlan0', 'x', '192.168.1.20']),
    'DNS:door-pi,DNS:door-pi.local,DNS:localhost,IP:127.0.0.1,IP:192.168.1.20,IP:fe80::1',
  );
  t.is(subjectAltName('localhost'), 'DNS:localhost,IP:127.0.0.1');
  t.is(subjectAltName('bad,name'), 'DNS:localhost,IP:127.0.0.1');
  t.is(subjectAltName(''), 'DNS:localhost,IP:127.0.0.1');
});
