/** [T-9, M-4] When the core relays a call's media, and what a relay failure does. */
import test from 'ava';
import type { Endpoint, RelayMode } from '../../../hub/core/types.ts';
import { failure, setup } from './fixtures/core.ts';

test('[T-9] relay in auto mode when a party declared no media port', async (t) => {
  const { core, connect, user, sink, relay } = setup('auto');
  const alice = connect('alice', 0, '192.168.1.10');
  const bob = connect('bob', 6004, '192.168.1.20');
  let callerMedia: Endpoint | null = null;
  const info = await core.call(alice, user('bob'), (_c, m) => {
    callerMedia = m;
  });
  t.true(info.relayed);
  t.deepEqual(callerMedia, { ip: '10.0.0.1', port: 40000 });
  core.accept(bob, { callId: info.id }, (_c, _p, m) =>
    t.deepEqual(m, { ip: '10.0.0.1', port: 40001 }),
  );
  t.is(sink('alice').log.at(-1), '106 bob 10.0.0.1 40000');
  t.is(relay.open, 1);
  core.hangup(bob, { callId: info.id }, () => {});
  t.is(relay.open, 0);
});

const relayModes: Array<[RelayMode, number, number, boolean]> = [
  ['auto', 5000, 6000, false],
  ['auto', 0, 6000, true],
  ['auto', 5000, 0, true],
  ['always', 5000, 6000, true],
  ['never', 0, 0, false],
];
for (const [mode, a, b, relayed] of relayModes) {
  test(`relay mode ${mode} with ports ${a}/${b} relays: ${relayed}`, async (t) => {
    const { core, connect, user } = setup(mode);
    const alice = connect('alice', a);
    connect('bob', b);
    const info = await core.call(alice, user('bob'), () => {});
    t.is(info.relayed, relayed);
  });
}

test('relay failure refuses the call as busy and frees both parties', async (t) => {
  const { core, connect, user, relay } = setup('always');
  relay.fail = true;
  const alice = connect('alice');
  connect('bob');
  t.is(await failure(core.call(alice, user('bob'), () => {})), 'busy');
  t.is(core.stateOf('id-alice'), 'idle');
  t.is(core.stateOf('id-bob'), 'idle');
});

test('a callee leaving while the relay opens: the caller is told offline, ports released', async (t) => {
  const { core, connect, user, sink, relay } = setup('always');
  const alice = connect('alice');
  const bob = connect('bob');
  const pending = core.call(alice, user('bob'), () => t.fail('must not reply success'));
  core.detach(bob);
  t.is(await failure(pending), 'offline');
  t.is(relay.open, 0);
  t.deepEqual(sink('bob').log, []);
  t.is(core.stateOf('id-alice'), 'idle');
});
