/**
 * Binary dialect calls, in process: `/call`, `/accept` and `/hangup`
 * (extensions) with their events [B-7], end reasons [T-10], refusals, both cross-dialect
 * directions, and relayed media [T-9, M-4] on real UDP sockets.
 */
import dgram from 'node:dgram';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { createdUser } from '../../helpers/binary-client.ts';
import { untilState, within } from '../../helpers/hub-events.ts';
import {
  startHubInProcess as startHub,
  TRANSPORTS,
  type Transport,
} from '../../helpers/in-process-hub.ts';
import { connectedClient, type TextClient } from '../../helpers/text-client.ts';
import { SECURE_106 } from '../../helpers/transcript.ts';

type Ctx = { transport: Transport };
const test = anyTest as TestFn<Ctx>;

/**
 * [S-1] A signaling test that runs over both transports, plain and TLS, from one body:
 * `t.context.transport` says which, and `hubFor` dials the hub over it.
 */
function bothTransports(name: string, body: (t: ExecutionContext<Ctx>) => Promise<void>): void {
  for (const transport of TRANSPORTS) {
    // One at a time: each test hashes two passwords (scrypt), and twice as many tests at
    // once time out on a loaded machine.
    test.serial(`${transport}: ${name}`, (t) => {
      t.context = { transport };
      return body(t);
    });
  }
}

/**
 * A `call_started` event as the seed has it: over TLS it also carries the SRTP suite and
 * two keys [S-4], checked here and left out; over plaintext it must not.
 */
function seedStarted(t: ExecutionContext<Ctx>, ev: Fields): Fields {
  const { srtp_suite, srtp_send, srtp_recv, ...seed } = ev;
  if (t.context.transport === 'plain') {
    t.deepEqual([srtp_suite, srtp_send, srtp_recv], [undefined, undefined, undefined]);
  } else {
    t.is(srtp_suite, 'AES_CM_128_HMAC_SHA1_80');
    t.regex(srtp_send ?? '', /^[A-Za-z0-9+/]{40}$/);
    t.regex(srtp_recv ?? '', /^[A-Za-z0-9+/]{40}$/);
  }
  return seed;
}

/** A text `106` as the seed has it: over TLS the keys after it are checked and left out. */
function seed106(t: ExecutionContext<Ctx>, line: string | null): string | null {
  if (t.context.transport === 'plain') return line;
  const m = SECURE_106.exec(line ?? '');
  t.truthy(m, `${line} carries SRTP keys`);
  return m?.[1] ?? line;
}

type User = Awaited<ReturnType<typeof createdUser>>;

/** A hub for one test; its clients and sockets are closed, then the hub stopped, at teardown. */
async function hubFor(t: ExecutionContext<Ctx>, argv: string[] = []) {
  const h = await startHub(argv);
  const clients: Array<{ close(): void }> = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await h.stop();
  });
  return {
    hub: h.hub,
    clock: h.clock,
    async user(mail: string, extra: Fields = {}): Promise<User> {
      const u = await createdUser(h.hub.dialer('binary', t.context.transport), mail, 'pw', extra);
      clients.push(u.client);
      return u;
    },
    async textUser(name: string, mediaPort = 0): Promise<TextClient> {
      const c = await connectedClient(h.hub.dialer('text', t.context.transport), name, mediaPort);
      clients.push(c);
      return c;
    },
    async udp(): Promise<dgram.Socket> {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
      clients.push(s);
      return s;
    },
  };
}

const auth = (u: { id: string; token: string }): Fields => ({ id: u.id, token: u.token });

function call(from: User, to: { id: string }) {
  return from.client.request('/call', auth(from), { contact_id: to.id });
}

/**
 * Asserts `u` received no event: a request answered after anything the previous request
 * caused proves it, since a connection's frames are written in order [T-11].
 */
async function noEvent(t: ExecutionContext<Ctx>, u: User): Promise<void> {
  t.is((await u.client.request('/contacts', auth(u))).status, 200);
  t.is(u.client.pendingEvents, 0);
}

/** Alice (caller) and Bob (callee), with a call ringing at Bob. */
async function ringing(t: ExecutionContext<Ctx>, argv: string[] = [], ports = ['5004', '6006']) {
  const h = await hubFor(t, argv);
  const alice = await h.user('alice@example.org', ports[0] ? { media_port: ports[0] } : {});
  const bob = await h.user('bob@example.org', ports[1] ? { media_port: ports[1] } : {});
  const r = await call(alice, bob);
  if (r.status !== 200) throw new Error(`/call ${r.status} ${r.raw}`);
  const callId = r.fields.call_id!;
  const called = await bob.client.event();
  return { h, alice, bob, callId, callReply: r, called };
}

