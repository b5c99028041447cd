import test from 'ava';
import { failure, RecordingSink, setup } from './fixtures/core.ts';

test('call, accept and hangup: replies, events and states in order [T-5, T-11]', async (t) => {
  const { core, connect, user, sink, calls } = setup();
  const alice = connect('alice', 5004, '192.168.1.10');
  const bob = connect('bob', 6004, '192.168.1.20');
  const order: string[] = [];
  sink('bob').log.length = 0;

  await core.call(alice, user('bob'), (_c, media) => {
    order.push(`reply 104 media=${media.ip}:${media.port}`);
    order.push(`bob saw ${sink('bob').log.length} events before the reply`);
  });
  t.deepEqual(order, ['reply 104 media=192.168.1.20:6004', 'bob saw 0 events before the reply']);
  t.deepEqual(sink('bob').log, ['105 alice']);
  t.is(core.stateOf('id-alice'), 'calling');
  t.is(core.stateOf('id-bob'), 'ringing');

  core.accept(bob, { peer: 'alice' }, (_c, peer, media) => {
    t.is(peer.name, 'alice');
    t.deepEqual(media, { ip: '192.168.1.10', port: 5004 }); // [T-9] the peer's own address
    t.deepEqual(sink('alice').log, []);
  });
  t.deepEqual(sink('alice').log, ['106 bob 192.168.1.20 6004']);
  t.is(core.stateOf('id-alice'), 'in_call');
  t.is(core.peerOf('id-alice')?.name, 'bob');

  core.hangup(alice, { peer: 'bob' }, (_c, peer, reason) => {
    t.is(peer.name, 'bob');
    t.is(reason, 'ended');
  });
  t.deepEqual(sink('bob').log, ['105 alice', '107 alice ended']);
  t.is(core.stateOf('id-alice'), 'idle');
  t.is(core.stateOf('id-bob'), 'idle');
  t.deepEqual(
    calls.map((c) => `${c.event}:${c.reason}`),
    ['ringing:null', 'started:null', 'ended:ended'],
  );
});

const refusals: Array<[string, (s: ReturnType<typeof setup>) => Promise<unknown>, string]> = [
  [
    'self',
    async ({ core, connect, user }) => core.call(connect('alice'), user('alice'), () => {}),
    'self',
  ],
  [
    'offline target',
    async ({ core, connect, user }) => core.call(connect('alice'), user('carol'), () => {}),
    'offline',
  ],
  [
    'busy target',
    async ({ core, connect, user }) => {
      const a = connect('alice');
      connect('bob');
      const c = connect('carol');
      await core.call(a, user('bob'), () => {});
      return core.call(c, user('bob'), () => {});
    },
    'busy',
  ],
  [
    'caller already in a call',
    async ({ core, connect, user }) => {
      const a = connect('alice');
      connect('bob');
      connect('carol');
      await core.call(a, user('bob'), () => {});
      return core.call(a, user('carol'), () => {});
    },
    'in_call',
  ],
  [
    'accept with no call',
    async ({ core, connect }) => core.accept(connect('bob'), { peer: 'alice' }, () => {}),
    'no_call',
  ],
  [
    'caller cannot accept its own call',
    async ({ core, connect, user }) => {
      const a = connect('alice');
      connect('bob');
      await core.call(a, user('bob'), () => {});
      return core.accept(a, { peer: 'bob' }, () => {});
    },
    'no_call',
  ],
  [
    'accept names the wrong caller',
    async ({ core, connect, user }) => {
      const a = connect('alice');
      const b = connect('bob');
      await core.call(a, user('bob'), () => {});
      return core.accept(b, { peer: 'carol' }, () => {});
    },
    'no_call',
  ],
  [
    'hangup with no call',
    async ({ core, connect }) => core.hangup(connect('alice'), { peer: 'bob' }, () => {}),
    'no_call',
  ],
  [
    'hangup on a call id that is not ours',
    async ({ core, connect, user }) => {
      const a = connect('alice');
      connect('bob');
      await core.call(a, user('bob'), () => {});
      return core.hangup(a, { callId: 'nope' }, () => {});
    },
    'no_call',
  ],
];

for (const [name, run, reason] of refusals) {
  test(`refused: ${name} -> ${reason}`, async (t) => {
    t.is(await failure(run(setup())), reason);
  });
}

const endings: Array<[string, 'caller' | 'callee', boolean, string]> = [
  ['callee hangs up while ringing', 'callee', false, 'declined'],
  ['caller hangs up while ringing', 'caller', false, 'cancelled'],
  ['callee hangs up in a call', 'callee', true, 'ended'],
  ['caller hangs up in a call', 'caller', true, 'ended'],
];

for (const [name, who, answered, reason] of endings) {
  test(`[T-10] ${name} -> ${reason} to both`, async (t) => {
    const { core, connect, user, sink } = setup();
    const alice = connect('alice');
    const bob = connect('bob');
    await core.call(alice, user('bob'), () => {});
    if (answered) core.accept(bob, { peer: 'alice' }, () => {});
    const [me, peerName, otherName] =
      who === 'caller' ? [alice, 'bob', 'alice'] : [bob, 'alice', 'bob'];
    let replied = '';
    core.hangup(me, { peer: peerName }, (_c, peer, r) => {
      replied = `107 ${peer.name} ${r}`;
    });
    t.is(replied, `107 ${peerName} ${reason}`);
    t.is(sink(peerName).log.at(-1), `107 ${otherName} ${reason}`);
  });
}

