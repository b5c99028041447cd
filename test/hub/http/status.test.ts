/**
 * `babel-hub status` against a real hub process: found through the same flags and
 * environment as the hub (`--data-dir`, `BABEL_HUB_DATA_DIR`), it prints the listeners,
 * the stations online, the calls, MQTT and the uptime (or JSON with `--json`); against a
 * stopped hub it says so plainly and exits 3 (LSB's "not running").
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { runHubCli, spawnHubProcess, tempDir } from '../../helpers/hub.ts';
import { freePort } from '../../helpers/mosquitto.ts';
import { connectedClient } from '../../helpers/text-client.ts';

test('babel-hub status asks the running hub; a stopped one is "not running", exit 3', async (t) => {
  const dataDir = tempDir('babel-status-');
  const httpPort = await freePort();
  const hub = await spawnHubProcess(['--text-port', '0', '--http-port', String(httpPort)], dataDir);
  let running = true;
  t.teardown(async () => {
    if (running) await hub.kill('SIGTERM');
  });
  const alice = await connectedClient(hub.textPort, 'alice', 5004);
  const bob = await connectedClient(hub.textPort, 'bob', 6006);
  t.is(await alice.request('CALL bob'), '104 bob');

  const r = await runHubCli(['status', '--data-dir', dataDir]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^babel-hub is running \(pid \d+, up /);
  t.regex(r.stdout, new RegExp(`text ${hub.textPort}\\b`));
  t.regex(r.stdout, new RegExp(`text-tls ${hub.textTlsPort}\\b`));
  t.regex(r.stdout, new RegExp(`http ${httpPort}\\b`));
  t.regex(r.stdout, new RegExp(`web page: http://127\\.0\\.0\\.1:${httpPort}/\n`));
  t.regex(
    r.stdout,
    new RegExp(
      `web page from the network: https://127\\.0\\.0\\.1:${httpPort}/ \\(certificate sha256:[0-9a-f]{64}\\)`,
    ),
  );
  t.regex(r.stdout, /stations online \(2 of 2\): alice, bob/);
  t.regex(r.stdout, /calls \(1\): alice -> bob ringing/);
  t.regex(r.stdout, /mqtt: off/);

  // The same hub found through the environment, as JSON.
  const j = await runHubCli(['status', '--json'], { BABEL_HUB_DATA_DIR: dataDir });
  t.is(j.code, 0, j.stderr);
  const status = JSON.parse(j.stdout) as Record<string, unknown>;
  t.like(status, { stations: ['alice', 'bob'], pairing: 'closed', mqtt: null, data_dir: dataDir });
  t.is((status.listeners as Record<string, number>).http, httpPort);
  t.like(status.web, { lan_url: `https://127.0.0.1:${httpPort}/` });
  alice.close();
  bob.close();

  await hub.kill('SIGTERM');
  running = false;
  const stopped = await runHubCli(['status', '--data-dir', dataDir]);
  t.is(stopped.code, 3);
  t.is(stopped.stdout, '');
  t.regex(stopped.stderr, /^babel-hub status: the hub is not running/);

  // A directory no hub ever ran in, and a bad flag.
  const never = await runHubCli(['status', '--data-dir', path.join(dataDir, 'nothing')]);
  t.is(never.code, 3);
  const bad = await runHubCli(['status', '--http-port', 'many']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^--http-port: expected a number/);
  fs.rmSync(dataDir, { recursive: true, force: true });
});
