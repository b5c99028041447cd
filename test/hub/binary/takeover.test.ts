/**
 * Takeover for the binary dialect, in process [T-8]: a newer login of the same user closes
 * the old session connection and ends its call `disconnected` for the peer [T-10].
 */
import test, { type ExecutionContext } from 'ava';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { BinaryClient, createdUser } from '../../helpers/binary-client.ts';
import { startHubInProcess as startHub } from '../../helpers/in-process-hub.ts';
import { TextClient } from '../../helpers/text-client.ts';

type User = Awaited<ReturnType<typeof createdUser>>;

/** A hub for one test; its clients are closed, then the hub stopped, at teardown. */
async function hubFor(t: ExecutionContext) {
  const h = await startHub();
  const clients: Array<BinaryClient | TextClient> = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await h.stop();
  });
  return {
    hub: h.hub,
    async connect(): Promise<BinaryClient> {
      const c = await BinaryClient.connect(h.hub.binary);
      clients.push(c);
      return c;
    },
    async text(): Promise<TextClient> {
      const c = await TextClient.connect(h.hub.text);
      clients.push(c);
      return c;
    },
    async user(mail: string, extra: Fields = {}): Promise<User> {
      const u = await createdUser(h.hub.binary, mail, 'pw', extra);
      clients.push(u.client);
      return u;
    },
  };
}

const auth = (u: { id: string; token: string }): Fields => ({ id: u.id, token: u.token });

/** Alice calls Bob; Bob accepts unless `answer` is false. */
async function call(alice: User, bob: User, answer = true): Promise<string> {
  const r = await alice.client.request('/call', auth(alice), { contact_id: bob.id });
  if (r.status !== 200) throw new Error(`/call ${r.status} ${r.raw}`);
  await bob.client.event();
  if (answer) {
    await bob.client.request('/accept', auth(bob), { call_id: r.fields.call_id! });
    await bob.client.event();
    await alice.client.event();
  }
  return r.fields.call_id!;
}

test('[T-8] a second /login of a user in a call closes the old connection; the peer sees `disconnected`', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const bob = await h.user('bob@example.org');
  const callId = await call(alice, bob);

  const again = await h.connect();
  const login = await again.request('/login', {}, { user_mail: 'alice@example.org', pass: 'pw' });
  t.is(login.status, 200);
  await alice.client.waitClosed();
  t.deepEqual(
    { ...(await bob.client.event()) },
    {
      event: 'call_ended',
      call_id: callId,
      reason: 'disconnected',
    },
  );
  // The new connection is Alice's session now: calls reach it, and its token works.
  const newAlice = { ...alice, token: login.fields.token!, client: again };
  t.is((await bob.client.request('/hangup', auth(bob), { call_id: callId })).status, 404);
  const back = await bob.client.request('/call', auth(bob), { contact_id: alice.id });
  t.is(back.status, 200);
  t.like(await again.event(), { event: 'called', from_name: 'bob' });
  t.is(
    (await again.request('/accept', auth(newAlice), { call_id: back.fields.call_id! })).status,
    200,
  );
  t.like(await again.event(), { event: 'call_started', peer_name: 'bob' });
});

test('[T-8] a takeover while ringing ends the call `disconnected` for the callee', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const bob = await h.user('bob@example.org');
  const callId = await call(alice, bob, false);
  const again = await h.connect();
  t.is(
    (await again.request('/login', {}, { user_mail: 'alice@example.org', pass: 'pw' })).status,
    200,
  );
  await alice.client.waitClosed();
  t.deepEqual(
    { ...(await bob.client.event()) },
    {
      event: 'call_ended',
      call_id: callId,
      reason: 'disconnected',
    },
  );
  t.is((await bob.client.request('/accept', auth(bob), { call_id: callId })).status, 404);
});

test('[T-8] a text CONNECT with the binary user name and password takes the session over', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const bob = await h.user('bob@example.org');
  const callId = await call(alice, bob);
  const text = await h.text();
  t.regex((await text.request('CONNECT alice 0 pw')) ?? '', /^101 [0-9a-f-]{36} alice$/);
  await alice.client.waitClosed();
  t.like(await bob.client.event(), {
    event: 'call_ended',
    call_id: callId,
    reason: 'disconnected',
  });
  const back = await bob.client.request('/call', auth(bob), { contact_id: alice.id });
  t.is(back.status, 200);
  t.is(await text.next(), '105 bob');
});

test('[T-8] /create then /login on the same connection keeps that connection: nothing to take over', async (t) => {
  const h = await hubFor(t);
  const c = await h.connect();
  const created = await c.request('/create', {}, { user_mail: 'alice@example.org', pass: 'pw' });
  t.is(created.status, 201);
  const login = await c.request('/login', {}, { user_mail: 'alice@example.org', pass: 'pw' });
  t.is(login.status, 200);
  const relogin = await c.request(
    '/login',
    {},
    { user_mail: 'alice@example.org', pass: 'pw', media_port: '5004' },
  );
  t.is(relogin.status, 200);
  t.false(c.closed);
  const alice = { id: login.fields.id!, token: relogin.fields.token! };
  t.is((await c.request('/contacts', auth(alice))).status, 200);
  // Still Alice's live session: a call reaches it, with the media port of the last login.
  const bob = await h.user('bob@example.org', { media_port: '6006' });
  const r = await bob.client.request('/call', auth(bob), { contact_id: alice.id });
  t.like(r.fields, { ip: '127.0.0.1', port: '5004' });
  t.like(await c.event(), { event: 'called', from_name: 'bob' });
});

test('[T-8] a login as another user on the same connection hands the connection over', async (t) => {
  const h = await hubFor(t);
  const carol = await h.user('carol@example.org');
  const c = await h.connect();
  const a = await c.request('/create', {}, { user_mail: 'alice@example.org', pass: 'pw' });
  const b = await c.request('/create', {}, { user_mail: 'bob@example.org', pass: 'pw' });
  t.deepEqual([a.status, b.status], [201, 201]);
  // Alice is offline now; Bob is the connection's session.
  const toAlice = await carol.client.request('/call', auth(carol), { contact_id: a.fields.id! });
  t.deepEqual([toAlice.status, toAlice.fields], [403, { error: 'offline' }]);
  const toBob = await carol.client.request('/call', auth(carol), { contact_id: b.fields.id! });
  t.is(toBob.status, 200);
  t.like(await c.event(), { event: 'called', from_name: 'carol' });
});
