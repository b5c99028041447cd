import test from 'ava';
import { createdUser } from '../helpers/binary-client.ts';
import { startHub } from '../helpers/hub.ts';
import { connectedClient } from '../helpers/text-client.ts';

test('a text user calls a binary user and the binary user accepts (cross-dialect)', async (t) => {
  const { hub, stop } = await startHub();
  try {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await createdUser(hub.binaryPort, 'bob@example.org', 'pw', { media_port: '6006' });
    t.is(await alice.request('CALL bob'), '104 bob');
    const called = await bob.client.event();
    t.is(called.event, 'called');
    t.is(called.from_name, 'alice');
    const acc = await bob.client.request(
      '/accept',
      { id: bob.id, token: bob.token },
      { call_id: called.call_id! },
    );
    t.is(acc.status, 200);
    const started = await bob.client.event();
    t.like(started, { event: 'call_started', peer_name: 'alice', ip: '127.0.0.1', port: '5004' });
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await alice.request('HANGUP bob'), '107 bob ended');
    t.like(await bob.client.event(), { event: 'call_ended', reason: 'ended' });
    alice.close();
    bob.client.close();
  } finally {
    await stop();
  }
});

test('DND on makes calls fail busy; off lets them ring (extension)', async (t) => {
  const { hub, stop } = await startHub();
  try {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 5006);
    t.is(await bob.request('DND on'), '110 on');
    t.is(await alice.request('CALL bob'), '404 bob busy');
    t.is(await bob.request('DND maybe'), '400 bad_arguments DND');
    t.is(await bob.request('DND off'), '110 off');
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    alice.close();
    bob.close();
  } finally {
    await stop();
  }
});
