/**
 * [T-11] The reply to a request is written to the sender before any event the request
 * causes is written to anyone. Both parties' connections live in this process, so the order in
 * which their lines arrive here is one timeline: a recorder logs each line as `who: line`.
 */
import { EventEmitter } from 'node:events';
import test from 'ava';
import type { Target } from '../../helpers/dial.ts';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

async function withHub(argv: string[], body: (h: TestHub) => Promise<void>): Promise<void> {
  const h = await startHub(argv);
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

/** One arrival log for several clients: each complete line and each close, in order. */
class Timeline {
  readonly entries: string[] = [];
  readonly #arrived = new EventEmitter();

  watch(who: string, c: TextClient): void {
    let buf = '';
    c.socket.on('data', (chunk: string | Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) this.#add(`${who}: ${line.replace(/\r$/, '')}`);
    });
    c.socket.on('close', () => this.#add(`${who}: <closed>`));
  }

  /** Resolves once `entry` has arrived (bounded). */
  async waitFor(entry: string, ms = 2000): Promise<void> {
    if (!(await this.until(() => this.entries.includes(entry), ms))) {
      throw new Error(`never saw ${entry}: ${this.entries.join(' | ')}`);
    }
  }

  /** True once `ready()` holds after an arrival (or at once), false after `ms`. */
  until(ready: () => boolean, ms: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!ready()) return;
        done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#arrived.off('entry', check);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), ms);
      this.#arrived.on('entry', check);
    });
  }

  #add(entry: string): void {
    this.entries.push(entry);
    this.#arrived.emit('entry');
  }

  /** The entries that are among `wanted`, in arrival order. */
  order(...wanted: string[]): string[] {
    return this.entries.filter((e) => wanted.includes(e));
  }
}

/** Alice (5004), bob (6006) and carol (7007), connected, with a timeline watching all three. */
async function three(port: Target) {
  const alice = await connectedClient(port, 'alice', 5004);
  const bob = await connectedClient(port, 'bob', 6006);
  const carol = await connectedClient(port, 'carol', 7007);
  const tl = new Timeline();
  tl.watch('alice', alice);
  tl.watch('bob', bob);
  tl.watch('carol', carol);
  const close = () => {
    for (const c of [alice, bob, carol]) c.close();
  };
  return { alice, bob, carol, tl, close };
}

for (const relay of ['never', 'always']) {
  test(`[T-11] CALL (--relay ${relay}): 104 reaches the caller before 105 reaches the callee`, async (t) => {
    await withHub(['--relay', relay], async ({ hub }) => {
      const { alice, tl, close } = await three(hub.text);
      alice.send('CALL bob');
      await tl.waitFor('bob: 105 alice');
      await tl.waitFor('alice: 104 bob');
      t.deepEqual(tl.order('alice: 104 bob', 'bob: 105 alice'), [
        'alice: 104 bob',
        'bob: 105 alice',
      ]);
      close();
    });
  });

  test(`[T-11] ACCEPT (--relay ${relay}): the callee's 106 before the caller's 106`, async (t) => {
    await withHub(['--relay', relay], async ({ hub }) => {
      const { alice, bob, tl, close } = await three(hub.text);
      alice.send('CALL bob');
      await tl.waitFor('bob: 105 alice');
      bob.send('ACCEPT alice');
      const started = (who: string) => tl.entries.find((e) => e.startsWith(`${who}: 106 `));
      await tl.until(() => started('alice') !== undefined && started('bob') !== undefined, 2000);
      const a = started('alice');
      const b = started('bob');
      t.truthy(a);
      t.truthy(b);
      t.true(tl.entries.indexOf(b!) < tl.entries.indexOf(a!), tl.entries.join(' | '));
      close();
    });
  });
}

const hangups: Array<[string, boolean, 'alice' | 'bob', string, string]> = [
  // [label, answered first, who hangs up, reply, event]
  ['cancelled', false, 'alice', 'alice: 107 bob cancelled', 'bob: 107 alice cancelled'],
  ['declined', false, 'bob', 'bob: 107 alice declined', 'alice: 107 bob declined'],
  ['ended', true, 'alice', 'alice: 107 bob ended', 'bob: 107 alice ended'],
];

