/**
 * Attacks on a real `babel-hub` process over TCP on loopback, as issue 10 found them,
 * each shown to fail with the hub's own defaults [S-6, S-7, S-8]:
 * - `NEW` and `/create` with registration closed, then within a pairing window opened by
 *   `babel-hub pair` on the running hub (its expiry is shown on a FakeClock in
 *   test/hub/security/registration.test.ts);
 * - 1,000 wrong passwords for one account from one address (127.0.0.66), counting the
 *   password checks the hub performed, while the real device logs in from 127.0.0.2;
 * - 1,000 connections that never log in while logged-in clients make calls.
 */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { controlRequest } from '../../hub/control/client.ts';
import { BinaryClient } from '../helpers/binary-client.ts';
import { runHubCli, SECURE_ENV, spawnHubProcess, tempDir } from '../helpers/hub.ts';
import { TextClient } from '../helpers/text-client.ts';

const ATTACKER = '127.0.0.66';
const DEVICE = '127.0.0.2';
const SLOW = 15_000;

type HubProcess = Awaited<ReturnType<typeof spawnHubProcess>> & { dataDir: string };

async function realHub(): Promise<HubProcess> {
  const dataDir = tempDir('babel-sec-');
  const hub = await spawnHubProcess(['--text-port', '0'], dataDir, SECURE_ENV);
  return { ...hub, dataDir };
}

async function passwordChecks(hub: HubProcess): Promise<number> {
  const stats = await controlRequest(hub.dataDir, { cmd: 'stats' });
  return Number(stats.passwordChecks);
}

/** `babel-hub user add NAME SECRET` on the hub's data directory. */
async function provision(hub: HubProcess, name: string, secret: string): Promise<void> {
  const r = await runHubCli(['user', 'add', name, secret, '--data-dir', hub.dataDir]);
  if (r.code !== 0) throw new Error(`user add ${name}: ${r.stderr}`);
}

test('registration is closed; `babel-hub pair` opens it on the running hub, for accounts with a secret', async (t) => {
  const hub = await realHub();
  t.teardown(() => hub.kill('SIGTERM'));
  const c = await TextClient.connect(hub.textPort, ATTACKER);
  t.is(await c.request('NEW mallory s3cret-mallory', SLOW), '408 mallory forbidden');
  t.is(await c.request('NEW mallory', SLOW), '408 mallory forbidden');
  c.close();
  const b = await BinaryClient.connect(hub.binaryPort, ATTACKER);
  const r = await b.request('/create', {}, { user_mail: 'm@example.org', pass: 'pw' }, SLOW);
  t.deepEqual([r.status, r.fields], [403, { error: 'registration_closed' }]);
  b.close();
  // No hub on this directory: the subcommand says so and fails.
  const none = await runHubCli(['pair', '--data-dir', tempDir()]);
  t.is(none.code, 1);
  t.regex(none.stderr, /not running/);
  const pair = await runHubCli(['pair', '--minutes', '1', '--data-dir', hub.dataDir]);
  t.is(pair.code, 0, pair.stderr);
  t.regex(pair.stdout, /pairing open for 1 minute/);
  t.regex(await hub.waitForLine((l) => l.includes('"msg":"pairing open"')), /"level":30/);
  // (fresh connections: the first ones may have met their login deadline meanwhile)
  const c2 = await TextClient.connect(hub.textPort, ATTACKER);
  t.is(await c2.request('NEW kitchen s3cret-kitchen', SLOW), '108 kitchen');
  t.is(await c2.request('NEW hall', SLOW), '408 hall invalid');
  t.regex((await c2.request('CONNECT kitchen 0 s3cret-kitchen', SLOW)) ?? '', /^101 /);
  const b2 = await BinaryClient.connect(hub.binaryPort, ATTACKER);
  const r2 = await b2.request('/create', {}, { user_mail: 'door@example.org', pass: 'pw' }, SLOW);
  t.is(r2.status, 201);
  c2.close();
  b2.close();
});

