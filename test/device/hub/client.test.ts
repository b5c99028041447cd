import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { HubClient, type HubClientOptions } from '../../../device/hub/client.ts';
import type { CallEvent } from '../../../device/hub/events.ts';
import { Backoff } from '../../../shared/backoff.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { startHub, tempDir } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { connectedClient } from '../../helpers/text-client.ts';

/** Backoff without jitter: 20, 40, 80, 160, 200, 200... ms. */
const MAX_BACKOFF_MS = 200;

/**
 * A client on a FakeClock: every PING, reply deadline and reconnect waits for
 * `clock.advance()`. Each connection attempt's socket is kept in `sockets`, in order.
 */
function client(port: number, over: Partial<HubClientOptions> = {}) {
  const clock = new FakeClock();
  const sockets: net.Socket[] = [];
  const c = new HubClient({
    host: '127.0.0.1',
    port,
    name: 'door',
    secret: 's3cret',
    mediaPort: 5004,
    autoCreate: true,
    clock,
    log: testLog,
    backoff: new Backoff({ minMs: 20, maxMs: MAX_BACKOFF_MS, jitter: 0 }),
    connectFn: (p, host) => {
      const s = net.connect(p, host);
      sockets.push(s);
      return s;
    },
    ...over,
  });
  return { c, clock, sockets };
}

/** The last attempt's socket has closed (the client has handled it: its listener came first). */
async function closed(sockets: net.Socket[]): Promise<void> {
  const s = sockets.at(-1)!;
  // Not events.once: it would reject on the socket's 'error' (a refused connect) first.
  if (!s.closed) await new Promise((resolve) => s.once('close', resolve));
}

/**
 * A scripted hub: answers CONNECT with 101 (or `connectReply`), PING with 109 while
 * `pong` is true; records each line it gets.
 */