bothTransports(
  '[B-7] /call answers 200 ip, port, call_id; the callee gets `called`; /accept starts the call for both',
  async (t) => {
    const { alice, bob, callId, callReply, called } = await ringing(t);
    t.deepEqual(Object.keys(callReply.fields), ['ip', 'port', 'call_id']);
    // [T-9] both declared a media port: no relay, the caller is given the callee's address.
    t.like(callReply.fields, { ip: '127.0.0.1', port: '6006' });
    t.deepEqual(
      { ...called },
      {
        event: 'called',
        call_id: callId,
        from_id: alice.id,
        from_name: 'alice',
      },
    );
    const acc = await bob.client.request('/accept', auth(bob), { call_id: callId });
    t.deepEqual([acc.status, acc.raw], [200, '']);
    t.deepEqual(seedStarted(t, await bob.client.event()), {
      event: 'call_started',
      call_id: callId,
      peer_id: alice.id,
      peer_name: 'alice',
      ip: '127.0.0.1',
      port: '5004',
    });
    t.deepEqual(seedStarted(t, await alice.client.event()), {
      event: 'call_started',
      call_id: callId,
      peer_id: bob.id,
      peer_name: 'bob',
      ip: '127.0.0.1',
      port: '6006',
    });
  },
);

bothTransports(
  '[T-10] /hangup by a ringing callee ends the call `declined` for the caller',
  async (t) => {
    const { alice, bob, callId } = await ringing(t);
    const r = await bob.client.request('/hangup', auth(bob), { call_id: callId });
    t.deepEqual([r.status, r.raw], [200, '']);
    t.deepEqual(
      { ...(await alice.client.event()) },
      { event: 'call_ended', call_id: callId, reason: 'declined' },
    );
    await noEvent(t, bob);
  },
);

bothTransports(
  '[T-10] /hangup by a ringing caller ends the call `cancelled` for the callee',
  async (t) => {
    const { alice, bob, callId } = await ringing(t);
    t.is((await alice.client.request('/hangup', auth(alice), { call_id: callId })).status, 200);
    t.deepEqual(
      { ...(await bob.client.event()) },
      { event: 'call_ended', call_id: callId, reason: 'cancelled' },
    );
    await noEvent(t, alice);
    // The call is over: accepting it now is 404.
    const late = await bob.client.request('/accept', auth(bob), { call_id: callId });
    t.deepEqual([late.status, late.fields], [404, { error: 'no_call' }]);
  },
);

bothTransports(
  '[T-10] /hangup in a call ends it `ended` for the other party, whichever side hangs up',
  async (t) => {
    const { alice, bob, callId } = await ringing(t);
    await bob.client.request('/accept', auth(bob), { call_id: callId });
    await bob.client.event();
    await alice.client.event();
    t.is((await bob.client.request('/hangup', auth(bob), { call_id: callId })).status, 200);
    t.deepEqual(
      { ...(await alice.client.event()) },
      { event: 'call_ended', call_id: callId, reason: 'ended' },
    );
    await noEvent(t, bob);
    // Both are idle again: a new call in the other direction works.
    const again = await call(bob, alice);
    t.is(again.status, 200);
    t.not(again.fields.call_id, callId);
    t.is((await alice.client.event()).event, 'called');
    t.is(
      (await alice.client.request('/hangup', auth(alice), { call_id: again.fields.call_id! }))
        .status,
      200,
    );
    t.like(await bob.client.event(), { event: 'call_ended', reason: 'declined' });
  },
);

bothTransports(
  '[T-10] an unanswered call ends `timeout` for both after --ring-timeout',
  async (t) => {
    const { h, alice, bob, callId } = await ringing(t, ['--ring-timeout', '1']);
    h.clock.advance(1000);
    t.deepEqual(
      { ...(await alice.client.event(5000)) },
      { event: 'call_ended', call_id: callId, reason: 'timeout' },
    );
    t.deepEqual(
      { ...(await bob.client.event(5000)) },
      { event: 'call_ended', call_id: callId, reason: 'timeout' },
    );
    const late = await bob.client.request('/accept', auth(bob), { call_id: callId });
    t.is(late.status, 404);
  },
);

