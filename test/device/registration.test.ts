/**
 * [S-6] The device's registration against a hub with registration closed, over a real TCP
 * socket: a scripted hub answers each line as a hub would. The device always creates its
 * account with its secret, says once (at warn) what the administrator must do when the
 * hub refuses, keeps retrying on its backoff (never exiting, never spinning), joins as
 * soon as the hub lets it, and re-creates its account if it is deleted while it runs.
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { HubClient } from '../../device/hub/client.ts';
import { Backoff } from '../../shared/backoff.ts';
import { FakeClock } from '../../shared/clock.ts';
import { captureLog } from './capture-log.ts';

const SECRET = 'Zq3v_generated-secret-0123456789abcdefghijk';
const UUID = '0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11';

/** A hub whose answers come from `answer(line, socket)`; it records every line. */
async function scriptedHub(answer: (line: string, s: net.Socket) => void) {
  const lines: string[] = [];
  const seen = new EventEmitter<{ line: [string] }>();
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    let buffered = '';
    s.on('data', (d) => {
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i).trim();
        buffered = buffered.slice(i + 1);
        lines.push(line);
        answer(line, s);
        seen.emit('line', line);
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const received = async (pred: (l: string) => boolean, n = 1) => {
    while (lines.filter(pred).length < n) await once(seen, 'line');
  };
  /** Resolves when the device has dropped its `n`th connection (the hub saw it close). */
  const dropped = async (n: number) => {
    while (sockets.length < n) await once(seen, 'line');
    const sock = sockets[n - 1]!;
    if (!sock.closed) await once(sock, 'close');
  };
  const close = () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  return { port, lines, received, dropped, sockets, close };
}

function device(port: number) {
  const clock = new FakeClock();
  const { log, records } = captureLog();
  const c = new HubClient({
    host: '127.0.0.1',
    port,
    name: 'door',
    secret: SECRET,
    mediaPort: 5004,
    autoCreate: true,
    clock,
    log,
    backoff: new Backoff({ minMs: 20, maxMs: 200, jitter: 0 }),
  });
  return { c, clock, records };
}

const FIX =
  "registration is closed on the hub: run `babel-hub pair` there, or `babel-hub user add door` and put its secret in this device's config";

test('registration closed: NEW carries the secret, one warn names the fix, retries on the backoff until pairing opens', async (t) => {
  let open = false;
  let created = false;
  const hub = await scriptedHub((line, s) => {
    if (line.startsWith('CONNECT')) {
      s.write(created && line.endsWith(SECRET) ? `101 ${UUID} door\r\n` : '401 door unknown\r\n');
    } else if (line.startsWith('NEW')) {
      created = open;
      s.write(open ? '108 door\r\n' : '408 door forbidden\r\n');
    }
  });
  const { c, clock, records } = device(hub.port);
  try {
    c.start();
    for (let attempt = 1; attempt <= 4; attempt++) {
      await hub.received((l) => l.startsWith('NEW'), attempt);
      await hub.dropped(attempt);
      t.is(clock.pending, 1, 'only the retry timer is armed');
      // Never spinning: nothing happens until the backoff's delay has passed.
      const before = hub.lines.length;
      clock.advance(attempt === 1 ? 19 : 0);
      await new Promise((r) => setTimeout(r, 30));
      t.is(hub.lines.length, before, 'no retry before the backoff delay');
      if (attempt < 4) clock.advance(200);
    }
    t.deepEqual(
      [...new Set(hub.lines.filter((l) => l.startsWith('NEW')))],
      [`NEW door ${SECRET}`],
      'NEW always sends the secret',
    );
    const warns = records.filter(
      (r) => r.level === 40 && r.msg === `hub refused registration: ${FIX}`,
    );
    t.is(warns.length, 1, 'the fix is said once per streak, not at every retry');
    t.false(c.online);

    // An administrator runs `babel-hub pair`: the next retry creates the account and joins.
    open = true;
    const online = once(c, 'online');
    clock.advance(200);
    await online;
    t.true(c.online);
    t.is(hub.lines.filter((l) => l === `NEW door ${SECRET}`).length, 5);
    t.is(hub.lines.at(-1), `CONNECT door 5004 ${SECRET}`);
  } finally {
    c.stop();
    hub.close();
  }
  // Never the secret in a log line.
  t.false(JSON.stringify(records).includes(SECRET));
});

test('an account deleted while the device runs is created again, with the same secret', async (t) => {
  let exists = true;
  const hub = await scriptedHub((line, s) => {
    if (line.startsWith('CONNECT')) {
      s.write(exists ? `101 ${UUID} door\r\n` : '401 door unknown\r\n');
    } else if (line.startsWith('NEW')) {
      exists = true;
      s.write('108 door\r\n');
    }
  });
  const { c, clock } = device(hub.port);
  try {
    c.start();
    await once(c, 'online');
    t.false(hub.lines.some((l) => l.startsWith('NEW')));
    // `babel-hub user remove door`: the hub forgets the account and drops the session.
    exists = false;
    const offline = once(c, 'offline');
    for (const s of hub.sockets) s.destroy();
    await offline;
    const online = once(c, 'online');
    clock.advance(200);
    await online;
    t.deepEqual(hub.lines.slice(-3), [
      `CONNECT door 5004 ${SECRET}`,
      `NEW door ${SECRET}`,
      `CONNECT door 5004 ${SECRET}`,
    ]);
  } finally {
    c.stop();
    hub.close();
  }
});

test('a hub that keeps forgetting the account gets one NEW per connection, then the backoff', async (t) => {
  const hub = await scriptedHub((line, s) => {
    if (line.startsWith('CONNECT')) s.write('401 door unknown\r\n');
    else if (line.startsWith('NEW')) s.write('108 door\r\n');
  });
  const { c, clock } = device(hub.port);
  try {
    c.start();
    await hub.received((l) => l.startsWith('CONNECT'), 2);
    await hub.dropped(1);
    t.is(clock.pending, 1, 'only the retry timer is armed');
    t.deepEqual(hub.lines, [
      `CONNECT door 5004 ${SECRET}`,
      `NEW door ${SECRET}`,
      `CONNECT door 5004 ${SECRET}`,
    ]);
    t.is(hub.sockets.length, 1);
    clock.advance(200);
    await hub.received((l) => l.startsWith('NEW'), 2);
    t.is(hub.sockets.length, 2);
  } finally {
    c.stop();
    hub.close();
  }
});
