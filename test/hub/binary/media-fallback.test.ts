/**
 * The binary dialect's TCP media fallback, in process [B-8]: each party opens a new
 * connection with `/connect_call`, and `/send` batches on one arrive at the other as
 * `packets` events [B-7].
 */
import test, { type ExecutionContext } from 'ava';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { encodeRequest } from '../../../protocol/binary/frame.ts';
import { BinaryClient, createdUser } from '../../helpers/binary-client.ts';
import { startHubInProcess as startHub } from '../../helpers/in-process-hub.ts';

type User = Awaited<ReturnType<typeof createdUser>>;

const auth = (u: { id: string; token: string }): Fields => ({ id: u.id, token: u.token });

/** Alice calls Bob, who accepts; both events are consumed. Torn down after the test. */
async function inCall(t: ExecutionContext, accept = true) {
  const h = await startHub();
  const clients: BinaryClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await h.stop();
  });
  const port = h.hub.binary;
  const user = async (mail: string): Promise<User> => {
    const u = await createdUser(port, mail);
    clients.push(u.client);
    return u;
  };
  const connect = async (): Promise<BinaryClient> => {
    const c = await BinaryClient.connect(port);
    clients.push(c);
    return c;
  };
  const alice = await user('alice@example.org');
  const bob = await user('bob@example.org');
  const carol = await user('carol@example.org');
  const r = await alice.client.request('/call', auth(alice), { contact_id: bob.id });
  const callId = r.fields.call_id!;
  await bob.client.event();
  if (accept) {
    await bob.client.request('/accept', auth(bob), { call_id: callId });
    await bob.client.event();
    await alice.client.event();
  }
  /** A new connection made `u`'s call channel [B-8]. */
  const channel = async (u: User): Promise<BinaryClient> => {
    const c = await connect();
    const res = await c.request('/connect_call', auth(u), { call_id: callId });
    if (res.status !== 200) throw new Error(`/connect_call ${res.status} ${res.raw}`);
    return c;
  };
  return { alice, bob, carol, callId, connect, channel };
}

/** A `/send` data list carrying `packets` [B-8]. */
function batch(packets: Buffer[], type = 'opus'): Fields {
  const size = packets[0]?.length ?? 0;
  return {
    type,
    nb_packets: String(packets.length),
    size_packet: String(size),
    packets: Buffer.concat(packets).toString('base64'),
  };
}

test('[B-8] /send batches on /connect_call channels arrive at the other party as `packets` with identical fields', async (t) => {
  const { alice, bob, channel } = await inCall(t);
  const a = await channel(alice);
  const b = await channel(bob);
  const fromAlice = batch([Buffer.from('abcd'), Buffer.from('efgh'), Buffer.from([0, 1, 2, 255])]);
  const sent = await a.request('/send', auth(alice), fromAlice);
  t.deepEqual([sent.status, sent.raw], [200, '']);
  t.deepEqual({ ...(await b.event()) }, { event: 'packets', ...fromAlice });

  const fromBob = batch([Buffer.alloc(160, 7)], 'pcm');
  t.is((await b.request('/send', auth(bob), fromBob)).status, 200);
  t.deepEqual({ ...(await a.event()) }, { event: 'packets', ...fromBob });

  // Many batches keep their order; the session connections see none of them.
  for (let i = 0; i < 20; i++) a.send('/send', auth(alice), batch([Buffer.from([i, i])]));
  for (let i = 0; i < 20; i++) {
    t.is((await a.response()).status, 200);
    t.is((await b.event()).packets, Buffer.from([i, i]).toString('base64'));
  }
  t.is((await alice.client.request('/contacts', auth(alice))).status, 200);
  t.is((await bob.client.request('/contacts', auth(bob))).status, 200);
  t.is(alice.client.pendingEvents + bob.client.pendingEvents, 0);
});

test('[B-8] a ringing call can already be connected (the seed connects right after /call)', async (t) => {
  const { alice, bob, channel } = await inCall(t, false);
  const a = await channel(alice);
  const b = await channel(bob);
  t.is((await a.request('/send', auth(alice), batch([Buffer.from('hi')]))).status, 200);
  t.is((await b.event()).packets, Buffer.from('hi').toString('base64'));
});

