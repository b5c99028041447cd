/**
 * Binary dialect accounts, in process: `/create`, `/login`, `/logout`,
 * `/delete` [B table], names [B-5], tokens [B-9].
 */
import test, { type ExecutionContext } from 'ava';
import type { ConnectionLimits } from '../../../hub/context.ts';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { BinaryClient, createdUser } from '../../helpers/binary-client.ts';
import { startHubInProcess as startHub } from '../../helpers/in-process-hub.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]{22,}$/;

/** A hub for one test; its clients are closed, then the hub stopped, at teardown. */
async function hubFor(t: ExecutionContext, limits: Partial<ConnectionLimits> = {}) {
  const h = await startHub([], limits);
  const clients: BinaryClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await h.stop();
  });
  const port = h.hub.binary;
  return {
    async connect(): Promise<BinaryClient> {
      const c = await BinaryClient.connect(port);
      clients.push(c);
      return c;
    },
    async user(mail: string, pass = 'pw', extra: Fields = {}) {
      const u = await createdUser(port, mail, pass, extra);
      clients.push(u.client);
      return u;
    },
  };
}

const auth = (u: { id: string; token: string }): Fields => ({ id: u.id, token: u.token });

test('[B-5] /create answers 201 with id, name and token, and the token works at once', async (t) => {
  const h = await hubFor(t);
  const c = await h.connect();
  const r = await c.request('/create', {}, { user_mail: 'alice@example.org', pass: 'pw' });
  t.is(r.status, 201);
  t.deepEqual(Object.keys(r.fields), ['id', 'name', 'token']);
  t.regex(r.fields.id!, UUID);
  t.is(r.fields.name, 'alice');
  t.regex(r.fields.token!, BASE64URL);
  const contacts = await c.request('/contacts', { id: r.fields.id!, token: r.fields.token! });
  t.is(contacts.status, 200);
  t.is(contacts.raw, '');
});

test('[B-5] names are the lowercased local part of the e-mail, made unique with a numeric suffix', async (t) => {
  const h = await hubFor(t);
  const c = await h.connect();
  const table: Array<[mail: string, name: string]> = [
    ['Alice@example.org', 'alice'],
    ['alice@other.org', 'alice2'],
    ['ALICE@third.org', 'alice3'],
    ['Jo.Smith@example.org', 'jo.smith'],
    ['jo.smith@example.net', 'jo.smith2'],
    ["O'Brien+tag@example.org", 'obrientag'],
    // Names have at most 32 characters [T-4]: the suffix replaces the last one.
    [`${'x'.repeat(40)}@example.org`, 'x'.repeat(32)],
    [`${'x'.repeat(40)}@example.net`, `${'x'.repeat(31)}2`],
  ];
  for (const [mail, name] of table) {
    const r = await c.request('/create', {}, { user_mail: mail, pass: 'pw' });
    t.is(r.status, 201, mail);
    t.is(r.fields.name, name, mail);
  }
});

test('[B-5] the optional `name` field (extension) is taken, lowercased, and derived names avoid it', async (t) => {
  const h = await hubFor(t);
  const c = await h.connect();
  const named = await c.request(
    '/create',
    {},
    { user_mail: 'x@example.org', pass: 'pw', name: 'Door-1' },
  );
  t.is(named.status, 201);
  t.is(named.fields.name, 'door-1');
  const derived = await c.request('/create', {}, { user_mail: 'door-1@example.org', pass: 'pw' });
  t.is(derived.fields.name, 'door-12');
  const taken = await c.request(
    '/create',
    {},
    { user_mail: 'y@example.org', pass: 'pw', name: 'DOOR-1' },
  );
  t.deepEqual([taken.status, taken.fields], [403, { error: 'exists' }]);
  const invalid = await c.request(
    '/create',
    {},
    { user_mail: 'z@example.org', pass: 'pw', name: 'no spaces' },
  );
  t.deepEqual([invalid.status, invalid.fields], [403, { error: 'invalid_name' }]);
});

