/**
 * [G-1] `babel-hub group add|remove|list`: through the running hub's control socket (member
 * states shown), or on the database directly when no hub runs, saying so plainly.
 */
import path from 'node:path';
import test from 'ava';
import { runGroup } from '../../../hub/group-command.ts';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { SEED_ENV, startHub, tempDir } from '../../helpers/hub.ts';
import { connectedClient } from '../../helpers/text-client.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(''),
    err: () => err.join(''),
    io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) },
  };
}

async function withUsers(dataDir: string, names: string[]) {
  const accounts = new AccountStore(openDatabase(path.join(dataDir, 'babel.sqlite')));
  for (const name of names) await accounts.createUser({ name, secret: 'pw' });
  accounts.close();
}

test('without a running hub: works on the database and says the hub is not running', async (t) => {
  const dir = tempDir();
  await withUsers(dir, ['alice', 'bob']);
  const add = io();
  t.is(await runGroup(['add', 'House', 'alice', 'bob', '--data-dir', dir], {}, add.io), 0);
  t.is(add.out(), 'created group house: alice bob\n');
  t.regex(add.err(), /the hub is not running: the database was changed directly/);
  const list = io();
  t.is(await runGroup(['list', '--data-dir', dir], {}, list.io), 0);
  t.is(list.out(), 'house\talice bob\n');
  t.regex(list.err(), /the hub is not running: member states are shown only while it runs/);
  const bad = io();
  t.is(await runGroup(['add', 'house', 'zed', '--data-dir', dir], {}, bad.io), 1);
  t.regex(bad.err(), /no such user: zed/);
  const clash = io();
  t.is(await runGroup(['add', 'alice', 'bob', '--data-dir', dir], {}, clash.io), 1);
  t.regex(clash.err(), /alice is a user's name/);
  const rm = io();
  t.is(await runGroup(['remove', 'house', '--data-dir', dir], {}, rm.io), 0);
  t.is(rm.out(), 'removed group house\n');
  const gone = io();
  t.is(await runGroup(['remove', 'house', '--data-dir', dir], {}, gone.io), 1);
  t.regex(gone.err(), /no group house/);
});

test('with the hub running: the change goes through it, list shows member states, CALL rings', async (t) => {
  const dir = tempDir();
  await withUsers(dir, ['alice', 'bob', 'carol']);
  const h = await startHub([], {}, dir, SEED_ENV);
  t.teardown(() => h.stop());
  const add = io();
  t.is(await runGroup(['add', 'house', 'bob', 'carol', '--data-dir', dir], {}, add.io), 0);
  t.is(add.out(), 'created group house: bob:offline carol:offline\n');
  t.is(add.err(), '', 'no word of a hub not running');
  const alice = await connectedClient(h.hub.textPort, 'alice', 5004, 'pw');
  const bob = await connectedClient(h.hub.textPort, 'bob', 6006, 'pw');
  t.teardown(() => {
    alice.close();
    bob.close();
  });
  t.is(await alice.request('CALL house'), '104 house');
  t.is(await bob.next(), '105 alice');
  const list = io();
  t.is(await runGroup(['list', '--data-dir', dir], {}, list.io), 0);
  t.is(list.out(), 'house\tbob:ringing carol:offline\n');
  const refused = io();
  t.is(await runGroup(['remove', 'house', 'alice', '--data-dir', dir], {}, refused.io), 1);
  t.regex(refused.err(), /not in house: alice/);
  const rm = io();
  t.is(await runGroup(['remove', 'house', 'carol', '--data-dir', dir], {}, rm.io), 0);
  t.is(rm.out(), 'changed group house: bob:ringing\n');
});

test('usage errors exit 2', async (t) => {
  for (const argv of [[], ['add', 'house'], ['list', 'x'], ['rename', 'a', 'b']]) {
    const o = io();
    t.is(await runGroup([...argv, '--data-dir', tempDir()], {}, o.io), 2, argv.join(' '));
    t.regex(o.err(), /usage: babel-hub group/);
  }
});
