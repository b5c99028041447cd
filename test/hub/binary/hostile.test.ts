/**
 * The binary dialect under hostile or careless clients, in process: seeded random bytes,
 * half-sent frames, clients that vanish mid-request or never read, and the accounts'
 * durability across a hub restart.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { encodeRequest, ResponseParser } from '../../../protocol/binary/frame.ts';
import { BinaryClient, createdUser } from '../../helpers/binary-client.ts';
import { untilPresence, untilState, within } from '../../helpers/hub-events.ts';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { connectedClient, type TextClient } from '../../helpers/text-client.ts';

type User = Awaited<ReturnType<typeof createdUser>>;

const auth = (u: { id: string; token: string }): Fields => ({ id: u.id, token: u.token });

/** Clients of a test, closed at teardown before the hub stops. */
function clientsOf(t: ExecutionContext, h: TestHub) {
  const clients: Array<{ close(): void }> = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await h.stop();
  });
  return {
    async user(mail: string, pass = 'pw', extra: Fields = {}): Promise<User> {
      const u = await createdUser(h.hub.binary, mail, pass, extra);
      clients.push(u.client);
      return u;
    },
    async connect(): Promise<BinaryClient> {
      const c = await BinaryClient.connect(h.hub.binary);
      clients.push(c);
      return c;
    },
    async raw(): Promise<Duplex> {
      const s = h.hub.binary.connect();
      s.on('error', () => {});
      clients.push({ close: () => s.destroy() });
      return s;
    },
    async text(name: string): Promise<TextClient> {
      const c = await connectedClient(h.hub.text, name);
      clients.push(c);
      return c;
    },
  };
}

/** Resolves at the first of `events` on `s` (an 'error' on the way is no rejection). */
function firstOf(s: Duplex, ...events: string[]): Promise<void> {
  return new Promise((resolve) => {
    for (const e of events) s.once(e, () => resolve());
  });
}

/** Resolves once the hub reports the user called `name` offline. */
function offline(h: TestHub, name: string): Promise<void> {
  return untilPresence(h.hub.core, (e) => e.user.name === name && e.state === 'offline');
}

/** Bytes a mutation may write: field-list syntax, escapes, and invalid UTF-8. */
const NASTY = Buffer.from('"\\:,[]  az_AZ09\n\t\x00\xc3\xff/');

/**
 * One fuzz chunk source: mostly well-framed requests on real routes, with real or broken
 * credentials and mutated field lists (so the adapter's handlers run, not only the
 * deframer), each frame cut into 1-3 writes; now and then raw random bytes, which
 * desynchronise the stream and usually end in `frame_too_large`.
 */
function fuzzChunks(rand: () => number, alice: User, bob: User): () => Buffer[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const randomBytes = (n: number) =>
    Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const mutate = (text: string): Buffer => {
    const b = Buffer.from(text);
    if (rand() < 0.4) return b;
    const out = [...b];
    for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
      const at = Math.floor(rand() * (out.length + 1));
      const op = rand();
      if (op < 0.4) out.splice(at, 1, NASTY[Math.floor(rand() * NASTY.length)]!);
      else if (op < 0.7) out.splice(at, 1);
      else out.splice(at, 0, Math.floor(rand() * 256));
    }
    return Buffer.from(out);
  };
  const headers = [
    `id: "${alice.id}", token: "${alice.token}"`,
    `id: "${bob.id}", token: "${bob.token}"`,
    `Id: "${alice.id}", Token: "${bob.token}"`,
    'id: "x", token: "y"',
    '',
  ];
  const uuid = '33333333-3333-4333-8333-333333333333';
  const routes: ReadonlyArray<[string, readonly string[]]> = [
    ['/contacts', ['']],
    [
      '/add_contact',
      ['contact_email: "bob@example.org"', 'contact_email: "alice"', 'contact_email: ""'],
    ],
    ['/remove_contact', [`contact_id: "${bob.id}"`, `contact_id: "${alice.id}"`]],
    ['/call', [`contact_id: "${bob.id}"`, `contact_id: "${alice.id}"`, `contact_id: "${uuid}"`]],
    ['/accept', [`call_id: "${uuid}"`, 'call_id: ""']],
    ['/hangup', [`call_id: "${uuid}"`]],
    ['/connect_call', [`call_id: "${uuid}"`]],
    [
      '/send',
      [
        'type: "opus", nb_packets: "2", size_packet: "3", packets: "AAECAwQF"',
        'nb_packets: 99999999999',
      ],
    ],
    ['/nope', ['']],
    ['nope', ['']],
    ['', ['']],
  ];
  return () => {
    if (rand() < 0.01) return [randomBytes(1 + Math.floor(rand() * 24))];
    const [route, datas] = pick(routes);
    const header = mutate(pick(headers));
    const data = mutate(pick(datas));
    const prefix = Buffer.alloc(12);
    const routeBytes = rand() < 0.05 ? mutate(route) : Buffer.from(route);
    prefix.writeUInt32LE(header.length, 0);
    prefix.writeUInt32LE(routeBytes.length, 4);
    prefix.writeUInt32LE(data.length, 8);
    const frame = Buffer.concat([prefix, header, routeBytes, data]);
    const cuts = [0, frame.length];
    for (let n = Math.floor(rand() * 3); n > 0; n--) cuts.push(Math.floor(rand() * frame.length));
    cuts.sort((x, y) => x - y);
    const parts: Buffer[] = [];
    for (let i = 1; i < cuts.length; i++) {
      if (cuts[i]! > cuts[i - 1]!) parts.push(frame.subarray(cuts[i - 1], cuts[i]));
    }
    return parts;
  };
}