test('[B-5] /create refusals are 403 with an error', async (t) => {
  const h = await hubFor(t);
  const c = await h.connect();
  t.is((await c.request('/create', {}, { user_mail: 'a@example.org', pass: 'pw' })).status, 201);
  const table: Array<[data: Fields, error: string]> = [
    [{ pass: 'pw' }, 'missing_user_mail'],
    [{ user_mail: 'b@example.org' }, 'missing_pass'],
    [{ user_mail: 'b@example.org', pass: '' }, 'missing_pass'],
    [{ user_mail: 'A@Example.org', pass: 'pw' }, 'exists'],
    [{ user_mail: 'not-an-email', pass: 'pw' }, 'invalid'],
    [{ user_mail: 'two@at@example.org', pass: 'pw' }, 'invalid'],
  ];
  for (const [data, error] of table) {
    const r = await c.request('/create', {}, data);
    t.deepEqual([r.status, r.fields], [403, { error }], JSON.stringify(data));
  }
});

test('[B-5] /create with registration closed is 403 forbidden', async (t) => {
  const h = await hubFor(t, { registration: 'closed' });
  const c = await h.connect();
  const r = await c.request('/create', {}, { user_mail: 'a@example.org', pass: 'pw' });
  t.deepEqual([r.status, r.fields], [403, { error: 'forbidden' }]);
});

test('[B-9] /login answers 200 with a new token each time; the previous token is then refused', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org', 'secret');
  const tokens = [alice.token];
  for (let i = 0; i < 3; i++) {
    const c = await h.connect();
    const r = await c.request('/login', {}, { user_mail: 'ALICE@example.org', pass: 'secret' });
    t.is(r.status, 200);
    t.deepEqual(Object.keys(r.fields), ['id', 'name', 'token']);
    t.like(r.fields, { id: alice.id, name: 'alice' });
    const token = r.fields.token!;
    t.false(tokens.includes(token));
    const old = await c.request('/contacts', { id: alice.id, token: tokens.at(-1)! });
    t.deepEqual([old.status, old.raw], [401, '']);
    t.is((await c.request('/contacts', { id: alice.id, token })).status, 200);
    tokens.push(token);
  }
});

test('[B-9] /login with a wrong password or an unknown e-mail is 401 with no data', async (t) => {
  const h = await hubFor(t);
  await h.user('alice@example.org', 'secret');
  const c = await h.connect();
  for (const data of [
    { user_mail: 'alice@example.org', pass: 'Secret' },
    { user_mail: 'nobody@example.org', pass: 'secret' },
    { user_mail: 'alice', pass: 'wrong' },
  ]) {
    const r = await c.request('/login', {}, data);
    t.deepEqual([r.status, r.raw], [401, ''], JSON.stringify(data));
  }
});

test('/login without its fields is 403 missing_<field> (contract decision)', async (t) => {
  const h = await hubFor(t);
  const c = await h.connect();
  const noMail = await c.request('/login', {}, { pass: 'secret' });
  t.deepEqual([noMail.status, noMail.fields], [403, { error: 'missing_user_mail' }]);
  const noPass = await c.request('/login', {}, { user_mail: 'alice@example.org' });
  t.deepEqual([noPass.status, noPass.fields], [403, { error: 'missing_pass' }]);
});

test('/logout answers 200, after which the token is refused; a wrong token is 401', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org', 'secret');
  const c = await h.connect();
  const wrong = await c.request('/logout', {}, { user_mail: 'alice@example.org', token: 'x' });
  t.deepEqual([wrong.status, wrong.raw], [401, '']);
  const other = await c.request(
    '/logout',
    {},
    { user_mail: 'bob@example.org', token: alice.token },
  );
  t.deepEqual([other.status, other.raw], [401, '']);
  const out = await c.request(
    '/logout',
    {},
    { user_mail: 'alice@example.org', token: alice.token },
  );
  t.deepEqual([out.status, out.raw], [200, '']);
  t.is((await c.request('/contacts', auth(alice))).status, 401);
  const again = await c.request(
    '/logout',
    {},
    { user_mail: 'alice@example.org', token: alice.token },
  );
  t.is(again.status, 401);
  t.is(
    (await c.request('/login', {}, { user_mail: 'alice@example.org', pass: 'secret' })).status,
    200,
  );
});