bothTransports(
  '[T-10] a party whose connection drops ends the call `disconnected` for the other',
  async (t) => {
    const { alice, bob, callId } = await ringing(t);
    await bob.client.request('/accept', auth(bob), { call_id: callId });
    await bob.client.event();
    await alice.client.event();
    bob.client.close();
    t.deepEqual(
      { ...(await alice.client.event()) },
      { event: 'call_ended', call_id: callId, reason: 'disconnected' },
    );
  },
);

bothTransports(
  '/call refusals are 403 with an error: self, unknown, offline, busy, in_call, missing field',
  async (t) => {
    const { h, alice, bob } = await ringing(t);
    const carol = await h.user('carol@example.org');
    const dave = await h.user('dave@example.org');
    dave.client.close();
    const erin = await h.user('erin@example.org');
    const table: Array<[from: User, data: Fields, error: string]> = [
      [carol, { contact_id: carol.id }, 'self'],
      [carol, { contact_id: '00000000-0000-4000-8000-000000000000' }, 'unknown'],
      [carol, { contact_id: bob.id }, 'busy'],
      [carol, { contact_id: alice.id }, 'busy'],
      [alice, { contact_id: erin.id }, 'in_call'],
      [carol, {}, 'missing_contact_id'],
    ];
    for (const [from, data, error] of table) {
      const r = await from.client.request('/call', auth(from), data);
      t.deepEqual([r.status, r.fields], [403, { error }], `${from.name} ${JSON.stringify(data)}`);
    }
    // Offline: poll, since the hub learns of dave's close asynchronously (bounded).
    let r = await call(carol, dave);
    for (let i = 0; i < 100 && r.status === 200; i++) r = await call(carol, dave);
    t.deepEqual([r.status, r.fields], [403, { error: 'offline' }]);
  },
);

bothTransports(
  '/accept and /hangup with a wrong call_id are 404; a caller cannot /accept its own call',
  async (t) => {
    const { h, alice, bob, callId } = await ringing(t);
    const carol = await h.user('carol@example.org');
    const wrong = '11111111-1111-4111-8111-111111111111';
    for (const [u, route, data] of [
      [bob, '/accept', { call_id: wrong }],
      [bob, '/hangup', { call_id: wrong }],
      [alice, '/accept', { call_id: callId }],
      [carol, '/accept', { call_id: callId }],
      [carol, '/hangup', { call_id: callId }],
    ] as const) {
      const r = await u.client.request(route, auth(u), data);
      t.deepEqual([r.status, r.fields], [404, { error: 'no_call' }], `${u.name} ${route}`);
    }
    // A missing call_id is 404 on these routes (decision, docs/protocol.md).
    for (const route of ['/accept', '/hangup']) {
      const r = await bob.client.request(route, auth(bob), {});
      t.deepEqual([r.status, r.fields], [404, { error: 'missing_call_id' }], route);
    }
    // Still ringing after all that.
    t.is((await bob.client.request('/accept', auth(bob), { call_id: callId })).status, 200);
  },
);

bothTransports(
  'cross-dialect: a binary user calls a text user; USERS shows the binary user state',
  async (t) => {
    const h = await hubFor(t);
    const alice = await h.user('alice@example.org', { media_port: '5004' });
    const door = await h.textUser('door', 7000);
    await alice.client.request('/add_contact', auth(alice), { contact_email: 'door' });
    const listed = await alice.client.request('/contacts', auth(alice));
    const doorId = /id: "([^"]+)"/.exec(listed.raw)![1]!;

    t.is(await door.request('USERS'), '103 alice:idle door:idle');
    const r = await call(alice, { id: doorId });
    t.like(r.fields, { ip: '127.0.0.1', port: '7000' });
    t.is(r.status, 200);
    t.is(await door.next(), '105 alice');
    t.is(await door.request('USERS'), '103 alice:calling door:ringing');
    t.is(seed106(t, await door.request('ACCEPT alice')), '106 alice 127.0.0.1 5004');
    t.deepEqual(seedStarted(t, await alice.client.event()), {
      event: 'call_started',
      call_id: r.fields.call_id!,
      peer_id: doorId,
      peer_name: 'door',
      ip: '127.0.0.1',
      port: '7000',
    });
    t.is(await door.request('USERS'), '103 alice:in_call door:in_call');
    t.is(
      (await alice.client.request('/hangup', auth(alice), { call_id: r.fields.call_id! })).status,
      200,
    );
    t.is(await door.next(), '107 alice ended');
    t.is(await door.request('USERS'), '103 alice:idle door:idle');
    alice.client.close();
    await within(untilState(h.hub.core, alice.id, 'offline'), 3000);
    t.is(await door.request('USERS'), '103 alice:offline door:idle');
  },
);