test('[T-10] ring timeout ends the call for both with timeout', async (t) => {
  const { core, connect, user, sink, clock } = setup();
  const alice = connect('alice');
  connect('bob');
  await core.call(alice, user('bob'), () => {});
  clock.advance(29_999);
  t.is(core.stateOf('id-bob'), 'ringing');
  clock.advance(1);
  t.deepEqual(sink('alice').log, ['107 bob timeout']);
  t.deepEqual(sink('bob').log, ['105 alice', '107 alice timeout']);
  t.is(core.activeCalls, 0);
  t.is(clock.pending, 0);
});

test('answering stops the ring timer', async (t) => {
  const { core, connect, user, sink, clock } = setup();
  const alice = connect('alice');
  const bob = connect('bob');
  await core.call(alice, user('bob'), () => {});
  core.accept(bob, { peer: 'alice' }, () => {});
  clock.advance(60_000);
  t.is(core.stateOf('id-alice'), 'in_call');
  t.false(sink('alice').log.some((l) => l.includes('timeout')));
});

test('[T-10] a lost connection ends the call: the peer hears disconnected', async (t) => {
  const { core, connect, user, sink } = setup();
  const alice = connect('alice');
  const bob = connect('bob');
  await core.call(alice, user('bob'), () => {});
  core.accept(bob, { peer: 'alice' }, () => {});
  core.detach(alice);
  t.is(sink('bob').log.at(-1), '107 alice disconnected');
  t.is(core.stateOf('id-alice'), 'offline');
  t.is(core.stateOf('id-bob'), 'idle');
  core.detach(alice); // twice is harmless
  t.is(sink('bob').log.filter((l) => l.startsWith('107')).length, 1);
});

test('[T-8] CONNECT takes over: old session replaced, its call ends, reply first', async (t) => {
  const { core, connect, user, sink } = setup();
  const alice = connect('alice');
  const bobOld = connect('bob');
  const oldSink = sink('bob');
  await core.call(alice, user('bob'), () => {});
  core.accept(bobOld, { peer: 'alice' }, () => {});
  const order: string[] = [];
  const fresh = new RecordingSink();
  core.attach(
    {
      user: user('bob'),
      dialect: 'text',
      media: { ip: '127.0.0.9', port: 7000 },
      secure: false,
      localIp: '10.0.0.1',
      sink: fresh,
    },
    () => order.push(`reply while old saw ${oldSink.log.length}`),
  );
  t.deepEqual(order, ['reply while old saw 1']); // only '105 alice' so far
  t.is(oldSink.log.at(-1), 'replaced');
  t.is(sink('alice').log.at(-1), '107 bob disconnected');
  t.is(core.stateOf('id-bob'), 'idle');
  t.false(core.isCurrent(bobOld));
  // The old session's late close must not take the new one offline.
  core.detach(bobOld);
  t.is(core.stateOf('id-bob'), 'idle');
  t.is(await failure(core.call(bobOld, user('alice'), () => {})), 'no_call');
});

test('CALLED reports only a call ringing here from that caller', async (t) => {
  const { core, connect, user } = setup();
  const alice = connect('alice');
  const bob = connect('bob');
  await core.call(alice, user('bob'), () => {});
  t.truthy(core.ringingFrom(bob, 'alice'));
  t.is(core.ringingFrom(bob, 'carol'), null);
  t.is(core.ringingFrom(alice, 'bob'), null);
});

test('endAll ends every call with ended (shutdown)', async (t) => {
  const { core, connect, user, sink } = setup();
  const alice = connect('alice');
  const bob = connect('bob');
  const carol = connect('carol');
  connect('dave');
  await core.call(alice, user('bob'), () => {});
  core.accept(bob, { peer: 'alice' }, () => {});
  await core.call(carol, user('dave'), () => {});
  core.endAll();
  t.is(sink('alice').log.at(-1), '107 bob ended');
  t.is(sink('bob').log.at(-1), '107 alice ended');
  t.is(sink('carol').log.at(-1), '107 dave ended');
  t.is(core.activeCalls, 0);
});

test('presence events follow every state change', async (t) => {
  const { core, connect, user, presence } = setup();
  const alice = connect('alice');
  const bob = connect('bob');
  await core.call(alice, user('bob'), () => {});
  core.accept(bob, { peer: 'alice' }, () => {});
  core.detach(bob);
  t.deepEqual(
    presence.map((p) => `${p.user.name}:${p.state}:${p.peer}`),
    [
      'alice:idle:null',
      'bob:idle:null',
      'alice:calling:bob',
      'bob:ringing:alice',
      'alice:in_call:bob',
      'bob:in_call:alice',
      'alice:idle:null',
      'bob:offline:null',
    ],
  );
});

test('do not disturb: calls to the session fail busy until it is turned off', async (t) => {
  const { core, connect, user } = setup();
  const alice = connect('alice');
  const bob = connect('bob');
  core.setDoNotDisturb(bob, true);
  t.is(await failure(core.call(alice, user('bob'), () => {})), 'busy');
  core.setDoNotDisturb(bob, false);
  t.is(await failure(core.call(alice, user('bob'), () => {})), 'no error');
});
