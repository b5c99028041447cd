import test from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import { AccountError, AccountStore, nameFromEmail } from '../../../hub/store/accounts.ts';
import {
  hashSecret,
  hashToken,
  newToken,
  tokenMatches,
  verifySecret,
} from '../../../hub/store/crypto.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { openStore } from './fixtures/store.ts';

function reasonOf(err: unknown): string | undefined {
  return err instanceof AccountError ? err.reason : undefined;
}

// --- name derivation [B-5] ---------------------------------------------------------------

const derivations: ReadonlyArray<[email: string, name: string]> = [
  ['alice@example.com', 'alice'],
  ['Alice.Smith@Example.COM', 'alice.smith'],
  ['john.doe+tag@x.org', 'john.doetag'],
  ['a-b_c.d@x', 'a-b_c.d'],
  ['__bob@x', 'bob'],
  ['._-carol@x', 'carol'],
  ['"quoted"@x', 'quoted'],
  ['émile@x', 'mile'],
  ['日本@x', 'user'],
  ['\u212Aay@x', 'ay'], // Kelvin sign: not folded to k
  ['..-@x', 'user'],
  ['+@x', 'user'],
  [`${'a'.repeat(40)}@x`, 'a'.repeat(32)],
];

for (const [email, name] of derivations) {
  test(`name from e-mail: ${email} -> ${name}`, async (t) => {
    t.is(nameFromEmail(email), name);
    const { store } = openStore(t);
    const user = await store.createUser({ email });
    t.is(user.name, name);
    t.is(
      user.email,
      email.replace(/[A-Z]/g, (c) => c.toLowerCase()),
    );
  });
}

test('name collisions get numeric suffixes: alice, alice2, alice3', async (t) => {
  const { store } = openStore(t);
  const names: string[] = [];
  for (const domain of ['a.com', 'b.com', 'c.com']) {
    names.push((await store.createUser({ email: `alice@${domain}` })).name);
  }
  t.deepEqual(names, ['alice', 'alice2', 'alice3']);
});

test('a derived name avoids names chosen through the text dialect', async (t) => {
  const { store } = openStore(t);
  await store.createUser({ name: 'bob' });
  await store.createUser({ name: 'bob2' });
  t.is((await store.createUser({ email: 'bob@x' })).name, 'bob3');
  t.is((await store.createUser({ email: '..@x' })).name, 'user');
  t.is((await store.createUser({ email: '--@y' })).name, 'user2');
});

test('a long derived name is cut so that its suffix still fits 32 characters', async (t) => {
  const { store } = openStore(t);
  const local = 'x'.repeat(40);
  const names: string[] = [];
  for (let i = 0; i < 10; i++) {
    names.push((await store.createUser({ email: `${local}@d${i}` })).name);
  }
  t.is(names[0], 'x'.repeat(32));
  t.is(names[1], `${'x'.repeat(31)}2`);
  t.is(names[9], `${'x'.repeat(30)}10`);
  t.true(names.every((n) => n.length <= 32 && /^[a-z0-9][a-z0-9._-]{0,31}$/.test(n)));
});

test('concurrent creates from the same local part get distinct names', async (t) => {
  const { store } = openStore(t);
  const users = await Promise.all(
    ['a', 'b', 'c'].map((d) => store.createUser({ email: `dave@${d}`, secret: 'pw' })),
  );
  t.deepEqual(users.map((u) => u.name).sort(), ['dave', 'dave2', 'dave3']);
});

test('/create may carry an explicit name, lowercased [B-5 extension]', async (t) => {
  const { store } = openStore(t);
  const user = await store.createUser({ email: 'e@x', name: 'Front-Door', secret: 'pw' });
  t.is(user.name, 'front-door');
  t.is(store.getByName('FRONT-DOOR')?.id, user.id);
  t.is(store.getByEmail('E@X')?.id, user.id);
});