async function fakeHub(opts: { connectReply?: string } = {}) {
  const lines: string[] = [];
  const seen = new EventEmitter<{ line: [line: string] }>();
  const state = { pong: true, connections: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    let buffered = '';
    s.on('data', (d) => {
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i).trim();
        buffered = buffered.slice(i + 1);
        lines.push(line);
        if (line.startsWith('CONNECT'))
          s.write(opts.connectReply ?? '101 0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11 door\r\n');
        if (line === 'PING' && state.pong) s.write('109\r\n');
        seen.emit('line', line);
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  /** Resolves when the hub has received `n` lines equal to `line` in all. */
  const received = async (line: string, n = 1) => {
    while (lines.filter((l) => l === line).length < n) await once(seen, 'line');
  };
  return { server, port, lines, state, received };
}

test('creates its account, registers, and hands on call events', async (t) => {
  const { hub, stop } = await startHub();
  const { c } = client(hub.textPort);
  try {
    c.start();
    const [uuid] = await once(c, 'online');
    t.regex(uuid, /^[0-9a-f-]{36}$/);
    t.true(hub.accounts.getByName('door')?.hasSecret);
    const kitchen = await connectedClient(hub.textPort, 'kitchen', 6000);
    const rang = once(c, 'call') as Promise<[CallEvent]>;
    t.is(await kitchen.request('CALL door'), '104 door');
    t.deepEqual((await rang)[0], { kind: 'ringing', caller: 'kitchen' });
    kitchen.close();
  } finally {
    c.stop();
    await stop();
  }
});

test('comes back by itself after a hub restart, retrying on the clock while it is away', async (t) => {
  const dataDir = tempDir();
  const first = await startHub([], {}, dataDir);
  const port = first.hub.textPort;
  const { c, clock, sockets } = client(port);
  try {
    c.start();
    await once(c, 'online');
    const offline = once(c, 'offline');
    await first.stop();
    await offline;
    t.false(c.online);
    // The hub is away: each retry waits for the clock, fails, and arms the next one.
    for (let i = 0; i < 3; i++) {
      const before = sockets.length;
      clock.advance(MAX_BACKOFF_MS);
      t.is(sockets.length, before + 1, `retry ${i + 1}`);
      await closed(sockets);
      t.is(clock.pending, 1);
    }
    t.is(sockets.length, 4);
    const again = await startHub(['--text-port', String(port)], {}, dataDir);
    try {
      const online = once(c, 'online');
      clock.advance(MAX_BACKOFF_MS);
      await online;
      t.true(c.online);
      t.is(again.hub.core.stateOf(again.hub.accounts.getByName('door')!.id), 'idle');
    } finally {
      c.stop();
      await again.stop();
    }
  } finally {
    c.stop();
  }
});

test('no retry before its backoff delay: 20, 40, 80 ms', async (t) => {
  const hub = await fakeHub();
  hub.server.close();
  await once(hub.server, 'close');
  const { c, clock, sockets } = client(hub.port);
  try {
    c.start();
    await closed(sockets);
    for (const delay of [20, 40, 80]) {
      const before = sockets.length;
      clock.advance(delay - 1);
      t.is(sockets.length, before, `not before ${delay} ms`);
      clock.advance(1);
      t.is(sockets.length, before + 1, `at ${delay} ms`);
      await closed(sockets);
    }
  } finally {
    c.stop();
  }
});

test('PINGs on the clock; answered, the link stays up', async (t) => {
  const hub = await fakeHub();
  const { c, clock } = client(hub.port, { pingIntervalMs: 1000, replyTimeoutMs: 500 });
  let offline = false;
  c.on('offline', () => {
    offline = true;
  });
  try {
    c.start();
    await once(c, 'online');
    clock.advance(999);
    t.false(hub.lines.includes('PING'));
    clock.advance(1);
    for (let n = 1; n <= 3; n++) {
      await hub.received('PING', n);
      // The 109 cancels the reply deadline: only the PING interval stays armed.
      while (clock.pending > 1) await new Promise((r) => setImmediate(r));
      // Past where the deadline was (500 ms), up to the next PING.
      clock.advance(1000);
    }
    t.false(offline);
    t.true(c.online);
  } finally {
    c.stop();
    hub.server.close();
  }
});

test('an unanswered PING drops the link at its deadline, from the oldest PING', async (t) => {
  const hub = await fakeHub();
  hub.state.pong = false;
  const { c, clock, sockets } = client(hub.port, { pingIntervalMs: 1000, replyTimeoutMs: 1500 });
  try {
    c.start();
    await once(c, 'online');
    clock.advance(1000); // PING at 1000: deadline 2500
    clock.advance(1000); // PING at 2000: the deadline stays 2500
    await hub.received('PING', 2);
    const offline = once(c, 'offline');
    clock.advance(499);
    t.true(c.online);
    clock.advance(1);
    t.false(c.online);
    t.deepEqual(await offline, ['PING unanswered']);
    // It reconnects by itself after its backoff, and the hub sees a second CONNECT.
    hub.state.pong = true;
    await closed(sockets);
    const online = once(c, 'online');
    clock.advance(MAX_BACKOFF_MS);
    await online;
    t.is(hub.state.connections, 2);
  } finally {
    c.stop();
    hub.server.close();
  }
});

test('a hub that never answers CONNECT is dropped at the reply deadline', async (t) => {
  const hub = await fakeHub({ connectReply: '' });
  const { c, clock, sockets } = client(hub.port, { replyTimeoutMs: 300 });
  try {
    c.start();
    await hub.received('CONNECT door 5004 s3cret');
    t.is(sockets.length, 1);
    clock.advance(299);
    t.false(sockets[0]!.destroyed);
    clock.advance(1);
    t.true(sockets[0]!.destroyed);
    await closed(sockets);
    clock.advance(MAX_BACKOFF_MS);
    t.is(sockets.length, 2);
  } finally {
    c.stop();
    hub.server.close();
  }
});

test('a wrong secret keeps it offline and retrying, never throwing', async (t) => {
  const { hub, stop } = await startHub();
  await hub.accounts.createUser({ name: 'door', secret: 'right' });
  const { c, clock, sockets } = client(hub.textPort, { secret: 'wrong' });
  let online = false;
  c.on('online', () => {
    online = true;
  });
  try {
    c.start();
    for (let i = 0; i < 3; i++) {
      await closed(sockets);
      clock.advance(MAX_BACKOFF_MS);
    }
    await closed(sockets);
    t.is(sockets.length, 4);
    t.false(online);
    t.false(c.online);
  } finally {
    c.stop();
    await stop();
  }
});

test('stop says OUT when registered and cuts the link after its grace on the clock', async (t) => {
  const hub = await fakeHub();
  const { c, clock, sockets } = client(hub.port);
  c.start();
  await once(c, 'online');
  c.stop();
  await hub.received('OUT');
  t.is(clock.pending, 1);
  clock.advance(500);
  t.true(sockets[0]!.destroyed);
  t.is(clock.pending, 0);
  hub.server.close();
});

test('backoff grows to its cap with jitter below the base', (t) => {
  const b = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 });
  t.deepEqual(
    [b.next(), b.next(), b.next(), b.next(), b.next(), b.next()],
    [50, 100, 200, 400, 500, 500],
  );
  b.reset();
  const none = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
  t.deepEqual([none.next(), none.next()], [100, 200]);
  t.is(b.next(), 50);
});
