/**
 * [G-1] Ring groups in the text dialect, in process over plaintext and TLS: every
 * reachable member rings, the first ACCEPT wins, the others hear `answered_elsewhere`; a
 * DND member is not rung; timeout and cancel reach every ringing member.
 */
import test from 'ava';
import { startHub } from '../../helpers/hub.ts';
import { untilState } from '../../helpers/hub-events.ts';
import { startHubInProcess, TRANSPORTS } from '../../helpers/in-process-hub.ts';
import { connectedClient, type TextClient } from '../../helpers/text-client.ts';
import { SECURE_106 } from '../../helpers/transcript.ts';

async function house(transport: (typeof TRANSPORTS)[number], argv: string[] = []) {
  const s = await startHubInProcess(argv);
  const dialer = s.hub.dialer('text', transport);
  const c: Record<string, TextClient> = {};
  for (const [name, port] of [
    ['alice', 5004],
    ['bob', 6006],
    ['carol', 7007],
    ['dave', 8008],
  ] as const) {
    c[name] = await connectedClient(dialer, name, port);
  }
  s.hub.accounts.groups.add('house', ['bob', 'carol', 'dave']);
  return {
    ...s,
    c: c as Record<'alice' | 'bob' | 'carol' | 'dave', TextClient>,
    /** A 106 without the SRTP keys a TLS leg adds [S-4]. */
    seed: (line: string | null) => (line && SECURE_106.exec(line)?.[1]) ?? line,
    async done() {
      for (const x of Object.values(c)) x.close();
      await s.stop();
    },
  };
}

for (const transport of TRANSPORTS) {
  test(`[G-1] ${transport}: three members ring; the first ACCEPT wins, the others get answered_elsewhere`, async (t) => {
    const h = await house(transport);
    const { alice, bob, carol, dave } = h.c;
    t.is(await alice.request('CALL house'), '104 house');
    for (const m of [bob, carol, dave]) t.is(await m.next(), '105 alice');
    t.is(await bob.request('USERS'), '103 alice:calling bob:ringing carol:ringing dave:ringing');
    t.is(await carol.request('CALLED alice'), '105 alice');
    t.is(h.seed(await carol.request('ACCEPT alice')), '106 alice 127.0.0.1 5004');
    t.is(h.seed(await alice.next()), '106 carol 127.0.0.1 7007');
    t.is(await bob.next(), '107 alice answered_elsewhere');
    t.is(await dave.next(), '107 alice answered_elsewhere');
    // a late ACCEPT finds no call; the call goes on as one between alice and carol
    t.is(await bob.request('ACCEPT alice'), '404 alice no_call');
    t.is(await bob.request('USERS'), '103 alice:in_call bob:idle carol:in_call dave:idle');
    t.is(await alice.request('HANGUP carol'), '107 carol ended');
    t.is(await carol.next(), '107 alice ended');
    t.true(await bob.quiet(50));
    await h.done();
  });

  test(`[G-1] ${transport}: a DND member and one in a call are not rung; none reachable is 404 offline`, async (t) => {
    const h = await house(transport);
    const { alice, bob, carol, dave } = h.c;
    t.is(await bob.request('DND on'), '110 on');
    t.is(await carol.request('CALL dave'), '104 dave');
    t.is(await dave.next(), '105 carol');
    t.is(await alice.request('CALL house'), '404 house offline');
    t.is(await dave.request('HANGUP carol'), '107 carol declined');
    t.is(await carol.next(), '107 dave declined');
    t.is(await alice.request('CALL house'), '104 house');
    t.is(await carol.next(), '105 alice');
    t.is(await dave.next(), '105 alice');
    t.true(await bob.quiet(50), 'the DND member hears nothing');
    await h.done();
  });

  test(`[G-1, T-10] ${transport}: nobody answers: timeout for the caller and every member`, async (t) => {
    const h = await house(transport, ['--ring-timeout', '5']);
    const { alice, bob, carol, dave } = h.c;
    t.is(await alice.request('CALL house'), '104 house');
    for (const m of [bob, carol, dave]) t.is(await m.next(), '105 alice');
    h.clock.advance(5000);
    t.is(await alice.next(), '107 house timeout');
    for (const m of [bob, carol, dave]) t.is(await m.next(), '107 alice timeout');
    t.is(await alice.request('USERS'), '103 alice:idle bob:idle carol:idle dave:idle');
    await h.done();
  });

  test(`[G-1, T-10] ${transport}: the caller hangs up: cancelled for every ringing member`, async (t) => {
    const h = await house(transport);
    const { alice, bob, carol, dave } = h.c;
    t.is(await alice.request('CALL house'), '104 house');
    for (const m of [bob, carol, dave]) t.is(await m.next(), '105 alice');
    t.is(await alice.request('HANGUP house'), '107 house cancelled');
    for (const m of [bob, carol, dave]) t.is(await m.next(), '107 alice cancelled');
    h.clock.advance(60_000);
    t.true(await alice.quiet(50), 'no timeout after the cancel');
    await h.done();
  });

  test(`[G-1] ${transport}: members who decline drop out; the last decline ends it for the caller`, async (t) => {
    const h = await house(transport);
    const { alice, bob, carol, dave } = h.c;
    t.is(await alice.request('CALL house'), '104 house');
    for (const m of [bob, carol, dave]) t.is(await m.next(), '105 alice');
    t.is(await bob.request('HANGUP alice'), '107 alice declined');
    dave.close(); // lost while ringing
    await untilState(h.hub.core, h.hub.accounts.getByName('dave')!.id, 'offline');
    t.is(await carol.request('HANGUP alice'), '107 alice declined');
    t.is(await alice.next(), '107 house declined');
    t.is(await alice.request('USERS'), '103 alice:idle bob:idle carol:idle dave:offline');
    await h.done();
  });
}

