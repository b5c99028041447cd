import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { HubClient, type HubClientOptions } from '../../../device/hub/client.ts';
import { Backoff } from '../../../shared/backoff.ts';
import { realClock } from '../../../shared/clock.ts';
import { startHub, tempDir } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { connectedClient } from '../../helpers/text-client.ts';

function client(port: number, over: Partial<HubClientOptions> = {}): HubClient {
  return new HubClient({
    host: '127.0.0.1',
    port,
    name: 'door',
    secret: 's3cret',
    mediaPort: 5004,
    autoCreate: true,
    clock: realClock,
    log: testLog,
    backoff: new Backoff({ minMs: 20, maxMs: 200 }),
    ...over,
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);
}

test('creates its account, registers, and receives call lines', async (t) => {
  const { hub, stop } = await startHub();
  const c = client(hub.textPort);
  try {
    c.start();
    const [uuid] = await within(once(c, 'online'), 3000, 'online');
    t.regex(uuid, /^[0-9a-f-]{36}$/);
    t.true(hub.accounts.getByName('door')?.hasSecret);
    const kitchen = await connectedClient(hub.textPort, 'kitchen', 6000);
    const rang = within(once(c, 'reply'), 3000, '105');
    t.is(await kitchen.request('CALL door'), '104 door');
    const [reply] = await rang;
    t.deepEqual(reply, { code: 105, args: ['kitchen'] });
    kitchen.close();
  } finally {
    c.stop();
    await stop();
  }
});

test('comes back by itself after a hub restart on the same port and data', async (t) => {
  const dataDir = tempDir();
  const first = await startHub([], {}, dataDir);
  const port = first.hub.textPort;
  const c = client(port);
  try {
    c.start();
    await within(once(c, 'online'), 3000, 'first online');
    const offline = once(c, 'offline');
    await first.stop();
    await within(offline, 3000, 'offline');
    t.false(c.online);
    // The hub is away for a while; the device keeps trying with backoff.
    await new Promise((r) => setTimeout(r, 300));
    const again = await startHub(['--text-port', String(port)], {}, dataDir);
    try {
      await within(once(c, 'online'), 3000, 'online again');
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

test('a hub that stops answering PINGs is dropped and reconnected', async (t) => {
  // A fake hub: answers CONNECT, then ignores everything (a half-dead peer).
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.on('data', (d) => {
      if (d.toString().startsWith('CONNECT'))
        s.write('101 0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11 door\r\n');
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const c = client(port, { pingIntervalMs: 50, replyTimeoutMs: 100 });
  try {
    c.start();
    await within(once(c, 'online'), 3000, 'online');
    await within(once(c, 'offline'), 3000, 'offline after unanswered PING');
    await within(once(c, 'online'), 3000, 'online again');
    t.true(connections >= 2);
  } finally {
    c.stop();
    server.close();
  }
});

test('a wrong secret keeps it offline and retrying, never throwing', async (t) => {
  const { hub, stop } = await startHub();
  await hub.accounts.createUser({ name: 'door', secret: 'right' });
  const c = client(hub.textPort, { secret: 'wrong' });
  let online = false;
  c.on('online', () => {
    online = true;
  });
  try {
    c.start();
    await new Promise((r) => setTimeout(r, 400));
    t.false(online);
    t.false(c.online);
  } finally {
    c.stop();
    await stop();
  }
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
