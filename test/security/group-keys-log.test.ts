/**
 * [G-2, G-3, S-4] The keys section G hands out never reach the log: a real hub process at
 * trace level pages a group over TLS (every leg its own keys) and moves a TLS call to the
 * relay (fresh keys); its whole log is then searched for each key.
 */
import test from 'ava';
import { controlRequest } from '../../hub/control/client.ts';
import { SEED_ENV, spawnHubProcess, tempDir } from '../helpers/hub.ts';
import { connectedClient } from '../helpers/text-client.ts';

const KEYS = / AES_CM_128_HMAC_SHA1_80 (\S{40}) (\S{40})$/;

test('page and relay-fallback keys are not in a trace-level hub log', async (t) => {
  const dataDir = tempDir('babel-groupkeys-');
  const hub = await spawnHubProcess(
    ['--text-port', '0', '--log-level', 'trace'],
    dataDir,
    SEED_ENV,
  );
  t.teardown(() => hub.kill('SIGTERM'));
  const tls = { tlsPort: hub.textTlsPort };
  const used: string[] = [];
  const keysOf = (line: string | null) => {
    const m = KEYS.exec(line ?? '');
    t.truthy(m, line ?? '');
    used.push(m?.[1] ?? '', m?.[2] ?? '');
  };
  const pager = await connectedClient(tls, 'pager', 5004);
  const a = await connectedClient(tls, 'ma', 5006);
  const b = await connectedClient(tls, 'mb', 5008);
  t.like(
    await controlRequest(dataDir, { cmd: 'group', op: 'add', name: 'all', members: ['ma', 'mb'] }),
    { ok: true },
  );
  t.is(await pager.request('PAGE all'), '104 all');
  keysOf(await pager.next());
  keysOf(await a.next());
  keysOf(await b.next());
  t.is(await pager.request('HANGUP all'), '107 all ended');
  t.is(await a.next(), '107 pager ended');
  t.is(await b.next(), '107 pager ended');

  t.is(await a.request('CALL mb'), '104 mb');
  t.is(await b.next(), '105 ma');
  keysOf(await b.request('ACCEPT ma'));
  keysOf(await a.next());
  keysOf(await a.request('RELAY mb'));
  keysOf(await b.next());
  t.is(await a.request('HANGUP mb'), '107 mb ended');
  await hub.waitForLine((l) => l.includes('direct call moved to the relay'));
  for (const c of [pager, a, b]) c.close();

  // a page: 3 legs, 2 keys each; a call's two parties share its 2 keys, and the move to
  // the relay draws 2 fresh ones
  t.is(new Set(used).size, 10, 'every page leg and every move has its own keys');
  t.true(
    hub.lines.some((l) => l.includes('"level":10')),
    'trace-level lines are in the log',
  );
  for (const key of used) {
    t.deepEqual(
      hub.lines.filter((l) => l.includes(key)),
      [],
      `${key.slice(0, 6)}... is in the log`,
    );
  }
});
