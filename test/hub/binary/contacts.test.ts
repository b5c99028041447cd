/**
 * Binary dialect contacts, in process [B-6]: requests, acceptance by
 * adding back, live status, removal, refusals and the record format [B-4].
 */
import test, { type ExecutionContext } from 'ava';
import type { CallCore } from '../../../hub/core/call-core.ts';
import type { UserState } from '../../../hub/core/types.ts';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { BinaryClient, createdUser, parseRecords } from '../../helpers/binary-client.ts';
import { untilState, within } from '../../helpers/hub-events.ts';
import { startHubInProcess as startHub } from '../../helpers/in-process-hub.ts';
import { connectedClient, type TextClient } from '../../helpers/text-client.ts';

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
    async user(mail: string, extra: Fields = {}): Promise<User> {
      const u = await createdUser(h.hub.binary, mail, 'pw', extra);
      clients.push(u.client);
      return u;
    },
    async textUser(name: string): Promise<TextClient> {
      const c = await connectedClient(h.hub.text, name);
      clients.push(c);
      return c;
    },
  };
}

const auth = (u: { id: string; token: string }): Fields => ({ id: u.id, token: u.token });

async function add(u: User, contact: string) {
  return u.client.request('/add_contact', auth(u), { contact_email: contact });
}

async function contacts(u: User): Promise<Fields[]> {
  const r = await u.client.request('/contacts', auth(u));
  if (r.status !== 200) throw new Error(`/contacts ${r.status}`);
  return parseRecords(r.raw).map((f) => ({ ...f }));
}

/** The status `u` sees for contact `id`, once the hub has it `want` (bounded wait). */
async function statusOf(
  core: CallCore,
  u: User,
  id: string,
  want: string,
  ms = 3000,
): Promise<string | undefined> {
  const status = (await contacts(u)).find((c) => c.id === id)?.status;
  if (status === want) return status;
  await within(untilState(core, id, want as UserState), ms);
  return (await contacts(u)).find((c) => c.id === id)?.status;
}

test('[B-6] /add_contact makes a pending request that both users see as pending', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const bob = await h.user('bob@example.org');
  const r = await add(alice, 'Bob@Example.org');
  t.deepEqual([r.status, r.raw], [200, '']);
  const a = await alice.client.request('/contacts', auth(alice));
  t.is(a.raw, `[id: "${bob.id}", name: "bob", status: "pending"]`);
  const b = await bob.client.request('/contacts', auth(bob));
  t.is(b.raw, `[id: "${alice.id}", name: "alice", status: "pending"]`);
  // Asking again is harmless and changes nothing.
  t.is((await add(alice, 'bob@example.org')).status, 200);
  t.deepEqual(await contacts(alice), [{ id: bob.id, name: 'bob', status: 'pending' }]);
});

test('[B-6] adding back accepts; status is then live: idle, calling, ringing, in_call, offline', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const bob = await h.user('bob@example.org');
  await add(alice, 'bob@example.org');
  t.is((await add(bob, 'alice@example.org')).status, 200);
  t.deepEqual(await contacts(alice), [{ id: bob.id, name: 'bob', status: 'idle' }]);
  t.deepEqual(await contacts(bob), [{ id: alice.id, name: 'alice', status: 'idle' }]);

  const call = await alice.client.request('/call', auth(alice), { contact_id: bob.id });
  t.is(call.status, 200);
  t.is(await statusOf(h.hub.core, bob, alice.id, 'calling'), 'calling');
  t.is(await statusOf(h.hub.core, alice, bob.id, 'ringing'), 'ringing');
  const called = await bob.client.event();
  t.is((await bob.client.request('/accept', auth(bob), { call_id: called.call_id! })).status, 200);
  t.is(await statusOf(h.hub.core, bob, alice.id, 'in_call'), 'in_call');
  t.is(await statusOf(h.hub.core, alice, bob.id, 'in_call'), 'in_call');
  t.is(
    (await alice.client.request('/hangup', auth(alice), { call_id: call.fields.call_id! })).status,
    200,
  );
  t.is(await statusOf(h.hub.core, bob, alice.id, 'idle'), 'idle');

  alice.client.close();
  t.is(await statusOf(h.hub.core, bob, alice.id, 'offline'), 'offline');
});

test('[B-4][B-6] /contacts lists records `[id: "..", name: "..", status: ".."], [...]` sorted by name', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const carol = await h.user('carol@example.org');
  const bob = await h.user('bob@example.org');
  await add(alice, 'carol@example.org');
  await add(alice, 'bob@example.org');
  await add(carol, 'alice@example.org');
  const r = await alice.client.request('/contacts', auth(alice));
  t.is(r.status, 200);
  t.is(
    r.raw,
    `[id: "${bob.id}", name: "bob", status: "pending"], ` +
      `[id: "${carol.id}", name: "carol", status: "idle"]`,
  );
});

test('[B-6] /remove_contact ends the contact for both users, pending or accepted', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const bob = await h.user('bob@example.org');
  const carol = await h.user('carol@example.org');
  await add(alice, 'bob@example.org');
  await add(bob, 'alice@example.org');
  await add(carol, 'alice@example.org');

  const removed = await alice.client.request('/remove_contact', auth(alice), {
    contact_id: bob.id,
  });
  t.deepEqual([removed.status, removed.raw], [200, '']);
  t.deepEqual(await contacts(bob), []);
  // Declining an incoming request is removing it.
  t.is(
    (await alice.client.request('/remove_contact', auth(alice), { contact_id: carol.id })).status,
    200,
  );
  t.deepEqual(await contacts(alice), []);
  t.deepEqual(await contacts(carol), []);

  const again = await alice.client.request('/remove_contact', auth(alice), { contact_id: bob.id });
  t.deepEqual([again.status, again.fields], [403, { error: 'not_contact' }]);
  const missing = await alice.client.request('/remove_contact', auth(alice), {});
  t.deepEqual([missing.status, missing.fields], [403, { error: 'missing_contact_id' }]);
});

test('[B-6] /add_contact refuses an unknown contact, oneself and a missing e-mail with 403', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  const table: Array<[data: Fields, error: string]> = [
    [{ contact_email: 'nobody@example.org' }, 'unknown'],
    [{ contact_email: 'nobody' }, 'unknown'],
    [{ contact_email: 'alice@example.org' }, 'self'],
    [{ contact_email: 'ALICE' }, 'self'],
    [{}, 'missing_contact_email'],
  ];
  for (const [data, error] of table) {
    const r = await alice.client.request('/add_contact', auth(alice), data);
    t.deepEqual([r.status, r.fields], [403, { error }], JSON.stringify(data));
  }
  t.deepEqual(await contacts(alice), []);
});

test('[B-6] contact_email may be a bare user name (extension): text users become contacts', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org');
  await h.user('bob@example.org');
  const door = await h.textUser('door');
  t.is((await add(alice, 'door')).status, 200);
  t.is((await add(alice, 'BOB')).status, 200);
  const listed = await contacts(alice);
  t.deepEqual(
    listed.map((c) => [c.name, c.status]),
    [
      ['bob', 'pending'],
      ['door', 'pending'],
    ],
  );
  // The listed id is the text user's [T-6] uuid: a binary user can call it.
  const doorId = listed.find((c) => c.name === 'door')!.id!;
  const call = await alice.client.request('/call', auth(alice), { contact_id: doorId });
  t.is(call.status, 200);
  t.is(await door.next(), '105 alice');
});
