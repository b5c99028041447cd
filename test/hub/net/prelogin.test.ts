/**
 * [S-8] Connections that have not logged in, in process on a FakeClock: at most 32 from
 * one address and 1,024 in all (configurable), the rest closed at accept; a login
 * deadline of 10 s from accept that bytes do not extend; logged-in clients keep being
 * served throughout.
 */
import type { Duplex } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { BinaryClient } from '../../helpers/binary-client.ts';
import { SEED_ENV, tempDir } from '../../helpers/hub.ts';
import { within } from '../../helpers/hub-events.ts';
import { startHubInProcess, type TestHubInProcess } from '../../helpers/in-process-hub.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

async function hubWith(
  t: ExecutionContext,
  env: NodeJS.ProcessEnv = {},
): Promise<TestHubInProcess> {
  const h = await startHubInProcess([], {}, tempDir(), { ...SEED_ENV, ...env });
  t.teardown(() => h.stop());
  return h;
}

/** Resolves once `s` closed; never rejects. */
function closed(s: Duplex): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

/** A raw connection that reads (so that a close is seen) and ignores errors. */
function raw(dial: () => Duplex): Duplex {
  const s = dial();
  s.on('error', () => {});
  s.resume();
  return s;
}

const BOUND = 5000;

test('32 waiting connections from one address are held; the 33rd is closed at accept, another address is not', async (t) => {
  const h = await hubWith(t);
  const { access } = h.hub;
  const held = Array.from({ length: 32 }, () =>
    raw(() => h.hub.text.connect({ address: '10.0.0.66' })),
  );
  t.is(access.gate.pending, 32);
  const refused = raw(() => h.hub.binary.connect({ address: '10.0.0.66' }));
  t.true(await within(closed(refused), BOUND), 'the 33rd is closed');
  t.is(access.gate.refused, 1);
  t.false(held.some((s) => s.destroyed));
  const other = await TextClient.connect(h.hub.text, '10.0.0.2');
  t.is(await other.request('PING'), '109');
  for (const s of [...held, other.socket]) s.destroy();
});

test('the total cap counts both dialects together; a login gives the place back', async (t) => {
  const h = await hubWith(t, { BABEL_HUB_CONNECTIONS__PRELOGIN_TOTAL: '4' });
  const { access } = h.hub;
  const alice = await TextClient.connect(h.hub.text, '10.0.0.1');
  t.is(await alice.request('NEW alice'), '108 alice');
  const others = [
    raw(() => h.hub.binary.connect({ address: '10.0.0.2' })),
    raw(() => h.hub.text.connect({ address: '10.0.0.3' })),
    raw(() => h.hub.binary.connect({ address: '10.0.0.4' })),
  ];
  t.is(access.gate.pending, 4);
  const fifth = raw(() => h.hub.text.connect({ address: '10.0.0.5' }));
  t.true(await within(closed(fifth), BOUND));
  t.regex((await alice.request('CONNECT alice 0')) ?? '', /^101 /);
  t.is(access.gate.pending, 3);
  const sixth = await TextClient.connect(h.hub.text, '10.0.0.6');
  t.is(await sixth.request('PING'), '109');
  for (const s of [...others, alice.socket, sixth.socket]) s.destroy();
});

test('the login deadline closes a connection 10 s after accept however much it talks; a logged-in one stays', async (t) => {
  const h = await hubWith(t);
  const member = await connectedClient(h.hub.text, 'member');
  const talker = await TextClient.connect(h.hub.text, '10.0.0.66');
  const bin = raw(() => h.hub.binary.connect({ address: '10.0.0.67' }));
  for (let s = 0; s < 4; s++) {
    h.clock.advance(2000); // 8 s in all
    t.is(await talker.request(`PING ${s}`), `109 ${s}`);
  }
  h.clock.advance(1999);
  t.is(await talker.request('PING last'), '109 last');
  t.false(bin.destroyed);
  h.clock.advance(1);
  t.true(await within(talker.waitClosed(BOUND), BOUND), 'closed at the deadline');
  t.true(await within(closed(bin), BOUND), 'binary too');
  h.clock.advance(20_000);
  t.is(await member.request('PING still'), '109 still');
  t.is(await member.request('USERS'), '103 member:idle');
  member.close();
});

test('a binary login beats the deadline, and so does a call channel that authenticates with its token [B-8]', async (t) => {
  const h = await hubWith(t);
  const c = await BinaryClient.connect(h.hub.binary);
  const created = await c.request(
    '/create',
    {},
    { user_mail: 'a@example.org', pass: 'pw' },
    15_000,
  );
  t.is(created.status, 201);
  const { id, token } = created.fields;
  const channel = await BinaryClient.connect(h.hub.binary);
  const r = await channel.request('/contacts', { id: id ?? '', token: token ?? '' });
  t.is(r.status, 200);
  h.clock.advance(30_000);
  t.is((await c.request('/contacts', { id: id ?? '', token: token ?? '' })).status, 200);
  t.is((await channel.request('/contacts', { id: id ?? '', token: token ?? '' })).status, 200);
  c.close();
  channel.close();
});

test('while strangers hold every place, a logged-in client keeps calling', async (t) => {
  const h = await hubWith(t, { BABEL_HUB_CONNECTIONS__PRELOGIN_TOTAL: '64' });
  const alice = await connectedClient(h.hub.text, 'alice');
  const bob = await connectedClient(h.hub.text, 'bob');
  const strangers = Array.from({ length: 80 }, (_, i) =>
    raw(() => h.hub.text.connect({ address: `10.9.0.${i % 3}` })),
  );
  t.is(h.hub.access.gate.pending, 64);
  t.is(await alice.request('CALL bob'), '104 bob');
  t.is(await bob.next(), '105 alice');
  t.regex((await bob.request('ACCEPT alice')) ?? '', /^106 alice /);
  t.regex((await alice.next()) ?? '', /^106 bob /);
  h.clock.advance(10_000);
  t.true(await within(Promise.all(strangers.map(closed)), BOUND));
  t.is(h.hub.access.gate.pending, 0);
  t.regex((await alice.request('HANGUP bob')) ?? '', /^107 bob ended$/);
  alice.close();
  bob.close();
});
