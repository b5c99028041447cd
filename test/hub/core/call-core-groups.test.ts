/**
 * [G-1, G-2, G-3] The call core's group calls, pages and relay moves, on a fake relay:
 * relays per rung member, failures, takeover while ringing, the counters.
 */
import test from 'ava';
import type { GroupRef } from '../../../hub/core/call-core.ts';
import { failure, setup } from './fixtures/core.ts';

function group(s: ReturnType<typeof setup>, name: string, members: string[]): GroupRef {
  return { name, members: members.map((m) => s.user(m)) };
}

test('[G-1, T-9] a ring opens a relay only for the members that need one; the winner keeps its own', async (t) => {
  const s = setup('auto');
  const alice = s.connect('alice', 5000);
  const bob = s.connect('bob', 0); // no media port: relayed
  s.connect('carol', 7000);
  s.connect('dave', 0);
  await s.core.callGroup(alice, group(s, 'house', ['bob', 'carol', 'dave']), (info, media) => {
    t.deepEqual(media, { ip: '10.0.0.1', port: 0 });
    t.is(info.callee.name, 'house');
  });
  t.is(s.relay.open, 2, 'bob and dave');
  s.core.accept(bob, { peer: 'alice' }, (info, peer, media) => {
    t.true(info.relayed);
    t.is(peer.name, 'alice');
    t.deepEqual(media, { ip: '10.0.0.1', port: 40001 });
  });
  t.is(s.relay.open, 1, "dave's relay released");
  t.is(s.sink('alice').log.at(-1), '106 bob 10.0.0.1 40000');
  t.is(s.sink('dave').log.at(-1), '107 alice answered_elsewhere');
  t.is(s.sink('carol').log.at(-1), '107 alice answered_elsewhere');
  s.core.hangup(alice, { peer: 'bob' }, () => {});
  t.is(s.relay.open, 0);
});

test('[G-1] a member whose relay cannot open is not rung; none left is offline', async (t) => {
  const s = setup('always');
  const alice = s.connect('alice');
  s.connect('bob');
  s.relay.fail = true;
  t.is(await failure(s.core.callGroup(alice, group(s, 'house', ['bob']), () => {})), 'offline');
  t.is(s.core.stateOf('id-alice'), 'idle');
  t.is(s.core.stateOf('id-bob'), 'idle');
  t.deepEqual(s.sink('bob').log, []);
});

test('[G-1, T-8] a member taken over while ringing leaves the ring; the others ring on', async (t) => {
  const s = setup();
  const alice = s.connect('alice');
  s.connect('bob');
  const carol = s.connect('carol');
  await s.core.callGroup(alice, group(s, 'house', ['bob', 'carol']), () => {});
  s.connect('bob'); // bob's device reconnects: a new, idle session
  t.is(s.core.stateOf('id-bob'), 'idle');
  t.is(s.core.stateOf('id-alice'), 'calling');
  s.core.accept(carol, { peer: 'alice' }, () => {});
  t.is(s.sink('alice').log.at(-1), '106 carol 127.0.0.3 5000');
  t.deepEqual(s.sink('bob').log, [], 'the new session heard nothing of the old ring');
  t.deepEqual(
    s.calls.map((e) => `${e.event} ${e.call.callee.name} ${e.call.group}`),
    ['ringing house house', 'started carol house'],
  );
  t.is(s.core.stats.groupCalls, 1);
});

test('[G-1] CALL <group> while in a call is in_call; the caller is never rung by its own group', async (t) => {
  const s = setup();
  const alice = s.connect('alice');
  s.connect('bob');
  t.is(await failure(s.core.callGroup(alice, group(s, 'solo', ['alice']), () => {})), 'offline');
  await s.core.call(alice, s.user('bob'), () => {});
  t.is(await failure(s.core.callGroup(alice, group(s, 'house', ['bob']), () => {})), 'in_call');
});

test('[G-2, S-4] a page draws fresh keys per secure leg and none for plain legs; relay failure is busy', async (t) => {
  const s = setup();
  const alice = s.connect('alice', 5000, '127.0.0.1', true);
  s.connect('bob', 6000, '127.0.0.2', true);
  s.connect('carol', 7000, '127.0.0.3', false);
  let sourceKeys = null as unknown;
  await s.core.page(alice, group(s, 'house', ['bob', 'carol']), (_info, media, srtp) => {
    t.deepEqual(media, { ip: '10.0.0.1', port: 40000 });
    sourceKeys = srtp;
  });
  const [fan] = s.relay.fanouts;
  t.deepEqual(fan?.source.srtp, sourceKeys);
  t.truthy(fan?.members[0]?.srtp);
  t.is(fan?.members[1]?.srtp, null);
  t.not(fan?.members[0]?.srtp?.recv, fan?.source.srtp?.send);
  t.deepEqual(s.sink('bob').log, ['111 alice 10.0.0.1 40001']);
  t.deepEqual(s.sink('carol').log, ['111 alice 10.0.0.1 40002']);
  t.deepEqual(s.sink('bob').keys, [fan?.members[0]?.srtp]);
  s.core.hangup(s.core.sessionOf('id-carol')!, { peer: 'alice' }, () => {});
  t.deepEqual(fan?.dropped, [1]);
  s.core.hangup(s.core.sessionOf('id-bob')!, { peer: 'alice' }, () => {});
  t.is(s.sink('alice').log.at(-1), '107 house ended', 'the last member gone ends it');
  t.is(s.relay.open, 0);

  s.relay.fail = true;
  t.is(await failure(s.core.page(alice, group(s, 'house', ['bob']), () => {})), 'busy');
  t.is(s.core.stateOf('id-bob'), 'idle');
  t.is(s.core.stats.pages, 1);
});

test('[G-3] RELAY: no relay port is busy and the call goes on direct; a page or a ring is no_call', async (t) => {
  const s = setup();
  const alice = s.connect('alice', 5000);
  const bob = s.connect('bob', 6000);
  s.connect('carol', 7000);
  const info = await s.core.call(alice, s.user('bob'), () => {});
  t.is(await failure(s.core.relayCall(alice, { peer: 'bob' }, () => {})), 'no_call');
  s.core.accept(bob, { callId: info.id }, () => {});
  s.relay.fail = true;
  t.is(await failure(s.core.relayCall(alice, { peer: 'bob' }, () => {})), 'busy');
  t.is(s.core.stateOf('id-alice'), 'in_call');
  s.relay.fail = false;
  await s.core.relayCall(alice, { callId: info.id }, (_c, peer, media) => {
    t.is(peer.name, 'bob');
    t.deepEqual(media, { ip: '10.0.0.1', port: 40000 });
  });
  t.is(s.sink('bob').log.at(-1), '106 alice 10.0.0.1 40001');
  t.is(s.core.stats.relayFallbacks, 1);
  s.core.hangup(alice, { peer: 'bob' }, () => {});
  await s.core.page(alice, group(s, 'g', ['carol']), () => {});
  t.is(await failure(s.core.relayCall(alice, { peer: 'g' }, () => {})), 'no_call');
});
