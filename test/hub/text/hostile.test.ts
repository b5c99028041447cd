/**
 * Hostile and careless clients of the text dialect, in process: garbage bytes, half
 * lines, a client that never reads, a thousand idle connections, a pipelined flood. After
 * each, the hub must still serve a normal client [T-1, T-3, T-12].
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import test from 'ava';
import type { Target } from '../../helpers/dial.ts';
import { untilState, within } from '../../helpers/hub-events.ts';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

async function withHub(
  body: (h: TestHub) => Promise<void>,
  limits: Parameters<typeof startHub>[1] = {},
): Promise<void> {
  const h = await startHub([], limits);
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

/** [T-3] A reply or event: a 3-digit code, then bare space-separated arguments. */
const REPLY_LINE = /^[0-9]{3}(?: [^\s]+)*$/;

/** The hub still works for a well-behaved client: NEW, CONNECT, USERS, PING. */
async function stillServes(port: Target, name = 'normal'): Promise<string | null> {
  const c = await connectedClient(port, name);
  try {
    return await c.request('PING alive');
  } finally {
    c.close();
  }
}

/** Resolves when the connection closes, however it closes (FIN or RST); false after `ms`. */
function closedWithin(socket: Duplex, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

test('[T-1, T-3] random bytes: every answer is a well-formed line, and the hub survives', async (t) => {
  await withHub(async ({ hub }) => {
    const rand = mulberry32(0xbabe1);
    for (let conn = 0; conn < 8; conn++) {
      const c = await TextClient.connect(hub.text);
      const lines: string[] = [];
      for (let chunk = 0; chunk < 20 && !c.closed; chunk++) {
        const bytes = Buffer.alloc(1 + Math.floor(rand() * 700));
        for (let i = 0; i < bytes.length; i++) {
          // One byte in 40 ends a line, so most lines fit and some do not.
          bytes[i] = rand() < 1 / 40 ? 0x0a : Math.floor(rand() * 256);
        }
        c.writeRaw(bytes);
      }
      c.writeRaw('\r\nPING end\r\n');
      for (let line = await c.next(); line !== null && line !== '109 end'; line = await c.next()) {
        lines.push(line);
      }
      for (const line of lines) t.regex(line, REPLY_LINE);
      c.close();
    }
    t.is(await stillServes(hub.text), '109 alive');
  });
});

/** Random request-shaped lines: real and fake verbs, odd decoration, controls, UTF-8. */
function randomRequest(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const verbs = ['NEW', 'connect', 'CALL', 'ACCEPT', 'HANGUP', 'CALLED', 'USERS', 'PING', 'FROB'];
  const args = [
    'fz1',
    'FZ2',
    "['fz3']",
    '"fz 4"',
    "'x'",
    '[]',
    "['a', 'b']",
    '"unterminated',
    '[oops',
    'zoë',
    '\u0001ctl',
    '\u212A',
    '-',
    '0',
    '65536',
    'x'.repeat(80),
    '"',
    "'",
    ']',
    ',',
  ];
  const n = Math.floor(rand() * 4);
  const parts = [pick(verbs)];
  for (let i = 0; i < n; i++) parts.push(pick(args));
  return parts.join(pick([' ', '  ', '\t']));
}

test('[T-2, T-3] random requests: exactly one well-formed answer per line, in order', async (t) => {
  await withHub(async ({ hub }) => {
    const rand = mulberry32(0x7e57);
    const c = await TextClient.connect(hub.text);
    const requests = Array.from({ length: 400 }, () => randomRequest(rand));
    // Pipelined in one write, then a marker: every request gets one line before it.
    c.writeRaw(`${requests.join('\r\n')}\r\nPING marker\r\n`);
    const answers: string[] = [];
    // Some are NEW or CONNECT with a secret, which wait for scrypt: generous bounds.
    for (let line = await c.next(15_000); line !== '109 marker'; line = await c.next(15_000)) {
      if (line === null) break;
      answers.push(line);
    }
    // Events (105/107) could only come from calls, and nobody else is online to call.
    t.is(answers.length, requests.length);
    for (const line of answers) t.regex(line, REPLY_LINE);
    c.close();
    t.is(await stillServes(hub.text), '109 alive');
  });
});

test('[T-1] half lines: clients that stop or vanish mid-line leave the hub unharmed', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice', 5004);
    const bob = await connectedClient(hub.text, 'bob', 6006);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    // Bob starts a line and vanishes: the call ends for alice.
    bob.writeRaw('ACCEPT ali');
    bob.close();
    t.is(await alice.next(), '107 bob disconnected');
    // Others start lines and just sit there, or end them much later.
    const sitters = await Promise.all(
      Array.from({ length: 20 }, () => TextClient.connect(hub.text)),
    );
    for (const [i, s] of sitters.entries()) s.writeRaw(`PING half${i}`);
    t.true(await sitters[0]!.quiet(50));
    sitters[1]!.writeRaw('\r\n');
    t.is(await sitters[1]!.next(), '109 half1');
    for (const s of sitters) s.close();
    t.is(await alice.request('USERS'), '103 alice:idle bob:offline');
    alice.close();
    t.is(await stillServes(hub.text), '109 alive');
  });
});