test('1,000 wrong passwords for one account from one address: a handful are checked; the device logs in throughout', async (t) => {
  const hub = await realHub();
  t.teardown(() => hub.kill('SIGTERM'));
  const SECRET = 'door-secret-9xq2';
  await provision(hub, 'door', SECRET);
  let deviceLogins = 0;
  const deviceLogin = async (): Promise<string | null> => {
    const c = await TextClient.connect(hub.textPort, DEVICE);
    try {
      const reply = await c.request(`CONNECT door 0 ${SECRET}`, SLOW);
      if (reply?.startsWith('101 ')) deviceLogins++;
      return reply;
    } finally {
      c.close();
    }
  };
  // The device has logged in from its address before the attack (as a device does).
  t.regex((await deviceLogin()) ?? '', /^101 /);
  const before = await passwordChecks(hub);
  const started = Date.now();

  // The attacker: 24 connections from one address, half text CONNECT, half binary
  // /login, each asking again as soon as it is answered (throttled answers come 250 ms
  // late), reconnecting when the hub closes one at its login deadline [S-8].
  const ATTEMPTS = 1000;
  let answered = 0;
  let refused = 0;
  const attacker = async (binary: boolean) => {
    let text: TextClient | null = null;
    let bin: BinaryClient | null = null;
    let i = 0;
    while (answered < ATTEMPTS) {
      const guess = `guess-${binary ? 'b' : 't'}${i++}`;
      try {
        if (binary) {
          if (!bin || bin.closed) bin = await BinaryClient.connect(hub.binaryPort, ATTACKER);
          const r = await bin.request('/login', {}, { user_mail: 'door', pass: guess }, SLOW);
          answered++;
          if (r.status === 401) refused++;
        } else {
          if (!text || text.closed) text = await TextClient.connect(hub.textPort, ATTACKER);
          const reply = await text.request(`CONNECT door 0 ${guess}`, SLOW);
          if (reply === null) continue; // closed under us: reconnect
          answered++;
          if (reply === '401 door bad_secret') refused++;
        }
      } catch {
        bin = null; // closed under us: reconnect
      }
    }
    text?.close();
    bin?.close();
  };
  const device = (async () => {
    const replies: Array<string | null> = [];
    while (answered < ATTEMPTS) replies.push(await deviceLogin());
    replies.push(await deviceLogin());
    return replies;
  })();
  await Promise.all(Array.from({ length: 24 }, (_, k) => attacker(k % 2 === 1)));
  const deviceReplies = await device;
  const elapsed = Date.now() - started;

  // Even the right secret from the attacker's address is refused now, unchecked.
  const last = await TextClient.connect(hub.textPort, ATTACKER);
  t.is(await last.request(`CONNECT door 0 ${SECRET}`, SLOW), '401 door bad_secret');
  last.close();

  const attackerChecks = (await passwordChecks(hub)) - before - (deviceLogins - 1);
  // [S-7] 5 tolerated failures and the one that blocks; then one more each time a block
  // (15 s, doubling) runs out, however long this loaded machine took.
  const bound = 6 + Math.ceil(elapsed / 15_000);
  t.true(attackerChecks <= bound, `${attackerChecks} password checks for 1,000 attempts`);
  t.true(attackerChecks >= 6);
  t.true(answered >= ATTEMPTS);
  t.is(refused, answered, 'every attempt answered as a wrong secret');
  t.true(deviceReplies.length >= 2);
  t.true(
    deviceReplies.every((r) => r?.startsWith('101 ')),
    `device replies: ${deviceReplies.filter((r) => !r?.startsWith('101 ')).join(', ')}`,
  );
  // Failed logins are logged with the address, never the secret; the flood of refusals
  // does not flood the log: each checked failure and each block's start, at info.
  const isFailure = (l: string) => l.includes('"msg":"login failed"');
  await hub.waitForLine(() => hub.lines.filter(isFailure).length >= attackerChecks);
  const failed = hub.lines.filter(isFailure);
  t.is(failed.length, attackerChecks);
  t.true(failed.every((l) => l.includes(`"address":"${ATTACKER}"`)));
  const blocks = hub.lines.filter((l) => l.includes('"msg":"login throttled"'));
  t.true(blocks.length >= 1 && blocks.length <= attackerChecks);
  t.false(hub.lines.some((l) => l.includes(SECRET) || l.includes('guess-')));
});

