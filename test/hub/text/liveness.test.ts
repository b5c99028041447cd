/**
 * [T-12] Liveness in the text dialect, in process: the hub closes a connection silent for
 * longer than the idle timeout (shortened here through the hub's limits), and `PING`, with
 * or without a token, or any other request keeps it open. Time is the hub's fake clock.
 */
import test from 'ava';
import type { FakeClock } from '../../../shared/clock.ts';
import { untilState, within } from '../../helpers/hub-events.ts';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

const IDLE_MS = 400;

async function withHub(body: (h: TestHub) => Promise<void>): Promise<void> {
  const h = await startHub([], { idleTimeoutMs: IDLE_MS });
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

/** Sends `request` every IDLE_MS / 4 for three idle timeouts, checking each answer. */
async function keepTalking(
  c: TextClient,
  clock: FakeClock,
  request: string,
  reply: string,
): Promise<number> {
  let answered = 0;
  for (let elapsed = 0; elapsed < 3 * IDLE_MS; elapsed += IDLE_MS / 4) {
    if ((await c.request(request)) !== reply) return answered;
    answered++;
    clock.advance(IDLE_MS / 4);
  }
  return answered;
}

test('[T-12] a connection that never says anything is closed by the idle timeout', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const c = await TextClient.connect(hub.text);
    clock.advance(IDLE_MS);
    t.is(await c.next(IDLE_MS * 10), null);
    t.true(c.closed);
  });
});

test('[T-12] a connected user that falls silent is closed and goes offline', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const alice = await connectedClient(hub.text, 'alice');
    clock.advance(IDLE_MS);
    t.is(await alice.next(IDLE_MS * 10), null);
    t.true(alice.closed);
    const id = hub.accounts.getByName('alice')!.id;
    await within(untilState(hub.core, id, 'offline'), 1000);
    t.is(hub.core.stateOf(id), 'offline');
  });
});

test('[T-12] PING without a token keeps the connection open past the idle timeout', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const c = await connectedClient(hub.text, 'alice');
    const answered = await keepTalking(c, clock, 'PING', '109');
    t.true(answered >= 6, `answered ${answered}`);
    t.false(c.closed);
    c.close();
  });
});

test('[T-12] PING with a token keeps the connection open and echoes the token', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const c = await connectedClient(hub.text, 'alice');
    const answered = await keepTalking(c, clock, 'PING 1234567', '109 1234567');
    t.true(answered >= 6, `answered ${answered}`);
    t.false(c.closed);
    c.close();
  });
});

test('[T-12] PING keeps a connection alive before CONNECT too', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const c = await TextClient.connect(hub.text);
    const answered = await keepTalking(c, clock, 'ping', '109');
    t.true(answered >= 6, `answered ${answered}`);
    t.false(c.closed);
    c.close();
  });
});

test('[T-12] any request counts as life, not only PING', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const c = await connectedClient(hub.text, 'alice');
    const answered = await keepTalking(c, clock, 'USERS', '103 alice:idle');
    t.true(answered >= 6, `answered ${answered}`);
    t.false(c.closed);
    c.close();
  });
});

test('[T-12] after the client stops pinging, the idle timeout closes it', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const c = await connectedClient(hub.text, 'alice');
    t.is(await c.request('PING'), '109');
    clock.advance(IDLE_MS);
    t.is(await c.next(IDLE_MS * 10), null);
    t.true(c.closed);
  });
});

test('[T-12, T-10] a peer closed by the idle timeout ends the call: 107 <peer> disconnected', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const alice = await connectedClient(hub.text, 'alice', 5004);
    const bob = await connectedClient(hub.text, 'bob', 6006);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    // Alice keeps pinging; bob falls silent. Alice's events arrive between her 109s.
    const events: string[] = [];
    for (
      let elapsed = 0;
      !events.includes('107 bob disconnected') && elapsed < 10 * IDLE_MS;
      elapsed += IDLE_MS / 4
    ) {
      alice.send('PING');
      for (let line = await alice.next(); line !== '109'; line = await alice.next()) {
        events.push(line ?? '<closed>');
      }
      clock.advance(IDLE_MS / 4);
    }
    t.deepEqual(events, ['107 bob disconnected']);
    t.true(bob.closed);
    t.is(await alice.request('USERS'), '103 alice:idle bob:offline');
    alice.close();
  });
});

test('[T-12] events written to a silent client do not keep it alive', async (t) => {
  await withHub(async ({ hub, clock }) => {
    const alice = await connectedClient(hub.text, 'alice', 5004);
    const bob = await connectedClient(hub.text, 'bob', 6006);
    // Alice rings bob over and over; bob hears 105/107 but never says a word.
    let rounds = 0;
    let answer: string | null = '104 bob';
    const heard: string[] = [];
    for (let elapsed = 0; answer === '104 bob' && elapsed < 8 * IDLE_MS; elapsed += IDLE_MS / 8) {
      answer = await alice.request('CALL bob');
      if (answer !== '104 bob') break;
      alice.send('HANGUP bob');
      // The reply, or bob's end of the call if the hub closed him first.
      let line = await alice.next();
      if (line === '107 bob disconnected') {
        heard.push(line);
        line = await alice.next();
      }
      if (line !== '107 bob cancelled' && line !== '404 bob no_call') heard.push(line ?? '');
      rounds++;
      clock.advance(IDLE_MS / 8);
    }
    // Bob was closed while the events kept coming, and went offline.
    t.is(answer, '404 bob offline');
    t.true(
      heard.every((l) => l === '107 bob disconnected'),
      heard.join(' | '),
    );
    t.true(rounds > 1);
    t.true(bob.closed);
    alice.close();
  });
});