test('100,000 seeded random chunks over a few connections never crash the hub nor get a 500', async (t) => {
  const h = await startHub();
  const c = clientsOf(t, h);
  const alice = await c.user('alice@example.org');
  const bob = await c.user('bob@example.org');
  const statuses = new Map<number, number>();
  const CONNECTIONS = 4;
  const CHUNKS = 100_000;
  let reconnects = 0;

  const worker = async (seed: number, chunks: number): Promise<void> => {
    const next = fuzzChunks(mulberry32(seed), alice, bob);
    let socket: Duplex | null = null;
    let sent = 0;
    while (sent < chunks) {
      if (!socket || socket.destroyed || !socket.writable) {
        socket = await c.raw();
        reconnects++;
        const parser = new ResponseParser(1 << 20);
        socket.on('data', (chunk: Buffer) => {
          for (const ev of parser.push(chunk)) {
            if (ev.kind === 'frame')
              statuses.set(ev.frame.status, (statuses.get(ev.frame.status) ?? 0) + 1);
          }
        });
      }
      // Yield now and then, so a close by the hub (after `frame_too_large`) is noticed.
      if (sent % 32 === 0) await new Promise((r) => setImmediate(r));
      for (const part of next()) {
        if (!socket.writable) break;
        sent++;
        if (!socket.write(part)) {
          const s = socket;
          // A hub that closes a connection (after `frame_too_large`) stops reading it: its
          // FIN, not a drain, ends the wait, and the client gives up on what it was writing.
          const drained =
            s.readableEnded || (await within(firstOf(s, 'drain', 'close', 'end'), 10_000));
          if (!drained) throw new Error(`seed ${seed}: no drain within 10 s`);
          if (s.readableEnded) s.destroy();
          if (!s.writable) break;
        }
      }
    }
    // Let the hub answer what it read before the connection goes.
    if (socket?.writable) {
      const s = socket;
      s.end();
      await within(firstOf(s, 'close'), 3000);
    }
  };
  await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => worker(0x5eed + i, CHUNKS / CONNECTIONS)),
  );
  t.log(
    `seeds 0x5eed..+${CONNECTIONS - 1}, ${reconnects} connections, statuses`,
    Object.fromEntries(statuses),
  );

  t.is(statuses.get(500) ?? 0, 0);
  for (const code of [200, 400, 401, 403, 404])
    t.true((statuses.get(code) ?? 0) > 0, `some ${code}`);
  // The hub still serves normal clients, old and new.
  t.is((await alice.client.request('/contacts', auth(alice))).status, 200);
  const carol = await c.user('carol@example.org');
  t.is(
    (await carol.client.request('/add_contact', auth(carol), { contact_email: 'bob@example.org' }))
      .status,
    200,
  );
});

test('half-sent frames then a close leave the hub serving; a session cut mid-frame goes offline', async (t) => {
  const h = await startHub();
  const c = clientsOf(t, h);
  const bob = await c.user('bob@example.org');
  const full = encodeRequest({
    header: '',
    route: '/create',
    data: 'user_mail: "x@example.org", pass: "pw"',
  });
  for (const cut of [1, 5, 11, 12, 20, full.length - 1]) {
    const s = await c.raw();
    const closed = once(s, 'close');
    s.end(full.subarray(0, cut));
    t.true(await within(closed, 3000), `closed after ${cut} bytes`);
  }
  // Nothing half-sent was taken as a request.
  const retry = await c.connect();
  t.is(
    (await retry.request('/create', {}, { user_mail: 'x@example.org', pass: 'pw' })).status,
    201,
  );

  const alice = await c.user('alice@example.org');
  alice.client.writeRaw(
    encodeRequest({ header: '', route: '/contacts', data: '' }).subarray(0, 15),
  );
  alice.client.socket.end();
  await within(untilState(h.hub.core, alice.id, 'offline'), 3000);
  const r = await bob.client.request('/call', auth(bob), { contact_id: alice.id });
  t.deepEqual([r.status, r.fields], [403, { error: 'offline' }]);
});