test('[T-1] a flood of requests pipelined in one write is answered in order', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    const n = 20_000;
    const flood = Array.from({ length: n }, (_, i) => `PING f${i}\r\n`).join('');
    c.writeRaw(flood);
    let inOrder = 0;
    for (let i = 0; i < n; i++) {
      if ((await c.next(5000)) !== `109 f${i}`) break;
      inOrder++;
    }
    t.is(inOrder, n);
    t.true(await c.quiet(50));
    c.close();
    t.is(await stillServes(hub.text), '109 alive');
  });
});

test('[T-1] a pipelined session in one write: every verb answered in order', async (t) => {
  await withHub(async ({ hub }) => {
    const bob = await connectedClient(hub.text, 'bob', 6006);
    const c = await TextClient.connect(hub.text);
    c.writeRaw(
      [
        'USERS',
        'NEW alice s3cret',
        'CONNECT alice 5004 s3cret',
        'USERS',
        'CALL bob',
        'CALLED bob',
        'PING p',
        'HANGUP bob',
        'OUT',
        'PING never',
        '',
      ].join('\r\n'),
    );
    const got: string[] = [];
    // NEW and CONNECT with a secret wait for scrypt: generous bounds.
    for (let line = await c.next(15_000); line !== null; line = await c.next(15_000)) {
      got.push(line);
    }
    t.is(got.length, 9);
    t.like(got, {
      0: '401 not_connected',
      1: '108 alice',
      3: '103 alice:idle bob:idle',
      4: '104 bob',
      5: '404 bob no_call',
      6: '109 p',
      7: '107 bob cancelled',
      8: '102',
    });
    t.regex(got[2]!, /^101 \S+ alice$/);
    t.is(await bob.next(), '105 alice');
    t.is(await bob.next(), '107 alice cancelled');
    bob.close();
  });
});