test('1,000 connections that never log in are closed at the deadline or refused; logged-in clients keep calling', async (t) => {
  const hub = await realHub();
  t.teardown(() => hub.kill('SIGTERM'));
  await provision(hub, 'alice', 'alice-secret-1');
  await provision(hub, 'bob', 'bob-secret-2');
  const alice = await TextClient.connect(hub.textPort, '127.0.0.2');
  t.regex((await alice.request('CONNECT alice 0 alice-secret-1', SLOW)) ?? '', /^101 /);
  const bob = await TextClient.connect(hub.textPort, '127.0.0.3');
  t.regex((await bob.request('CONNECT bob 0 bob-secret-2', SLOW)) ?? '', /^101 /);

  // 968 from 242 addresses (4 each), 32 from the attacker's: 1,000 that never log in;
  // then 10 more from the attacker's address, past its cap of 32.
  const open = async (localAddress: string): Promise<net.Socket> => {
    const s = net.connect({ host: '127.0.0.1', port: hub.textPort, localAddress });
    s.on('error', () => {});
    s.resume();
    await once(s, 'connect');
    return s;
  };
  const idle: Array<Promise<net.Socket>> = [];
  for (let a = 0; a < 242; a++) for (let k = 0; k < 4; k++) idle.push(open(`127.0.1.${a + 1}`));
  for (let k = 0; k < 32; k++) idle.push(open(ATTACKER));
  const sockets = await Promise.all(idle);
  const closedAt = sockets.map(
    (s) => new Promise<number>((resolve) => s.once('close', () => resolve(Date.now()))),
  );
  const openedAt = Date.now();
  // some of them talk: bytes do not extend the login deadline
  for (const s of sockets.slice(0, 100)) s.write('PING\r\n');
  const extraOpenedAt = Date.now();
  const extra = await Promise.all(Array.from({ length: 10 }, () => open(ATTACKER)));
  const extraClosed = await Promise.all(
    extra.map((s) => new Promise<number>((resolve) => s.once('close', () => resolve(Date.now())))),
  );
  // sooner than any login deadline (10 s from an accept that came after the connect)
  t.true(
    extraClosed.every((at) => at - extraOpenedAt < 10_000),
    'past the per-address cap: closed at accept',
  );

  // Calls go on while they wait, and after.
  let calls = 0;
  let allClosed = false;
  const everyoneClosed = Promise.all(closedAt).then((times) => {
    allClosed = true;
    return times;
  });
  while (!allClosed || calls < 2) {
    t.is(await alice.request('CALL bob', SLOW), '104 bob');
    t.is(await bob.next(SLOW), '105 alice');
    t.regex((await bob.request('ACCEPT alice', SLOW)) ?? '', /^106 alice /);
    t.regex((await alice.next(SLOW)) ?? '', /^106 bob /);
    t.is(await alice.request('HANGUP bob', SLOW), '107 bob ended');
    t.is(await bob.next(SLOW), '107 alice ended');
    calls++;
    if (Date.now() - openedAt > 60_000) break;
  }
  const times = await everyoneClosed;
  // [S-8] closed at the 10 s deadline (not at the 90 s idle timeout), talkers included
  t.true(
    times.every((at) => at - openedAt < 30_000),
    'all closed by the login deadline',
  );
  t.true(calls >= 2);
  t.is(await alice.request('PING end', SLOW), '109 end');
  const stats = await controlRequest(hub.dataDir, { cmd: 'stats' });
  t.like(stats, { preLogin: { pending: 0 } });
  t.true(Number((stats.preLogin as { refused: number }).refused) >= 10);
  alice.close();
  bob.close();
});