test('/delete answers 200; the account is then gone: token, login and contacts', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org', 'secret');
  const bob = await h.user('bob@example.org');
  t.is(
    (await bob.client.request('/add_contact', auth(bob), { contact_email: 'alice@example.org' }))
      .status,
    200,
  );
  t.is(
    (await alice.client.request('/add_contact', auth(alice), { contact_email: 'bob@example.org' }))
      .status,
    200,
  );

  const badToken = await alice.client.request('/delete', { id: alice.id, token: bob.token });
  t.deepEqual([badToken.status, badToken.raw], [401, '']);
  const del = await alice.client.request('/delete', auth(alice));
  t.deepEqual([del.status, del.raw], [200, '']);

  t.is((await alice.client.request('/contacts', auth(alice))).status, 401);
  t.is((await alice.client.request('/delete', auth(alice))).status, 401);
  const c = await h.connect();
  const login = await c.request('/login', {}, { user_mail: 'alice@example.org', pass: 'secret' });
  t.deepEqual([login.status, login.raw], [401, '']);
  t.is((await bob.client.request('/contacts', auth(bob))).raw, '');
  const call = await bob.client.request('/call', auth(bob), { contact_id: alice.id });
  t.deepEqual([call.status, call.fields], [403, { error: 'unknown' }]);
  // The e-mail and the name are free again; the new account is a different user.
  const again = await c.request('/create', {}, { user_mail: 'alice@example.org', pass: 'pw' });
  t.is(again.status, 201);
  t.is(again.fields.name, 'alice');
  t.not(again.fields.id, alice.id);
});

test('/delete and every authenticated route refuse a missing or bad header with a bare 401', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const c = await h.connect();
  const headers: Fields[] = [
    {},
    { id: alice.id },
    { token: alice.token },
    { id: alice.id, token: '' },
    { id: 'nobody', token: alice.token },
  ];
  const routes = [
    '/delete',
    '/contacts',
    '/add_contact',
    '/remove_contact',
    '/call',
    '/accept',
    '/hangup',
    '/connect_call',
    '/send',
  ];
  for (const route of routes) {
    for (const header of headers) {
      const r = await c.request(route, header, {});
      t.deepEqual([r.status, r.raw], [401, ''], `${route} ${JSON.stringify(header)}`);
    }
  }
});

test('/logout and /delete end the user session: a call in progress ends `disconnected` for the peer', async (t) => {
  const h = await hubFor(t);
  const bob = await h.user('bob@example.org');
  for (const route of ['/logout', '/delete']) {
    const alice = await h.user(`alice-${route.slice(1)}@example.org`);
    const call = await alice.client.request('/call', auth(alice), { contact_id: bob.id });
    await bob.client.event();
    await bob.client.request('/accept', auth(bob), { call_id: call.fields.call_id! });
    await bob.client.event();
    const r =
      route === '/logout'
        ? await alice.client.request(route, {}, { user_mail: alice.name, token: alice.token })
        : await alice.client.request(route, auth(alice));
    t.is(r.status, 200, route);
    t.deepEqual(
      { ...(await bob.client.event()) },
      {
        event: 'call_ended',
        call_id: call.fields.call_id!,
        reason: 'disconnected',
      },
    );
    const again = await bob.client.request('/call', auth(bob), { contact_id: alice.id });
    t.deepEqual(
      [again.status, again.fields],
      [403, { error: route === '/logout' ? 'offline' : 'unknown' }],
    );
  }
});
