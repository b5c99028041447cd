/**
 * [T-7] `USERS`, in process: every known user, sorted by name, each with its state as
 * others see it: `idle`, `calling`, `ringing`, `in_call` or `offline`.
 */
import test from 'ava';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

async function withHub(body: (h: TestHub) => Promise<void>): Promise<void> {
  const h = await startHub();
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

test('[T-7] USERS with no other user: 103 alice:idle', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice');
    t.is(await alice.request('USERS'), '103 alice:idle');
    t.is(await alice.request('users'), '103 alice:idle');
    t.is(await alice.request('USERS []'), '103 alice:idle');
    alice.close();
  });
});

test('[T-7] USERS lists every known user, online or not, sorted by name', async (t) => {
  await withHub(async ({ hub }) => {
    const admin = await TextClient.connect(hub.text);
    // Created out of order, with every character class a name may hold [T-4].
    const names = ['zed', 'a_b', 'bob', '0day', 'a-b', 'a.b', 'ab', 'a', '9', 'alice'];
    for (const n of names) t.is(await admin.request(`NEW ${n}`), `108 ${n}`);
    admin.close();
    const alice = await connectedClient(hub.text, 'alice');
    const sorted = [...names].sort();
    const expected = sorted.map((n) => `${n}:${n === 'alice' ? 'idle' : 'offline'}`);
    t.is(await alice.request('USERS'), `103 ${expected.join(' ')}`);
    alice.close();
  });
});

test('[T-7] each state as others see it: idle, calling, ringing, in_call, offline', async (t) => {
  await withHub(async ({ hub }) => {
    const port = hub.text;
    const alice = await connectedClient(port, 'alice', 5004);
    const bob = await connectedClient(port, 'bob', 6006);
    const carol = await connectedClient(port, 'carol', 7007);
    const dave = await connectedClient(port, 'dave', 8008);
    const eve = await connectedClient(port, 'eve', 9009);
    t.is(await eve.request('NEW frank'), '108 frank');

    t.is(await alice.request('CALL bob'), '104 bob'); // alice calling, bob ringing
    t.is(await bob.next(), '105 alice');
    t.is(await carol.request('CALL dave'), '104 dave'); // carol and dave in a call
    t.is(await dave.next(), '105 carol');
    t.is(await dave.request('ACCEPT carol'), '106 carol 127.0.0.1 7007');
    t.is(await carol.next(), '106 dave 127.0.0.1 8008');

    const all = '103 alice:calling bob:ringing carol:in_call dave:in_call eve:idle frank:offline';
    // Every one of them sees the same list.
    for (const c of [alice, bob, carol, dave, eve]) t.is(await c.request('USERS'), all);

    // The states follow the calls: declined, ended, gone.
    t.is(await bob.request('HANGUP alice'), '107 alice declined');
    t.is(await alice.next(), '107 bob declined');
    t.is(await dave.request('HANGUP carol'), '107 carol ended');
    t.is(await carol.next(), '107 dave ended');
    t.is(await eve.request('OUT'), '102');
    t.is(
      await alice.request('USERS'),
      '103 alice:idle bob:idle carol:idle dave:idle eve:offline frank:offline',
    );
    for (const c of [alice, bob, carol, dave]) c.close();
  });
});

test('[T-7, T-9] a relayed call shows in_call too', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice', 0);
    const bob = await connectedClient(hub.text, 'bob', 0);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('USERS'), '103 alice:calling bob:ringing');
    t.regex((await bob.request('ACCEPT alice')) ?? '', /^106 alice 127\.0\.0\.1 \d+$/);
    t.regex((await alice.next()) ?? '', /^106 bob 127\.0\.0\.1 \d+$/);
    t.is(await alice.request('USERS'), '103 alice:in_call bob:in_call');
    alice.close();
    bob.close();
  });
});
