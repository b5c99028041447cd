/**
 * [S-6] `babel-hub pair [--minutes N]` against a running hub through its control socket,
 * and plainly refused when no hub runs on the data directory.
 */
import test from 'ava';
import { controlRequest } from '../../../hub/control/client.ts';
import { runPair } from '../../../hub/control/pair-command.ts';
import { SECURE_ENV, startHub, tempDir } from '../../helpers/hub.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) },
  };
}

test('with no hub running it says so plainly and exits 1', async (t) => {
  const o = io();
  t.is(await runPair(['--data-dir', tempDir()], {}, o.io), 1);
  t.regex(o.err.join(''), /the hub is not running/);
});

test('opens the running hub’s pairing window for N minutes (default 10)', async (t) => {
  const h = await startHub([], {}, tempDir(), SECURE_ENV);
  t.teardown(() => h.stop());
  t.false(h.hub.access.mayRegister);
  const o = io();
  t.is(await runPair(['--minutes', '3', '--data-dir', h.dataDir], {}, o.io), 0);
  t.regex(o.out.join(''), /pairing open for 3 minutes/);
  t.true(h.hub.access.mayRegister);
  const until = h.hub.access.pairing.untilWallMs ?? 0;
  t.true(Math.abs(until - Date.now() - 3 * 60_000) < 10_000);
  const d = io();
  t.is(await runPair([`--data-dir=${h.dataDir}`], {}, d.io), 0);
  t.regex(d.out.join(''), /pairing open for 10 minutes/);
});

test('bad arguments are usage errors (exit 2), and nothing is opened', async (t) => {
  const h = await startHub([], {}, tempDir(), SECURE_ENV);
  t.teardown(() => h.stop());
  for (const argv of [['--minutes', '0'], ['--minutes', '1441'], ['--minutes', 'x'], ['--nope']]) {
    const o = io();
    t.is(await runPair([...argv, '--data-dir', h.dataDir], {}, o.io), 2, argv.join(' '));
    t.not(o.err.join(''), '');
  }
  t.false(h.hub.access.mayRegister);
});

test('the control socket reports the password checks performed', async (t) => {
  const h = await startHub([], {}, tempDir(), SECURE_ENV);
  t.teardown(() => h.stop());
  const stats = await controlRequest(h.dataDir, { cmd: 'stats' });
  t.like(stats, { ok: true, passwordChecks: 0, preLogin: { pending: 0, refused: 0 } });
});
