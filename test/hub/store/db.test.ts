import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import { AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase, SCHEMA_VERSION } from '../../../hub/store/db.ts';
import { openStore, tempDir } from './fixtures/store.ts';

// --- persistence and schema ----------------------------------------------------------------

test('everything survives close and reopen', async (t) => {
  const { store, file } = openStore(t);
  const ann = await store.createUser({ email: 'ann@x', secret: 'pw' });
  const bob = await store.createUser({ name: 'bob' });
  store.addContact(ann.id, bob.id);
  const token = store.issueToken(ann.id);
  store.close();

  const again = new AccountStore(openDatabase(file));
  t.teardown(() => again.close());
  t.deepEqual(again.listUsers(), [ann, bob]);
  t.true(await again.checkSecret(ann.id, 'pw'));
  t.true(again.checkToken(ann.id, token));
  t.deepEqual(
    again.contactsOf(bob.id).map((c) => [c.user.id, c.direction]),
    [[ann.id, 'incoming']],
  );
});

test('openDatabase creates the directory and sets durable pragmas', (t) => {
  const file = path.join(tempDir(t), 'nested', 'deeper', 'hub.db');
  const db = openDatabase(file);
  t.teardown(() => db.close());
  t.true(fs.existsSync(file));
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  t.is(db.pragma('synchronous', { simple: true }), 2); // FULL
  t.is(db.pragma('foreign_keys', { simple: true }), 1);
  t.is(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
});

test('openDatabase accepts :memory:', async (t) => {
  const store = new AccountStore(openDatabase(':memory:'));
  t.teardown(() => store.close());
  t.is((await store.createUser({ name: 'mem' })).name, 'mem');
});

test('reopening an up-to-date database runs no migration again', (t) => {
  const file = path.join(tempDir(t), 'hub.db');
  openDatabase(file).close();
  const db = openDatabase(file);
  t.teardown(() => db.close());
  t.is(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
});

test('openDatabase refuses a database from a newer hub', (t) => {
  const file = path.join(tempDir(t), 'hub.db');
  openDatabase(file).close();
  const raw = new BetterSqlite3(file);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  const err = t.throws(() => openDatabase(file));
  t.regex(err?.message ?? '', /newer than this hub knows/);
  // the refused file is left as it was
  const check = new BetterSqlite3(file, { readonly: true });
  t.is(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
  check.close();
});