test('[G-1] the caller is never rung by its own group, and the group names the call on the core', async (t) => {
  const h = await house('plain');
  const { alice, bob, carol, dave } = h.c;
  h.hub.accounts.groups.add('house', ['alice']);
  const events: string[] = [];
  h.hub.core.observe({
    call: (e) => events.push(`${e.event} ${e.call.callee.name} ${e.call.group}`),
  });
  t.is(await alice.request('CALL house'), '104 house');
  for (const m of [bob, carol, dave]) t.is(await m.next(), '105 alice');
  t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
  t.deepEqual(events, ['ringing house house', 'started bob house']);
  t.is(h.hub.core.stats.groupCalls, 1);
  await h.done();
});

test('[G-1, T-4] a user may not take a group name, nor a group a user name', async (t) => {
  const h = await house('plain');
  t.is(await h.c.alice.request('NEW house secret'), '408 house exists');
  t.throws(() => h.hub.accounts.groups.add('bob', ['carol']), { message: /user's name/ });
  await h.done();
});

test('[G-1] over real TCP: the other members hear answered_elsewhere within 200 ms of the ACCEPT', async (t) => {
  const h = await startHub();
  t.teardown(() => h.stop());
  const port = h.hub.textPort;
  const alice = await connectedClient(port, 'alice', 5004);
  const members: TextClient[] = [];
  for (const [name, media] of [
    ['bob', 6006],
    ['carol', 7007],
    ['dave', 8008],
  ] as const) {
    members.push(await connectedClient(port, name, media));
  }
  t.teardown(() => {
    for (const c of [alice, ...members]) c.close();
  });
  h.hub.accounts.groups.add('house', ['bob', 'carol', 'dave']);
  const [bob, carol, dave] = members as [TextClient, TextClient, TextClient];
  t.is(await alice.request('CALL house'), '104 house');
  for (const m of members) t.is(await m.next(), '105 alice');
  const start = performance.now();
  dave.send('ACCEPT alice');
  const [b, c] = await Promise.all([bob.next(), carol.next()]);
  const elapsed = performance.now() - start;
  t.deepEqual([b, c], ['107 alice answered_elsewhere', '107 alice answered_elsewhere']);
  t.true(elapsed < 200, `answered_elsewhere after ${elapsed.toFixed(1)} ms`);
  t.is(await dave.next(), '106 alice 127.0.0.1 5004');
  t.is(await alice.next(), '106 dave 127.0.0.1 8008');
});