bothTransports(
  'cross-dialect: a text user calls a binary user, who declines, then calls back and the text user hangs up',
  async (t) => {
    const h = await hubFor(t);
    const bob = await h.user('bob@example.org', { media_port: '6006' });
    const door = await h.textUser('door', 7000);
    t.is(await door.request('CALL bob'), '104 bob');
    const called = await bob.client.event();
    t.like(called, { event: 'called', from_name: 'door' });
    t.is(await door.request('USERS'), '103 bob:ringing door:calling');
    t.is(
      (await bob.client.request('/hangup', auth(bob), { call_id: called.call_id! })).status,
      200,
    );
    t.is(await door.next(), '107 bob declined');

    const back = await call(bob, { id: called.from_id! });
    t.is(back.status, 200);
    t.is(await door.next(), '105 bob');
    t.is(seed106(t, await door.request('ACCEPT bob')), '106 bob 127.0.0.1 6006');
    t.like(await bob.client.event(), { event: 'call_started', peer_name: 'door', port: '7000' });
    t.is(await door.request('HANGUP bob'), '107 bob ended');
    t.deepEqual(
      { ...(await bob.client.event()) },
      {
        event: 'call_ended',
        call_id: back.fields.call_id!,
        reason: 'ended',
      },
    );
  },
);

/** A minimal RTP packet [M-1]: version 2, payload type 111, then `payload`. */
function rtp(seq: number, payload: string): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 111;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(seq * 960, 4);
  header.writeUInt32BE(0x1234abcd, 8);
  return Buffer.concat([header, Buffer.from(payload)]);
}

/** What one UDP socket received first. */
interface Received {
  msg: Buffer;
  rinfo: dgram.RemoteInfo;
}

/**
 * Both sockets send to their relay port every 25 ms until each has received a datagram
 * (bounded). A leg forwards only once the other leg latched its device's port [M-4], so
 * the first packets may be dropped: repeating makes the exchange independent of who
 * started.
 */
function exchange(
  a: { socket: dgram.Socket; port: number; packet: Buffer },
  b: { socket: dgram.Socket; port: number; packet: Buffer },
  ms = 3000,
): Promise<[atA: Received, atB: Received]> {
  const first = (s: dgram.Socket) =>
    new Promise<Received>((resolve) => s.once('message', (msg, rinfo) => resolve({ msg, rinfo })));
  const tick = setInterval(() => {
    a.socket.send(a.packet, a.port, '127.0.0.1');
    b.socket.send(b.packet, b.port, '127.0.0.1');
  }, 25);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no datagram through the relay')), ms);
  });
  return Promise.race([Promise.all([first(a.socket), first(b.socket)]), timeout]).finally(() => {
    clearInterval(tick);
    clearTimeout(timer);
  });
}

// Plain RTP through the relay: the media path, not signaling (SRTP legs: test/hub/relay).
test('[T-9][M-4] without media_port the ip/port returned are a hub relay that forwards RTP both ways', async (t) => {
  t.context = { transport: 'plain' };
  const { h, alice, bob, callId, callReply } = await ringing(t, [], ['', '']);
  await bob.client.request('/accept', auth(bob), { call_id: callId });
  const bobStarted = await bob.client.event();
  const aliceStarted = await alice.client.event();
  t.is(callReply.fields.ip, '127.0.0.1');
  t.like(aliceStarted, { ip: '127.0.0.1', port: callReply.fields.port! });
  t.is(bobStarted.ip, '127.0.0.1');
  const portA = Number(callReply.fields.port);
  const portB = Number(bobStarted.port);
  t.true(portA > 0 && portB > 0 && portA !== portB);

  const udpA = await h.udp();
  const udpB = await h.udp();
  const [atA, atB] = await exchange(
    { socket: udpA, port: portA, packet: rtp(1, 'from alice') },
    { socket: udpB, port: portB, packet: rtp(2, 'from bob') },
  );
  t.is(atA.msg.subarray(12).toString(), 'from bob');
  t.is(atA.rinfo.port, portA); // symmetric: each hears from where it sends [T-9]
  t.is(atB.msg.subarray(12).toString(), 'from alice');
  t.is(atB.rinfo.port, portB);
  t.true(h.hub.relay.stats.forwarded >= 2);
});