test('[B-8] bad base64, a size mismatch or bad counts are 403 bad_packets and nothing is forwarded', async (t) => {
  const { alice, bob, channel } = await inCall(t);
  const a = await channel(alice);
  const b = await channel(bob);
  const good = batch([Buffer.from('abc')]);
  const table: Array<[name: string, data: Fields, error: string]> = [
    ['not base64 at all', { ...good, packets: '!!!!' }, 'bad_packets'],
    ['base64 with a stray character', { ...good, packets: 'AA$AA' }, 'bad_packets'],
    ['base64 with inner spaces', { ...good, packets: 'YW Jj' }, 'bad_packets'],
    ['one byte short', { ...good, size_packet: '4' }, 'bad_packets'],
    ['one packet too many', { ...good, nb_packets: '2' }, 'bad_packets'],
    ['zero packets', { ...good, nb_packets: '0', packets: '' }, 'missing_packets'],
    ['zero size', { ...good, size_packet: '0' }, 'bad_packets'],
    ['negative count', { ...good, nb_packets: '-1' }, 'bad_packets'],
    ['count not a number', { ...good, nb_packets: 'one' }, 'bad_packets'],
    ['no type', { nb_packets: '1', size_packet: '3', packets: good.packets! }, 'missing_type'],
    ['no packets', { type: 'opus', nb_packets: '1', size_packet: '3' }, 'missing_packets'],
  ];
  for (const [name, data, error] of table) {
    const r = await a.request('/send', auth(alice), data);
    t.deepEqual([r.status, r.fields], [403, { error }], name);
  }
  // Only the good batch gets through, and it is the first event Bob's channel sees.
  t.is((await a.request('/send', auth(alice), good)).status, 200);
  t.deepEqual({ ...(await b.event()) }, { event: 'packets', ...good });
  t.is(b.pendingEvents, 0);
});

test('[B-8] bare digit counts are accepted (field-list extension [B-4])', async (t) => {
  const { alice, bob, channel } = await inCall(t);
  const a = await channel(alice);
  const b = await channel(bob);
  a.writeRaw(
    encodeRequest({
      header: `id: "${alice.id}", token: "${alice.token}"`,
      route: '/send',
      data: `type: "opus", nb_packets: 2, size_packet: 1, packets: "AAE="`,
    }),
  );
  t.is((await a.response()).status, 200);
  t.like(await b.event(), { nb_packets: '2', size_packet: '1', packets: 'AAE=' });
});

test('[B-8] /send without /connect_call is 403, on the session connection or a fresh one', async (t) => {
  const { alice, bob, connect, channel } = await inCall(t);
  await channel(bob);
  const onSession = await alice.client.request('/send', auth(alice), batch([Buffer.from('x')]));
  t.deepEqual([onSession.status, onSession.fields], [403, { error: 'no_call' }]);
  const fresh = await connect();
  const onFresh = await fresh.request('/send', auth(alice), batch([Buffer.from('x')]));
  t.deepEqual([onFresh.status, onFresh.fields], [403, { error: 'no_call' }]);
});

test('[B-8] a channel belongs to its user: /send on it with another user token is 403', async (t) => {
  const { alice, bob, channel } = await inCall(t);
  const a = await channel(alice);
  await channel(bob);
  const r = await a.request('/send', auth(bob), batch([Buffer.from('x')]));
  t.deepEqual([r.status, r.fields], [403, { error: 'no_call' }]);
});

test('[B-8] /send before the peer connected its channel is 403 peer_unreachable', async (t) => {
  const { alice, channel } = await inCall(t);
  const a = await channel(alice);
  const r = await a.request('/send', auth(alice), batch([Buffer.from('x')]));
  t.deepEqual([r.status, r.fields], [403, { error: 'peer_unreachable' }]);
});

test('[B-8] /connect_call refusals: 404 for a wrong call_id or a user not in the call, 401 without a token', async (t) => {
  const { alice, carol, callId, connect } = await inCall(t);
  const c = await connect();
  const wrong = await c.request('/connect_call', auth(alice), {
    call_id: '22222222-2222-4222-8222-222222222222',
  });
  t.deepEqual([wrong.status, wrong.fields], [404, { error: 'no_call' }]);
  const stranger = await c.request('/connect_call', auth(carol), { call_id: callId });
  t.deepEqual([stranger.status, stranger.fields], [404, { error: 'no_call' }]);
  const missing = await c.request('/connect_call', auth(alice), {});
  t.deepEqual([missing.status, missing.fields], [404, { error: 'missing_call_id' }]);
  const noToken = await c.request('/connect_call', { id: alice.id }, { call_id: callId });
  t.deepEqual([noToken.status, noToken.raw], [401, '']);
});

test('[B-8] once the call ends, /send on its channel is 403 no_call', async (t) => {
  const { alice, bob, callId, channel } = await inCall(t);
  const a = await channel(alice);
  await channel(bob);
  t.is((await bob.client.request('/hangup', auth(bob), { call_id: callId })).status, 200);
  const r = await a.request('/send', auth(alice), batch([Buffer.from('x')]));
  t.deepEqual([r.status, r.fields], [403, { error: 'no_call' }]);
});