test('text NEW: a name with or without a secret, ids are v4 UUIDs [T-4, T-6]', async (t) => {
  const { store } = openStore(t, () => 1234);
  const a = await store.createUser({ name: 'Lobby' });
  const b = await store.createUser({ name: 'flat.12', secret: 's3cret' });
  t.deepEqual(a, { id: a.id, name: 'lobby', email: null, hasSecret: false, createdAt: 1234 });
  t.true(b.hasSecret);
  for (const id of [a.id, b.id]) {
    t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  t.deepEqual(store.getById(a.id), a);
  t.deepEqual(
    store.listUsers().map((u) => u.name),
    ['flat.12', 'lobby'],
  );
});

// --- errors --------------------------------------------------------------------------------

const createErrors: ReadonlyArray<
  [title: string, opts: Parameters<AccountStore['createUser']>[0], reason: string]
> = [
  ['neither name nor e-mail', {}, 'invalid'],
  ['only a secret', { secret: 'pw' }, 'invalid'],
  ['empty name', { name: '' }, 'invalid'],
  ['name with a space', { name: 'bad name' }, 'invalid'],
  ['name starting with punctuation', { name: '-lead' }, 'invalid'],
  ['name of 33 characters', { name: 'a'.repeat(33) }, 'invalid'],
  ['name with non-ASCII letters', { name: 'ümlaut' }, 'invalid'],
  ['name with a Kelvin sign (lowercases to k in Unicode)', { name: '\u212Aelvin' }, 'invalid'],
  ['e-mail without @', { email: 'nope' }, 'invalid'],
  ['e-mail with two @', { email: 'a@b@c' }, 'invalid'],
  ['e-mail without local part', { email: '@x' }, 'invalid'],
  ['e-mail without domain', { email: 'a@' }, 'invalid'],
  ['e-mail with a space', { email: 'a b@c' }, 'invalid'],
  ['e-mail with a control character', { email: 'a\u0000@c' }, 'invalid'],
  ['e-mail too long', { email: `a@${'d'.repeat(260)}` }, 'invalid'],
  ['empty secret', { name: 'zed', secret: '' }, 'invalid'],
  ['taken name', { name: 'taken' }, 'exists'],
  ['taken name, other case', { name: 'TAKEN' }, 'exists'],
  ['taken e-mail, other case', { email: 'Taken@Example.com', secret: 'pw' }, 'exists'],
  ['free e-mail but taken explicit name', { email: 'new@x', name: 'taken' }, 'exists'],
];

for (const [title, opts, reason] of createErrors) {
  test(`createUser refuses ${title}: ${reason}`, async (t) => {
    const { store } = openStore(t);
    await store.createUser({ name: 'taken', email: 'taken@example.com' });
    const err = await t.throwsAsync(store.createUser(opts), { instanceOf: AccountError });
    t.is(reasonOf(err), reason);
    t.is(store.listUsers().length, 1);
  });
}

test('two concurrent creates of one e-mail: one wins, the other gets exists', async (t) => {
  const { store } = openStore(t);
  const results = await Promise.allSettled([
    store.createUser({ email: 'race@x', secret: 'one' }),
    store.createUser({ email: 'race@x', secret: 'two' }),
  ]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const rejected = results.find((r) => r.status === 'rejected');
  t.is(reasonOf(rejected?.reason), 'exists');
});

test('operations on unknown users and on oneself are refused with a reason', async (t) => {
  const { store } = openStore(t);
  const a = await store.createUser({ name: 'a' });
  await store.createUser({ name: 'k' });
  const ghost = '00000000-0000-4000-8000-000000000000';
  const cases: Array<[string, () => unknown, string]> = [
    ['issueToken', () => store.issueToken(ghost), 'unknown'],
    ['addContact unknown owner', () => store.addContact(ghost, a.id), 'unknown'],
    ['addContact unknown contact', () => store.addContact(a.id, ghost), 'unknown'],
    ['addContact self', () => store.addContact(a.id, a.id), 'self'],
  ];
  for (const [what, fn, reason] of cases) {
    const err = t.throws(fn, { instanceOf: AccountError }, what);
    t.is(reasonOf(err), reason, what);
  }
  const err = await t.throwsAsync(store.setSecret(ghost, 'pw'), { instanceOf: AccountError });
  t.is(reasonOf(err), 'unknown');
  t.is(
    reasonOf(await t.throwsAsync(store.setSecret(a.id, ''), { instanceOf: AccountError })),
    'invalid',
  );
  t.false(store.deleteUser(ghost));
  t.false(await store.checkSecret(ghost, undefined));
  t.false(store.checkToken(ghost, newToken()));
  t.is(store.getById(ghost), undefined);
  t.is(store.getByName('nobody'), undefined);
  t.is(store.getByName('\u212A'), undefined); // not an alias of a name 'k'
  t.is(store.getByEmail('nobody@x'), undefined);
});

// --- secrets [B-9] -------------------------------------------------------------------------

test('a user with a secret needs it; a user without accepts anything', async (t) => {
  const { store, file } = openStore(t);
  const locked = await store.createUser({ email: 'l@x', secret: 'correct horse' });
  const open = await store.createUser({ name: 'open' });
  t.true(await store.checkSecret(locked.id, 'correct horse'));
  t.false(await store.checkSecret(locked.id, 'Correct horse'));
  t.false(await store.checkSecret(locked.id, ''));
  t.false(await store.checkSecret(locked.id, undefined));
  t.true(await store.checkSecret(open.id, undefined));
  t.true(await store.checkSecret(open.id, 'whatever'));

  const raw = new BetterSqlite3(file, { readonly: true });
  const stored = raw.prepare('SELECT secret_hash FROM users WHERE id = ?').pluck().get(locked.id);
  raw.close();
  t.regex(String(stored), /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  t.false(String(stored).includes('correct horse'));
});

test('setSecret changes or removes a secret and ends existing sessions', async (t) => {
  const { store } = openStore(t);
  const u = await store.createUser({ name: 'door' });
  const token = store.issueToken(u.id);
  await store.setSecret(u.id, 'new');
  t.true(store.getById(u.id)?.hasSecret);
  t.false(await store.checkSecret(u.id, undefined));
  t.true(await store.checkSecret(u.id, 'new'));
  t.false(store.checkToken(u.id, token));
  await store.setSecret(u.id, null);
  t.false(store.getById(u.id)?.hasSecret);
  t.true(await store.checkSecret(u.id, undefined));
});

test('scrypt hashes are salted, unicode-normalized, and malformed ones never match', async (t) => {
  const cheap = { N: 1024, r: 8, p: 1 };
  const a = await hashSecret('pw', cheap);
  const b = await hashSecret('pw', cheap);
  t.not(a, b);
  t.true(await verifySecret('pw', a));
  t.true(await verifySecret('pw', b));
  // "é" precomposed vs "e" + combining accent
  t.true(await verifySecret('caf\u0065\u0301', await hashSecret('caf\u00e9', cheap)));
  const parts = a.split('$');
  for (const bad of [
    '',
    'bcrypt$1024$8$1$AAAA$AAAA',
    a.replace('scrypt$1024', 'scrypt$1000'), // N not a power of two
    a.replace('scrypt$1024', `scrypt$${2 ** 24}`), // beyond the bound
    a.replace('$8$', '$0$'),
    `${parts.slice(0, 5).join('$')}$`,
    `${a}$extra`,
  ]) {
    t.false(await verifySecret('pw', bad), bad);
  }
});

// --- tokens [B-9] --------------------------------------------------------------------------

test('each login issues a new token and invalidates the previous one', async (t) => {
  const { store, file } = openStore(t);
  const a = await store.createUser({ email: 'a@x', secret: 'pw' });
  const b = await store.createUser({ email: 'b@x', secret: 'pw' });
  const t1 = store.issueToken(a.id);
  t.regex(t1, /^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
  t.true(store.checkToken(a.id, t1));
  const t2 = store.issueToken(a.id);
  t.not(t1, t2);
  t.false(store.checkToken(a.id, t1));
  t.true(store.checkToken(a.id, t2));
  t.false(store.checkToken(a.id, `${t2.slice(0, -1)}${t2.endsWith('A') ? 'B' : 'A'}`));
  t.false(store.checkToken(a.id, ''));
  const tb = store.issueToken(b.id);
  t.false(store.checkToken(a.id, tb));
  t.false(store.checkToken(b.id, t2));
  t.true(store.checkToken(b.id, tb));

  const raw = new BetterSqlite3(file, { readonly: true });
  const rows = raw.prepare('SELECT user_id, token_hash FROM tokens').all() as Array<{
    user_id: string;
    token_hash: Buffer;
  }>;
  raw.close();
  t.is(rows.length, 2);
  t.deepEqual(rows.find((r) => r.user_id === a.id)?.token_hash, hashToken(t2));
  t.false(rows.some((r) => r.token_hash.toString('latin1').includes(t2)));

  store.revokeTokens(a.id);
  t.false(store.checkToken(a.id, t2));
  t.true(store.checkToken(b.id, tb));
});

test('tokenMatches is false for a hash of the wrong length', (t) => {
  const token = newToken();
  t.true(tokenMatches(token, hashToken(token)));
  t.false(tokenMatches(token, hashToken(token).subarray(0, 16)));
  t.false(tokenMatches(token, Buffer.alloc(0)));
});

// --- contacts [B-6] ------------------------------------------------------------------------

test('contacts: pending until added back, then accepted on both sides', async (t) => {
  const { store } = openStore(t);
  const ann = await store.createUser({ name: 'ann' });
  const bob = await store.createUser({ name: 'bob' });
  const cat = await store.createUser({ name: 'cat' });
  const view = (id: string) =>
    store.contactsOf(id).map((c) => [c.user.name, c.accepted, c.direction]);

  t.is(store.addContact(ann.id, bob.id), 'pending');
  t.is(store.addContact(ann.id, bob.id), 'pending'); // idempotent
  t.is(store.addContact(cat.id, ann.id), 'pending');
  t.deepEqual(view(ann.id), [
    ['bob', false, 'outgoing'],
    ['cat', false, 'incoming'],
  ]);
  t.deepEqual(view(bob.id), [['ann', false, 'incoming']]);

  t.is(store.addContact(bob.id, ann.id), 'accepted');
  t.is(store.addContact(ann.id, bob.id), 'accepted'); // still idempotent
  t.deepEqual(view(ann.id), [
    ['bob', true, 'mutual'],
    ['cat', false, 'incoming'],
  ]);
  t.deepEqual(view(bob.id), [['ann', true, 'mutual']]);
  t.deepEqual(store.contactsOf(bob.id)[0]?.user, ann);

  t.true(store.removeContact(bob.id, ann.id)); // removes both directions
  t.deepEqual(view(ann.id), [['cat', false, 'incoming']]);
  t.deepEqual(view(bob.id), []);
  t.false(store.removeContact(bob.id, ann.id));
  t.true(store.removeContact(ann.id, cat.id)); // declining an incoming request
  t.deepEqual(view(cat.id), []);
});

test('deleting a user removes their tokens and contacts in both directions', async (t) => {
  const { store, file } = openStore(t);
  const ann = await store.createUser({ name: 'ann' });
  const bob = await store.createUser({ name: 'bob' });
  const cat = await store.createUser({ name: 'cat' });
  store.addContact(ann.id, bob.id);
  store.addContact(bob.id, ann.id);
  store.addContact(cat.id, bob.id);
  store.addContact(bob.id, cat.id);
  const token = store.issueToken(bob.id);

  t.true(store.deleteUser(bob.id));
  t.false(store.deleteUser(bob.id));
  t.is(store.getById(bob.id), undefined);
  t.false(store.checkToken(bob.id, token));
  t.deepEqual(store.contactsOf(ann.id), []);
  t.deepEqual(store.contactsOf(cat.id), []);
  store.close();

  const raw = new BetterSqlite3(file, { readonly: true });
  t.is(raw.prepare('SELECT count(*) FROM contacts').pluck().get(), 0);
  t.is(raw.prepare('SELECT count(*) FROM tokens').pluck().get(), 0);
  raw.close();
});

test('names that collide with the hub MQTT topics are reserved', async (t) => {
  const store = new AccountStore(openDatabase(':memory:'));
  for (const name of ['calls', 'bridge', 'CALLS']) {
    const err = await t.throwsAsync(store.createUser({ name }));
    t.is((err as AccountError).reason, 'invalid');
  }
  // A derived name skips the reserved one.
  t.is((await store.createUser({ email: 'calls@example.org', secret: 'pw' })).name, 'calls2');
  store.close();
});
