/**
 * Secrets never appear in logs (issue 10): a real hub process logging at trace level goes
 * through a session that uses every kind of secret it knows — accounts made by the admin
 * command and in a pairing window, text CONNECT with a secret, a wrong secret, binary
 * /create and /login with passwords, the tokens they return used on later requests, a
 * call over TLS with its SRTP keys [S-4], the hub's TLS private key [S-2] — and then its
 * whole log is searched for each of them.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { controlRequest } from '../../hub/control/client.ts';
import { BinaryClient, createdUser } from '../helpers/binary-client.ts';
import { runHubCli, SECURE_ENV, spawnHubProcess, tempDir } from '../helpers/hub.ts';
import { connectedClient, TextClient } from '../helpers/text-client.ts';
import { SECURE_106 } from '../helpers/transcript.ts';

test('a trace-level hub log of a whole session holds no secret, password or token', async (t) => {
  const dataDir = tempDir('babel-logsecret-');
  const hub = await spawnHubProcess(
    ['--text-port', '0', '--log-level', 'trace'],
    dataDir,
    SECURE_ENV,
  );
  t.teardown(() => hub.kill('SIGTERM'));
  const used: string[] = [];

  // An account from the admin command, with a secret it generates and prints.
  const added = await runHubCli(['user', 'add', 'door', '--data-dir', dataDir]);
  const doorSecret = /secret: (\S+)/.exec(added.stdout)?.[1];
  if (!doorSecret) throw new Error(`no secret printed: ${added.stdout}`);
  used.push(doorSecret);

  // Accounts made in a pairing window, in both dialects.
  t.like(await controlRequest(dataDir, { cmd: 'pair', minutes: 1 }), { ok: true });
  const kitchenSecret = 'kitchen-secret-5b1f93e0';
  used.push(kitchenSecret);
  const tls = { tlsPort: hub.textTlsPort };
  const kitchen = await connectedClient(tls, 'kitchen', 5006, kitchenSecret);
  const alicePass = 'alice-pass-c4d2e8a1';
  used.push(alicePass);
  const alice = await createdUser(hub.binaryPort, 'alice@example.org', alicePass);
  used.push(alice.token);

  // A login with its password, and the new token used on a request.
  const again = await BinaryClient.connect(hub.binaryPort);
  const login = await again.request(
    '/login',
    {},
    { user_mail: 'alice@example.org', pass: alicePass },
  );
  t.is(login.status, 200);
  const token = login.fields.token ?? '';
  used.push(token);
  t.is((await again.request('/contacts', { id: alice.id, token })).status, 200);

  // A wrong secret and a wrong password: what a guesser typed is not logged either.
  const wrongSecret = 'guess-secret-0f9a7d21';
  const wrongPass = 'guess-pass-77c0b3e5';
  used.push(wrongSecret, wrongPass);
  const stranger = await TextClient.connect(hub.textPort);
  t.is(await stranger.request(`CONNECT door 5004 ${wrongSecret}`), '401 door bad_secret');
  const bad = await BinaryClient.connect(hub.binaryPort);
  t.is(
    (await bad.request('/login', {}, { user_mail: 'alice@example.org', pass: wrongPass })).status,
    401,
  );

  // The door station logs in with its secret over TLS and calls the kitchen: both get
  // SRTP keys [S-4], which are secrets too.
  const door = await TextClient.connect(tls);
  t.regex((await door.request(`CONNECT door 5004 ${doorSecret}`)) ?? '', /^101 /);
  t.is(await door.request('CALL kitchen'), '104 kitchen');
  t.is(await kitchen.next(), '105 door');
  const keysIn = (line: string | null, peer: string): string[] => {
    const m = SECURE_106.exec(line ?? '');
    t.true(m?.[1]?.startsWith(`106 ${peer} `), line ?? '');
    return [m?.[2] ?? '', m?.[3] ?? ''];
  };
  used.push(...keysIn(await kitchen.request('ACCEPT door'), 'door'));
  used.push(...keysIn(await door.next(), 'kitchen'));
  t.is(await door.request('HANGUP kitchen'), '107 kitchen ended');
  // [S-2] the hub's private key, line by line
  const pem = fs.readFileSync(path.join(dataDir, 'tls', 'hub.key'), 'utf8');
  used.push(...pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));

  for (const c of [kitchen, stranger, door]) c.close();
  for (const c of [alice.client, again, bad]) c.close();
  await hub.waitForLine((l) => l.includes('"msg":"login failed"') && l.includes('alice'));

  t.true(
    hub.lines.some((l) => l.includes('"level":10')),
    'trace-level lines are in the log',
  );
  for (const secret of used) {
    t.true(secret.length >= 16, secret);
    const leaks = hub.lines.filter((l) => l.includes(secret));
    t.deepEqual(leaks, [], `${secret.slice(0, 6)}... appears in the log`);
  }
});