test('bounded output: a client that never reads is dropped, not buffered without end', async (t) => {
  await withHub(async ({ hub }) => {
    // Fill the hub with users whose names make each 103 reply about 2 KiB.
    const admin = await TextClient.connect(hub.text);
    const names = Array.from({ length: 60 }, (_, i) =>
      `u${String(i).padStart(2, '0')}`.padEnd(32, 'x'),
    );
    admin.writeRaw(names.map((n) => `NEW ${n}\r\n`).join(''));
    for (const n of names) t.is(await admin.next(5000), `108 ${n}`);
    admin.close();

    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;
    // A raw socket that writes a great many USERS and never reads a byte.
    const hog = hub.text.connect();
    hog.pause();
    hog.on('error', () => {});
    const id = hub.accounts.getByName(names[0]!)!.id;
    hog.write(`CONNECT ${names[0]}\r\n`);
    await within(untilState(hub.core, id, 'idle'), 2000);
    t.is(hub.core.stateOf(id), 'idle');
    const requests = 20_000; // about 45 MB of replies if the hub kept them all
    const burst = 'USERS\r\n'.repeat(500);
    for (let i = 0; i < requests / 500; i++) hog.write(burst);

    // The hub drops the hog: its user goes offline while the hog still has not read.
    const dropped = await within(untilState(hub.core, id, 'offline'), 10_000);
    t.true(dropped, 'the hub kept a client that never reads');
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    t.true(heapGrowth < 32 * 1024 * 1024, `heap grew ${heapGrowth} bytes`);
    t.true(rssGrowth < 96 * 1024 * 1024, `rss grew ${rssGrowth} bytes`);

    // Reading now drains what the pipe held, then the connection ends: far fewer replies
    // than requests.
    let received = 0;
    let tail = '';
    hog.setEncoding('utf8');
    hog.on('data', (chunk: string) => {
      const text = tail + chunk;
      const parts = text.split('\r\n');
      tail = parts.pop() ?? '';
      received += parts.length;
    });
    hog.resume();
    t.true(await closedWithin(hog, 10_000), 'the hog connection was never closed');
    t.true(received < requests, `received ${received} of ${requests} replies`);
    hog.destroy();
    t.is(await stillServes(hub.text), '109 alive');
  });
});

test('[T-12] 1,100 idle connections at once are all closed by the idle timeout', async (t) => {
  await withHub(
    async ({ hub, clock }) => {
      const sockets = Array.from({ length: 1100 }, () => {
        const s = hub.text.connect();
        s.on('error', () => {});
        s.resume(); // reads, so that the hub's FIN is seen
        return s;
      });
      // Some say half a line and stop; that is silence too.
      for (const s of sockets.slice(0, 100)) s.write('USER');
      // While they idle, a normal client is served.
      t.is(await stillServes(hub.text, 'during'), '109 alive');
      clock.advance(1000);
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 15_000)));
      t.is(closed.filter((c) => !c).length, 0);
      t.is(await stillServes(hub.text, 'after'), '109 alive');
    },
    { idleTimeoutMs: 1000 },
  );
});

test('fairness: a client pipelining thousands of big requests while reading is served in full, and others meanwhile', async (t) => {
  await withHub(async ({ hub }) => {
    const admin = await TextClient.connect(hub.text);
    const names = Array.from({ length: 60 }, (_, i) =>
      `v${String(i).padStart(2, '0')}`.padEnd(32, 'y'),
    );
    admin.writeRaw(names.map((n) => `NEW ${n}\r\n`).join(''));
    for (const n of names) t.is(await admin.next(5000), `108 ${n}`);
    admin.close();

    const busy = await TextClient.connect(hub.text);
    const n = 5000; // about 12 MB of replies, far past the output cap if written in one go
    let received = 0;
    let allReceived = () => {};
    const flood = new Promise<void>((resolve) => {
      allReceived = resolve;
    });
    busy.socket.on('data', (chunk: string) => {
      for (const ch of chunk) if (ch === '\n') received++;
      if (received >= n) allReceived();
    });
    busy.writeRaw('USERS\r\n'.repeat(n));
    const other = await TextClient.connect(hub.text);
    const seenAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      t.is(await other.request(`PING o${i}`, 5000), `109 o${i}`);
      seenAt.push(received);
    }
    // The other client was answered while the flood was still being answered...
    t.true(seenAt[0]! < n, `first PING answered after ${seenAt[0]} of ${n} replies`);
    // ...and the flood was answered in full: the hub did not drop a client that reads.
    await within(Promise.race([flood, once(busy.socket, 'close')]), 10_000);
    t.is(received, n);
    t.false(busy.closed);
    busy.close();
    other.close();
  });
});
