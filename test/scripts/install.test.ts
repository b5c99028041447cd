/**
 * scripts/install.sh: usage errors, the dry-run plan (which must change nothing), a real
 * installation into a throwaway root (`--root`, `--skip-build`, `--no-apt`) run twice
 * (the config templates are checked in templates.test.ts).
 *
 * Nothing here touches the system: every run has `--root <temp dir>`, and the commands
 * that change a system (apt-get, systemctl, useradd, usermod, chown, npm) are shadowed on
 * PATH by stubs that record the call and fail, so a slip would show as a test failure.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { loadHubConfig } from '../../hub/config-schema.ts';
import { AccountStore } from '../../hub/store/accounts.ts';
import { openDatabase } from '../../hub/store/db.ts';
import { makeCert, tlsFront } from '../helpers/tls-hub.ts';
import {
  existingCommand,
  existingGroups,
  fakeCheckout,
  HUB_SHIM,
  install,
  repo,
  script,
  snapshot,
  stubs,
  tempDir,
} from './fixtures/install.ts';

const STEPS = [
  'Node.js 20 or newer',
  'Debian packages',
  'System user babel',
  'Application in',
  'Node dependencies and build',
  'systemd units in',
  'Commands babel-hub and babel-device in',
  'Configuration in',
  'Services',
  'Next steps',
];

// --- options -------------------------------------------------------------------------

const usageErrors: [string[], RegExp][] = [
  [[], /--role is required/],
  [['--role', 'door'], /--role must be hub, device or both/],
  [['--role', 'device'], /--role device needs --hub HOST/],
  [['--role', 'both', '--hub', 'pi1.local'], /--hub is for --role device/],
  [['--role', 'hub', '--name', 'door'], /--name names a device/],
  [['--role', 'both', '--name', 'Front Door'], /--name must be 1-32 of a-z/],
  [['--role', 'device', '--hub', 'pi1.local; rm -rf /'], /--hub must be HOST or HOST:PORT/],
  [['--role', 'device', '--hub', 'udp://pi1.local'], /--hub must be HOST or HOST:PORT/],
  [['--role', 'device', '--hub', 'pi1.local:70000'], /--hub: port 70000 is out of range/],
  // [S-3] 4242 is the plaintext port, on the hub's loopback only since TLS.
  [
    ['--role', 'device', '--hub', 'pi1.local:4242'],
    /4242 is the hub's plaintext port .*use --hub pi1\.local \(TLS, port 4342\)/,
  ],
  [
    ['--role', 'device', '--hub', 'pi1.local', '--hub-fingerprint', 'abc'],
    /--hub-fingerprint must be sha256: and 64 hex digits/,
  ],
  [
    ['--role', 'both', '--hub-fingerprint', `sha256:${'a'.repeat(64)}`],
    /--hub-fingerprint is for --role device/,
  ],
  [
    [
      '--role',
      'device',
      '--hub',
      'tcp://pi1.local',
      '--hub-fingerprint',
      `sha256:${'a'.repeat(64)}`,
    ],
    /--hub-fingerprint pins a TLS hub/,
  ],
  [['--role', 'both', '--prefix', 'opt/babel'], /--prefix must be an absolute path/],
  [['--role', 'both', '--role'], /--role needs a value/],
  [['--role', 'both', '--yes'], /unknown option --yes/],
];

for (const [args, message] of usageErrors) {
  test(`usage error, exit 2: install.sh ${args.join(' ') || '(no options)'}`, async (t) => {
    const dir = tempDir(t, 'usage');
    const { env, calls } = stubs(dir);
    const r = await install(script, [...args, '--root', dir], env);
    t.is(r.code, 2);
    t.regex(r.stderr, message);
    t.regex(r.stderr, /Usage: sudo bash scripts\/install\.sh --role hub\|device\|both/);
    t.is(r.stdout, '');
    t.deepEqual(calls(), []);
  });
}

test('--help prints the options and steps', async (t) => {
  const r = await install(script, ['--help'], process.env);
  t.is(r.code, 0);
  for (const opt of ['--role', '--hub', '--name', '--prefix', '--dry-run', '--no-apt', '--root']) {
    t.regex(r.stdout, new RegExp(`^ {2}${opt} `, 'm'));
  }
  t.notRegex(r.stdout, /^#/m);
});

// --- dry run -------------------------------------------------------------------------

test('--dry-run prints every step of the plan and changes nothing', async (t) => {
  const root = tempDir(t, 'dry');
  const { env, calls } = stubs(tempDir(t, 'dry-stubs'));
  fs.mkdirSync(path.join(root, 'etc/babel'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/babel/hub.yaml'), 'version: 1\n');
  const before = snapshot(root);

  const r = await install(
    script,
    ['--dry-run', '--role', 'both', '--name', 'kitchen', '--root', root],
    env,
  );
  t.is(r.code, 0, r.stderr);
  STEPS.forEach((s, i) => {
    t.regex(r.stdout, new RegExp(`^==> \\[${i + 1}\\] ${s}`, 'm'), `step ${i + 1} ${s}`);
  });
  const app = `${root}/opt/babel-intercom`;
  for (const line of [
    `[dry-run] copy ${repo} to ${app} (without .git, node_modules, data, dist)`,
    '[dry-run] npm ci --no-audit --no-fund',
    '[dry-run] npm run build',
    '[dry-run] npm prune --omit=dev',
    `[dry-run] install ${root}/etc/systemd/system/babel-hub.service`,
    `[dry-run] install ${root}/etc/systemd/system/babel-device.service`,
    `[dry-run] install ${root}/usr/local/bin/babel-hub`,
    `kept ${root}/etc/babel/hub.yaml`,
    `[dry-run] write ${root}/etc/babel/device.yaml from scripts/templates/device.yaml, name: kitchen`,
    `[dry-run] create the account kitchen on this hub (babel-hub user add kitchen); its secret goes into ${root}/etc/babel/device.yaml`,
    '[skip] useradd --system --user-group',
    `[skip] systemctl daemon-reload  (--root ${root})`,
    '[skip] systemctl enable --now babel-hub',
    '[skip] systemctl enable --now babel-device',
    'sudo -u babel babel-hub user add door --config /etc/babel/hub.yaml',
    'Dry run: nothing was changed.',
  ]) {
    t.true(r.stdout.includes(line), line);
  }
  t.deepEqual(snapshot(root), before);
  t.deepEqual(calls(), []);
});

test('--dry-run into a root that does not exist creates nothing', async (t) => {
  const dir = tempDir(t, 'dry-none');
  const { env, calls } = stubs(dir);
  const root = path.join(dir, 'nowhere');
  const r = await install(script, ['--role', 'hub', '--dry-run', '--root', root], env);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /\[dry-run\] write .*\/etc\/babel\/hub\.yaml/);
  t.notRegex(r.stdout, /babel-device\.service|etc\/babel\/device\.yaml/);
  t.false(fs.existsSync(root));
  t.deepEqual(calls(), []);
});

// --- real runs in a throwaway root ---------------------------------------------------

test('installs into a throwaway root; a second run keeps the configs and refreshes the app', async (t) => {
  const dir = tempDir(t, 'real');
  const { env, calls } = stubs(dir);
  const src = fakeCheckout(dir);
  const checkout = path.dirname(path.dirname(src));
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const args = ['--role', 'both', '--name', 'kitchen', '--root', root, '--no-apt', '--skip-build'];
  const at = (p: string) => path.join(root, p);
  const app = at('opt/babel-intercom');

  const first = await install(src, args, env);
  t.is(first.code, 0, first.stderr);
  t.is(first.stderr, '');

  // The application, without what must not be shipped.
  t.is(fs.readFileSync(path.join(app, 'dist/hub/bin.js'), 'utf8'), HUB_SHIM);
  t.true(fs.existsSync(path.join(app, 'package.json')));
  t.true(fs.existsSync(path.join(app, 'scripts/templates/device.yaml')));
  for (const gone of ['.git', 'node_modules', 'data'])
    t.false(fs.existsSync(path.join(app, gone)), gone);

  // Units: the repository's, with this node and only groups that exist here.
  const node = execFileSync('bash', ['-c', 'command -v node'], { encoding: 'utf8' }).trim();
  const hubUnit = fs.readFileSync(at('etc/systemd/system/babel-hub.service'), 'utf8');
  t.regex(
    hubUnit,
    new RegExp(
      `^ExecStart=${node} /opt/babel-intercom/dist/hub/bin\\.js --config /etc/babel/hub\\.yaml`,
      'm',
    ),
  );
  const deviceUnit = fs.readFileSync(at('etc/systemd/system/babel-device.service'), 'utf8');
  t.regex(deviceUnit, /^User=babel$/m);
  const groups = /^SupplementaryGroups=(.*)$/m.exec(deviceUnit)?.[1]?.split(/\s+/).filter(Boolean);
  t.deepEqual(groups, existingGroups(['audio', 'gpio', 'input', 'dialout']));

  // The commands.
  const wrapper = at('usr/local/bin/babel-hub');
  t.is(fs.statSync(wrapper).mode & 0o777, 0o755);
  t.regex(
    fs.readFileSync(wrapper, 'utf8'),
    new RegExp(`^exec ${node} /opt/babel-intercom/dist/hub/bin\\.js "\\$@"$`, 'm'),
  );
  // The device command runs the same one-file bundle as its unit.
  t.regex(
    fs.readFileSync(at('usr/local/bin/babel-device'), 'utf8'),
    new RegExp(`^exec ${node} /opt/babel-intercom/dist/device/babel-device\\.mjs "\\$@"$`, 'm'),
  );

  // Configs: from the templates, private to root and babel, accepted by the loaders.
  for (const f of ['hub.yaml', 'device.yaml'])
    t.is(fs.statSync(at(`etc/babel/${f}`)).mode & 0o777, 0o640);
  const device = loadDeviceConfig(['--config', at('etc/babel/device.yaml')], {});
  t.like(device.kind === 'config' ? device.config : {}, { name: 'kitchen', hub: '127.0.0.1:4242' });

  // [S-6] The hub's registration is closed: the installer made the device's account on
  // this hub with a generated secret, which is in device.yaml (0640, above) and nowhere
  // in what it printed.
  const secret = device.kind === 'config' ? device.config.secret : undefined;
  t.regex(secret ?? '', /^[a-z2-9]{20}$/);
  t.regex(
    first.stdout,
    /\+ create the account kitchen on this hub \(babel-hub user add kitchen\); its secret goes into .*device\.yaml/,
  );
  t.false(first.stdout.includes(secret!), 'the secret is not printed');
  {
    const accounts = new AccountStore(openDatabase(at('var/lib/babel/babel.sqlite')));
    try {
      const user = accounts.getByName('kitchen');
      t.truthy(user);
      t.true(await accounts.checkSecret(user!.id, secret));
      t.false(await accounts.checkSecret(user!.id, 'something-else'));
    } finally {
      accounts.close();
    }
  }
  t.regex(first.stdout, /This device's account kitchen is on this hub/);
  const hub = loadHubConfig(['--config', at('etc/babel/hub.yaml')], {});
  t.like(hub.kind === 'config' ? hub.config : {}, { data_dir: '/var/lib/babel', text_port: 4242 });
  t.true(fs.statSync(at('var/lib/babel')).isDirectory());

  // The user edits the configs, the checkout changes; run again.
  fs.appendFileSync(at('etc/babel/device.yaml'), 'target: door\n');
  fs.writeFileSync(at('etc/babel/hub.yaml'), 'version: 1\nring_timeout: 20\n');
  const configs = {
    device: fs.readFileSync(at('etc/babel/device.yaml'), 'utf8'),
    hub: fs.readFileSync(at('etc/babel/hub.yaml'), 'utf8'),
  };
  fs.writeFileSync(path.join(checkout, 'dist/hub/bin.js'), '// hub v2\n');
  fs.writeFileSync(path.join(app, 'left-over-from-v1.js'), '');

  const second = await install(src, args, env);
  t.is(second.code, 0, second.stderr);
  t.true(second.stdout.includes(`kept ${at('etc/babel/hub.yaml')}`));
  t.true(second.stdout.includes(`kept ${at('etc/babel/device.yaml')}`));
  t.true(second.stdout.includes(`unchanged ${at('etc/systemd/system/babel-hub.service')}`));
  t.is(fs.readFileSync(at('etc/babel/device.yaml'), 'utf8'), configs.device);
  t.is(fs.readFileSync(at('etc/babel/hub.yaml'), 'utf8'), configs.hub);
  t.is(fs.readFileSync(path.join(app, 'dist/hub/bin.js'), 'utf8'), '// hub v2\n');
  t.false(fs.existsSync(path.join(app, 'left-over-from-v1.js')));
  t.deepEqual(calls(), []);
});

test('a device elsewhere: --hub and --name fill in device.yaml, --prefix reaches the units', async (t) => {
  const dir = tempDir(t, 'device');
  const { env, calls } = stubs(dir);
  const src = fakeCheckout(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const r = await install(
    src,
    [
      '--role=device',
      '--hub=kitchen.local',
      `--hub-fingerprint=sha256:${'AB'.repeat(32)}`,
      '--name=door',
      '--prefix=/srv/babel',
      `--root=${root}`,
      '--skip-build',
    ],
    env,
  );
  t.is(r.code, 0, r.stderr);
  const at = (p: string) => path.join(root, p);
  const loaded = loadDeviceConfig(['--config', at('etc/babel/device.yaml')], {});
  t.like(loaded.kind === 'config' ? loaded.config : {}, {
    name: 'door',
    hub: 'kitchen.local',
    // [S-3] pinned as given, lowercased; nothing was read from the network
    hub_fingerprint: `sha256:${'ab'.repeat(32)}`,
  });
  t.notRegex(r.stdout, /read the hub's certificate/);
  t.false(fs.existsSync(at('etc/babel/hub.yaml')));
  t.false(fs.existsSync(at('etc/systemd/system/babel-hub.service')));
  t.false(fs.existsSync(at('var/lib/babel')));
  t.true(fs.existsSync(at('srv/babel/dist/device/babel-device.mjs')));
  const unit = fs.readFileSync(at('etc/systemd/system/babel-device.service'), 'utf8');
  t.regex(
    unit,
    /^ExecStart=\S+ \/srv\/babel\/dist\/device\/babel-device\.mjs --config \/etc\/babel\/device\.yaml$/m,
  );
  t.regex(unit, /^Documentation=file:\/\/\/srv\/babel\/README\.md$/m);
  t.regex(r.stdout, /sudo -u babel babel-hub user add door --config \/etc\/babel\/hub\.yaml/);
  // [S-6] It cannot reach the hub's database: it says plainly what to do on the hub.
  t.regex(r.stdout, /The hub's registration is closed: give this device an account there/);
  t.regex(r.stdout, /on the hub: {2}sudo -u babel babel-hub pair --config \/etc\/babel\/hub\.yaml/);
  t.regex(
    r.stdout,
    /put the secret it prints into \/etc\/babel\/device\.yaml here: {2}secret: <the secret>/,
  );
  t.notRegex(r.stdout, /create the account/);
  t.like(loaded.kind === 'config' ? loaded.config : {}, { secret: undefined });
  t.deepEqual(calls(), []);
});

test('without --skip-build: npm ci, build and prune in the prefix, again only after a change', async (t) => {
  const dir = tempDir(t, 'build');
  const { env, calls } = stubs(dir);
  // As from a shell: no nodedir in the environment (npm sets one for its own scripts).
  delete env.npm_config_nodedir;
  delete env.NPM_CONFIG_NODEDIR;
  // A stand-in npm that does what the real one leaves behind, and says so; npm ci also
  // writes down which Node headers node-gyp would have been pointed at.
  const log = path.join(dir, 'stub-calls.log');
  const nodedir = path.join(dir, 'nodedir');
  fs.writeFileSync(
    path.join(dir, 'stub-bin/npm'),
    `#!/bin/sh\necho "npm $* in $PWD" >> '${log}'\ncase "$1" in\n` +
      '  config) echo undefined ;;\n' +
      `  ci) mkdir -p node_modules/dep && echo "\${npm_config_nodedir:-unset}" > '${nodedir}' ;;\n` +
      "  run) mkdir -p dist/hub dist/device && echo '// built' > dist/hub/bin.js && echo '// built' > dist/device/bin.js && echo '// built' > dist/device/babel-device.mjs ;;\n" +
      'esac\n',
  );
  const src = fakeCheckout(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const app = path.join(root, 'opt/babel-intercom');
  const args = ['--role', 'hub', '--root', root, '--no-apt'];
  const npmCalls = () => calls().filter((c) => c.startsWith('npm '));
  // The running node's prefix, when its headers are beside it (as setup.sh does it).
  const prefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  const headers = fs.existsSync(path.join(prefix, 'include/node/node_api.h'));

  const first = await install(src, args, env);
  t.is(first.code, 0, first.stderr);
  t.deepEqual(npmCalls(), [
    `npm config get nodedir in ${app}`,
    `npm ci --no-audit --no-fund in ${app}`,
    `npm run build in ${app}`,
    `npm prune --omit=dev --no-audit --no-fund in ${app}`,
  ]);
  t.is(fs.readFileSync(nodedir, 'utf8').trim(), headers ? prefix : 'unset');
  if (headers) {
    t.true(
      first.stdout.includes(`building native addons against the headers in ${prefix}/include/node`),
    );
  }
  t.is(fs.readFileSync(path.join(app, 'dist/hub/bin.js'), 'utf8'), '// built\n');

  const second = await install(src, args, env);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, /up to date \(nothing changed since the last build\)/);
  t.is(npmCalls().length, 4);

  // A nodedir the user chose is kept, and npm's config is not asked then.
  fs.appendFileSync(path.join(path.dirname(path.dirname(src)), 'README.md'), '\nchanged\n');
  const third = await install(src, args, { ...env, npm_config_nodedir: '/opt/node-headers' });
  t.is(third.code, 0, third.stderr);
  t.is(npmCalls().length, 7);
  t.is(fs.readFileSync(nodedir, 'utf8').trim(), '/opt/node-headers');
  t.deepEqual(
    calls().filter((c) => !c.startsWith('npm ')),
    [],
  );
});

test('refuses to clear a --prefix that is not a Babel Intercom installation', async (t) => {
  const dir = tempDir(t, 'foreign');
  const { env } = stubs(dir);
  const src = fakeCheckout(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/lib/precious'), 'keep me');
  const r = await install(
    src,
    ['--role', 'hub', '--prefix', '/usr', '--root', root, '--skip-build'],
    env,
  );
  t.is(r.code, 1);
  t.regex(r.stderr, /is not a Babel Intercom installation; choose another --prefix/);
  t.is(fs.readFileSync(path.join(root, 'usr/lib/precious'), 'utf8'), 'keep me');
});

test('--skip-build without a built dist/ in the checkout fails with the way out', async (t) => {
  const dir = tempDir(t, 'nodist');
  const { env } = stubs(dir);
  const src = fakeCheckout(dir);
  fs.rmSync(path.join(path.dirname(path.dirname(src)), 'dist'), { recursive: true });
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const r = await install(src, ['--role', 'hub', '--root', root, '--skip-build'], env);
  t.is(r.code, 1);
  t.regex(r.stderr, /run npm run build first/);
  t.false(fs.existsSync(path.join(root, 'etc')));
});

test('the installed units pass systemd-analyze verify', async (t) => {
  const dir = tempDir(t, 'verify');
  const { env } = stubs(dir);
  const src = fakeCheckout(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  t.is(
    (await install(src, ['--role', 'both', '--root', root, '--skip-build', '--no-apt'], env)).code,
    0,
  );
  const analyze = existingCommand('systemd-analyze');
  if (!analyze) {
    t.log('systemd-analyze not installed: only checked the units were written');
    t.pass();
    return;
  }
  for (const unit of ['babel-hub.service', 'babel-device.service']) {
    const out = execFileSync(analyze, ['verify', path.join(root, 'etc/systemd/system', unit)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    t.is(out.trim(), '', unit);
  }
});

test('install.sh is shellcheck-clean (when shellcheck is installed)', (t) => {
  const shellcheck = existingCommand('shellcheck');
  if (!shellcheck) {
    t.log('shellcheck not installed: skipped');
    t.pass();
    return;
  }
  // The parts in scripts/install/ share install.sh's variables: check them in place, as one
  // script, or shellcheck would neither see their definitions nor report their lines.
  const dir = tempDir(t, 'shellcheck');
  const whole = path.join(dir, 'install.sh');
  let parts = 0;
  const inline = (text: string): string =>
    text.replace(
      /^# shellcheck source=.*\nsource "\$SRC\/(scripts\/install\/[a-z-]+\.sh)"\n/gm,
      (_, f) => {
        parts++;
        // A part may source another (app.sh: node-headers.sh, shared with setup.sh).
        return inline(
          fs.readFileSync(path.join(repo, f), 'utf8').replace(/^# shellcheck shell=bash\n/, ''),
        );
      },
    );
  const text = inline(fs.readFileSync(script, 'utf8'));
  t.is(parts, fs.readdirSync(path.join(repo, 'scripts/install')).length, 'every part inlined');
  fs.writeFileSync(whole, text);
  const r = execFileSync(shellcheck, [whole, path.join(repo, 'scripts/setup.sh')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.is(r, '');
});

// --- [S-3] the hub's certificate pinned -------------------------------------------------

test('[S-3] --role device --hub tls://HOST: reads the hub certificate, prints it to compare, pins it', async (t) => {
  const dir = tempDir(t, 'pin');
  const { env, calls } = stubs(dir);
  const src = fakeCheckout(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const cert = makeCert();
  const hub = await tlsFront(cert);
  t.teardown(() => hub.close());
  const r = await install(
    src,
    [
      '--role',
      'device',
      '--hub',
      `tls://127.0.0.1:${hub.port}`,
      '--name',
      'door',
      '--root',
      root,
      '--skip-build',
    ],
    env,
  );
  t.is(r.code, 0, r.stderr);
  t.regex(
    r.stdout,
    /read the hub's certificate fingerprint from 127\.0\.0\.1:\d+ \(TLS\) to pin it/,
  );
  t.true(r.stdout.includes(`    ${cert.fingerprint}\n`), r.stdout);
  t.regex(r.stdout, /compare it with what the hub prints: {2}sudo -u babel babel-hub fingerprint/);
  const loaded = loadDeviceConfig(['--config', path.join(root, 'etc/babel/device.yaml')], {});
  t.like(loaded.kind === 'config' ? loaded.config : {}, {
    hub: `tls://127.0.0.1:${hub.port}`,
    hub_fingerprint: cert.fingerprint,
  });
  t.is(Buffer.concat(hub.received).length, 0, 'the installer only looked at the certificate');
  t.deepEqual(calls(), []);
});

test('[S-3] an unreachable hub: said plainly, no pin, trust on first use stays', async (t) => {
  const dir = tempDir(t, 'nopin');
  const { env } = stubs(dir);
  const src = fakeCheckout(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  // A port that was just free: nothing listens there.
  const closed = await tlsFront(makeCert());
  const port = closed.port;
  await closed.close();
  const r = await install(
    src,
    ['--role', 'device', '--hub', `tls://127.0.0.1:${port}`, '--root', root, '--skip-build'],
    env,
  );
  t.is(r.code, 0, r.stderr);
  t.regex(
    r.stderr,
    new RegExp(
      `WARNING: could not reach the hub at 127\\.0\\.0\\.1:${port} to read its certificate \\(ECONNREFUSED\\)`,
    ),
  );
  t.regex(r.stderr, /trust on first use/);
  t.regex(r.stderr, /babel-hub fingerprint/);
  const text = fs.readFileSync(path.join(root, 'etc/babel/device.yaml'), 'utf8');
  t.regex(text, /^#hub_fingerprint: /m);
  const loaded = loadDeviceConfig(['--config', path.join(root, 'etc/babel/device.yaml')], {});
  t.like(loaded.kind === 'config' ? loaded.config : {}, { hub_fingerprint: undefined });
});

test('[S-3] --dry-run says it would read the certificate, and reads nothing', async (t) => {
  const dir = tempDir(t, 'pindry');
  const { env } = stubs(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const hub = await tlsFront(makeCert());
  t.teardown(() => hub.close());
  const r = await install(
    script,
    ['--role', 'device', '--hub', `tls://127.0.0.1:${hub.port}`, '--dry-run', '--root', root],
    env,
  );
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /\[dry-run\] read the hub's certificate fingerprint from 127\.0\.0\.1:\d+/);
  t.is(hub.counts.connections, 0);
});

test('[S-3] a plaintext hub elsewhere (tcp://) is warned about; a loopback one is not', async (t) => {
  const dir = tempDir(t, 'tcp');
  const { env } = stubs(dir);
  const src = fakeCheckout(dir);
  for (const [hub, warned] of [
    ['tcp://kitchen.local', true],
    ['127.0.0.1', false],
  ] as const) {
    const root = path.join(dir, `root-${warned}`);
    fs.mkdirSync(root);
    const r = await install(
      src,
      ['--role', 'device', '--hub', hub, '--root', root, '--skip-build'],
      env,
    );
    t.is(r.code, 0, r.stderr);
    t.is(/WARNING: --hub .* is plaintext/.test(r.stderr), warned, hub);
    t.notRegex(r.stdout, /read the hub's certificate/);
  }
});

test('[S-3] a kept device.yaml naming a remote hub:4242 gets the way to TLS', async (t) => {
  const dir = tempDir(t, 'kept');
  const { env } = stubs(dir);
  const src = fakeCheckout(dir);
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'etc/babel'), { recursive: true });
  const file = path.join(root, 'etc/babel/device.yaml');
  fs.writeFileSync(file, "version: 1\nhub: 'kitchen.local:4242'\n");
  const r = await install(
    src,
    ['--role', 'device', '--hub', 'kitchen.local', '--root', root, '--skip-build'],
    env,
  );
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /has hub: kitchen\.local:4242, the hub's plaintext port/);
  t.regex(r.stderr, /Set {2}hub: kitchen\.local {2}there \(TLS, port 4342\)/);
  t.is(fs.readFileSync(file, 'utf8'), "version: 1\nhub: 'kitchen.local:4242'\n", 'kept as it is');
  // A loopback hub is fine as it is.
  fs.writeFileSync(file, 'version: 1\nhub: 127.0.0.1:4242\n');
  const again = await install(
    src,
    ['--role', 'device', '--hub', 'kitchen.local', '--root', root, '--skip-build'],
    env,
  );
  t.notRegex(again.stderr, /plaintext port/);
});