test('a client that closes while /create is hashing leaves no ghost session online', async (t) => {
  const h = await startHub();
  const c = clientsOf(t, h);
  const watcher = await c.text('watcher');
  const ghost = await c.connect();
  ghost.send('/create', {}, { user_mail: 'ghost@example.org', pass: 'pw' });
  const gone = offline(h, 'ghost');
  ghost.socket.destroy();
  // The hub may answer the /create before it sees the connection gone (its sockets are
  // half-open), so the user can be idle for a moment; it must end offline, not stay online.
  await within(gone, 10_000);
  t.is(await watcher.request('USERS'), '103 ghost:offline watcher:idle');
});

test('a client that half-closes during /create is answered, then goes offline with its connection', async (t) => {
  const h = await startHub();
  const c = clientsOf(t, h);
  const watcher = await c.text('watcher');
  const hal = await c.connect();
  hal.send('/create', {}, { user_mail: 'hal@example.org', pass: 'pw' });
  const gone = offline(h, 'hal');
  hal.socket.end();
  t.is((await hal.response(10_000)).status, 201);
  await within(gone, 10_000);
  t.is(await watcher.request('USERS'), '103 hal:offline watcher:idle');
});

test('a client that never reads is dropped once its output piles up (bounded output)', async (t) => {
  const h = await startHub();
  const c = clientsOf(t, h);
  const alice = await c.user('alice@example.org');
  const bob = await c.user('bob@example.org');
  const call = await alice.client.request('/call', auth(alice), { contact_id: bob.id });
  const callId = call.fields.call_id!;
  await bob.client.event();
  await bob.client.request('/accept', auth(bob), { call_id: callId });
  await alice.client.event(); // call_started
  const a = await c.connect();
  const b = await c.connect();
  t.is((await a.request('/connect_call', auth(alice), { call_id: callId })).status, 200);
  t.is((await b.request('/connect_call', auth(bob), { call_id: callId })).status, 200);
  b.socket.pause(); // Bob's channel stops reading.

  const batch = {
    type: 'opus',
    nb_packets: '32',
    size_packet: '1024',
    packets: Buffer.alloc(32 * 1024, 0x55).toString('base64'),
  };
  let last = { status: 200, fields: {} as Fields };
  let sent = 0;
  // 1000 batches are ~43 MB of events: far beyond any socket buffer.
  while (sent < 1000 && last.status === 200) {
    last = await a.request('/send', auth(alice), batch);
    sent++;
  }
  t.log(`${sent} batches before the drop`);
  t.deepEqual([last.status, last.fields], [403, { error: 'peer_unreachable' }]);
  // Only the channel that did not read was dropped; Bob's session is untouched.
  t.is((await bob.client.request('/contacts', auth(bob))).status, 200);
  t.is(alice.client.pendingEvents, 0);
});

test('accounts survive a restart on the same data dir: id, name, password and contacts', async (t) => {
  const first = await startHub();
  const before = { alice: { id: '', name: '' }, bob: { id: '', name: '' } };
  {
    const alice = await createdUser(first.hub.binary, 'alice@example.org', 'alice-pw');
    const bob = await createdUser(first.hub.binary, 'bob@example.org', 'bob-pw', {
      name: 'Robert',
    });
    const carol = await createdUser(first.hub.binary, 'carol@example.org', 'carol-pw');
    await alice.client.request('/add_contact', auth(alice), { contact_email: 'bob@example.org' });
    await bob.client.request('/add_contact', auth(bob), { contact_email: 'alice@example.org' });
    await carol.client.request('/add_contact', auth(carol), { contact_email: 'alice@example.org' });
    before.alice = { id: alice.id, name: alice.name };
    before.bob = { id: bob.id, name: bob.name };
    for (const u of [alice, bob, carol]) u.client.close();
    await first.stop();
  }
  const h = await startHub([], {}, first.dataDir);
  const c = clientsOf(t, h);
  const conn = await c.connect();
  const wrong = await conn.request(
    '/login',
    {},
    { user_mail: 'alice@example.org', pass: 'bob-pw' },
  );
  t.is(wrong.status, 401);
  const alice = await conn.request(
    '/login',
    {},
    { user_mail: 'alice@example.org', pass: 'alice-pw' },
  );
  t.is(alice.status, 200);
  t.like(alice.fields, before.alice);
  const bobConn = await c.connect();
  const bob = await bobConn.request('/login', {}, { user_mail: 'bob@example.org', pass: 'bob-pw' });
  t.like(bob.fields, { id: before.bob.id, name: 'robert' });
  const list = await conn.request('/contacts', {
    id: alice.fields.id!,
    token: alice.fields.token!,
  });
  t.regex(
    list.raw,
    new RegExp(
      `^\\[id: "[^"]+", name: "carol", status: "pending"\\], \\[id: "${before.bob.id}", name: "robert", status: "idle"\\]$`,
    ),
  );
  // The derived-name sequence continues from what is stored [B-5].
  const again = await conn.request('/create', {}, { user_mail: 'alice@elsewhere.org', pass: 'pw' });
  t.is(again.fields.name, 'alice2');
});