for (const [label, answered, who, reply, event] of hangups) {
  test(`[T-11] HANGUP (${label}): the sender's 107 before the peer's 107`, async (t) => {
    await withHub([], async ({ hub }) => {
      const c = await three(hub.text);
      t.is(await c.alice.request('CALL bob'), '104 bob');
      t.is(await c.bob.next(), '105 alice');
      if (answered) {
        t.is(await c.bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
        t.is(await c.alice.next(), '106 bob 127.0.0.1 6006');
      }
      c[who].send(`HANGUP ${who === 'alice' ? 'bob' : 'alice'}`);
      await c.tl.waitFor(reply);
      await c.tl.waitFor(event);
      t.deepEqual(c.tl.order(reply, event), [reply, event]);
      c.close();
    });
  });
}

test('[T-11] OUT: 102 to the sender before 107 <sender> disconnected to the peer', async (t) => {
  await withHub([], async ({ hub }) => {
    const c = await three(hub.text);
    t.is(await c.alice.request('CALL bob'), '104 bob');
    t.is(await c.bob.next(), '105 alice');
    c.alice.send('OUT');
    await c.tl.waitFor('bob: 107 alice disconnected');
    await c.tl.waitFor('alice: <closed>');
    t.deepEqual(c.tl.order('alice: 102', 'bob: 107 alice disconnected'), [
      'alice: 102',
      'bob: 107 alice disconnected',
    ]);
    c.close();
  });
});

test('[T-11, T-8] CONNECT takeover: 101 to the new connection before the peer hears 107', async (t) => {
  await withHub([], async ({ hub }) => {
    const c = await three(hub.text);
    t.is(await c.alice.request('CALL bob'), '104 bob');
    t.is(await c.bob.next(), '105 alice');
    const fresh = await TextClient.connect(hub.text);
    c.tl.watch('fresh', fresh);
    fresh.send('CONNECT alice 5004');
    await c.tl.waitFor('bob: 107 alice disconnected');
    await c.tl.waitFor('alice: <closed>');
    const connected = c.tl.entries.find((e) => /^fresh: 101 \S+ alice$/.test(e));
    t.truthy(connected);
    t.deepEqual(c.tl.order(connected!, 'bob: 107 alice disconnected', 'alice: <closed>'), [
      connected!,
      'bob: 107 alice disconnected',
      'alice: <closed>',
    ]);
    fresh.close();
    c.close();
  });
});

test('[T-11] a bystander hears nothing of calls between others', async (t) => {
  await withHub([], async ({ hub }) => {
    const c = await three(hub.text);
    t.is(await c.alice.request('CALL bob'), '104 bob');
    t.is(await c.bob.next(), '105 alice');
    t.is(await c.bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await c.alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await c.alice.request('HANGUP bob'), '107 bob ended');
    t.is(await c.bob.next(), '107 alice ended');
    t.is(await c.carol.request('PING'), '109');
    t.deepEqual(
      c.tl.entries.filter((e) => e.startsWith('carol:')),
      ['carol: 109'],
    );
    c.close();
  });
});

test('[T-11] replies keep request order on one connection while events interleave', async (t) => {
  await withHub([], async ({ hub }) => {
    const c = await three(hub.text);
    // Bob pipelines a burst; alice's call lands among it. Bob's replies stay in order and
    // the 105 is one whole line between two of them.
    const burst = Array.from({ length: 200 }, (_, i) => `PING b${i}`);
    c.bob.writeRaw(`${burst.join('\r\n')}\r\n`);
    t.is(await c.alice.request('CALL bob'), '104 bob');
    const replies: string[] = [];
    let rang = 0;
    for (let i = 0; i < burst.length + 1; i++) {
      const line = await c.bob.next();
      if (line === '105 alice') rang++;
      else replies.push(line ?? '<closed>');
    }
    t.is(rang, 1);
    t.deepEqual(
      replies,
      burst.map((_, i) => `109 b${i}`),
    );
    c.close();
  });
});
