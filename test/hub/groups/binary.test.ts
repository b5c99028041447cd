/**
 * [G-1, G-2, G-3] The binary dialect's section G routes, in process, mixed with text
 * members: `/groups`, `/call` with `group` (answered_elsewhere as `call_ended`), `/page`
 * with `paged` events, and `/relay`.
 */
import test from 'ava';
import { parseRecords } from '../../../protocol/binary/fields.ts';
import { createdUser } from '../../helpers/binary-client.ts';
import { startHubInProcess } from '../../helpers/in-process-hub.ts';
import { connectedClient } from '../../helpers/text-client.ts';

async function setup() {
  const s = await startHubInProcess();
  const alice = await createdUser(s.hub.binary, 'alice@example.com', 'pw', { media_port: '5004' });
  const bob = await createdUser(s.hub.binary, 'bob@example.com', 'pw', { media_port: '6006' });
  const carol = await connectedClient(s.hub.text, 'carol', 7007);
  s.hub.accounts.groups.add('house', ['bob', 'carol']);
  const auth = (u: { id: string; token: string }) => ({ id: u.id, token: u.token });
  return {
    ...s,
    alice,
    bob,
    carol,
    auth,
    async done() {
      alice.client.close();
      bob.client.close();
      carol.close();
      await s.stop();
    },
  };
}

test('[G-1] /groups lists groups with their members; /call with group rings them; answered_elsewhere', async (t) => {
  const h = await setup();
  const list = await h.alice.client.request('/groups', h.auth(h.alice));
  t.is(list.status, 200);
  t.deepEqual(parseRecords(list.raw), [{ name: 'house', members: 'bob carol' }]);
  t.is((await h.alice.client.request('/groups', { id: h.alice.id, token: 'x' })).status, 401);

  const unknown = await h.alice.client.request('/call', h.auth(h.alice), { group: 'nope' });
  t.deepEqual([unknown.status, unknown.fields.error], [403, 'unknown']);
  const call = await h.alice.client.request('/call', h.auth(h.alice), { group: 'House' });
  t.is(call.status, 200);
  t.like(call.fields, { group: 'house', port: '0', ip: '127.0.0.1' });
  const callId = call.fields.call_id!;
  t.like(await h.bob.client.event(), {
    event: 'called',
    call_id: callId,
    from_name: 'alice',
    group: 'house',
  });
  t.is(await h.carol.next(), '105 alice');
  t.is(await h.carol.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
  t.like(await h.bob.client.event(), {
    event: 'call_ended',
    call_id: callId,
    reason: 'answered_elsewhere',
  });
  t.like(await h.alice.client.event(), {
    event: 'call_started',
    call_id: callId,
    peer_name: 'carol',
    ip: '127.0.0.1',
    port: '7007',
  });
  // [G-3] /relay moves it; the sender's own call_started follows its 200
  const moved = await h.alice.client.request('/relay', h.auth(h.alice), { call_id: callId });
  t.is(moved.status, 200);
  const started = await h.alice.client.event();
  t.like(started, { event: 'call_started', call_id: callId, peer_name: 'carol' });
  t.not(started.port, '7007');
  t.regex((await h.carol.next()) ?? '', /^106 alice 127\.0\.0\.1 \d+$/);
  const wrong = await h.alice.client.request('/relay', h.auth(h.alice), { call_id: 'nope' });
  t.deepEqual([wrong.status, wrong.fields.error], [404, 'no_call']);
  await h.done();
});

test('[G-2] /page: the 200 names the relay; members get paged (binary) and 111 (text); /hangup ends it', async (t) => {
  const h = await setup();
  const paged = await h.alice.client.request('/page', h.auth(h.alice), { group: 'house' });
  t.is(paged.status, 200);
  t.like(paged.fields, { group: 'house', ip: '127.0.0.1' });
  t.true(Number(paged.fields.port) > 0);
  t.is(paged.fields.srtp_send, undefined, 'plaintext: no keys');
  const ev = await h.bob.client.event();
  t.like(ev, { event: 'paged', call_id: paged.fields.call_id, from_name: 'alice', group: 'house' });
  t.true(Number(ev.port) > 0);
  t.regex((await h.carol.next()) ?? '', /^111 alice 127\.0\.0\.1 \d+$/);
  const again = await h.alice.client.request('/page', h.auth(h.alice), { group: 'house' });
  t.deepEqual([again.status, again.fields.error], [403, 'in_call']);
  const end = await h.alice.client.request('/hangup', h.auth(h.alice), {
    call_id: paged.fields.call_id!,
  });
  t.is(end.status, 200);
  t.like(await h.bob.client.event(), { event: 'call_ended', reason: 'ended' });
  t.is(await h.carol.next(), '107 alice ended');
  await h.done();
});
