/**
 * End to end over real TCP on loopback, both dialects: what only a real socket shows (the
 * listener's peer addresses, framing across TCP segments, FIN and half-close, the real
 * clock's idle timeout). Everything else runs in process (test/hub/text, test/hub/binary);
 * shutdown is in text/shutdown.test.ts.
 */
import test from 'ava';
import { encodeRequest } from '../../protocol/binary/frame.ts';
import { BinaryClient, createdUser } from '../helpers/binary-client.ts';
import { startHub } from '../helpers/hub.ts';
import { connectedClient, TextClient } from '../helpers/text-client.ts';

test('a text user calls a binary user and the binary user accepts (cross-dialect)', async (t) => {
  const { hub, stop } = await startHub();
  try {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await createdUser(hub.binaryPort, 'bob@example.org', 'pw', { media_port: '6006' });
    t.is(await alice.request('CALL bob'), '104 bob');
    const called = await bob.client.event();
    t.is(called.event, 'called');
    t.is(called.from_name, 'alice');
    const acc = await bob.client.request(
      '/accept',
      { id: bob.id, token: bob.token },
      { call_id: called.call_id! },
    );
    t.is(acc.status, 200);
    const started = await bob.client.event();
    t.like(started, { event: 'call_started', peer_name: 'alice', ip: '127.0.0.1', port: '5004' });
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await alice.request('HANGUP bob'), '107 bob ended');
    t.like(await bob.client.event(), { event: 'call_ended', reason: 'ended' });
    alice.close();
    bob.client.close();
  } finally {
    await stop();
  }
});

test("[T-9] direct: 106 carries the peer's TCP source IP and declared port", async (t) => {
  const { hub, stop } = await startHub();
  try {
    const alice = await TextClient.connect(hub.textPort, '127.0.0.2');
    const bob = await TextClient.connect(hub.textPort, '127.0.0.3');
    t.is(await alice.request('NEW alice'), '108 alice');
    t.is(await bob.request('NEW bob'), '108 bob');
    t.regex((await alice.request('CONNECT alice 5004')) ?? '', /^101 /);
    t.regex((await bob.request("CONNECT ['bob', '6006']")) ?? '', /^101 /);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.2 5004');
    t.is(await alice.next(), '106 bob 127.0.0.3 6006');
    alice.close();
    bob.close();
  } finally {
    await stop();
  }
});

test('[T-1] text framing on a real socket: a split request, then an overlong line, 400 and FIN', async (t) => {
  const { hub, stop } = await startHub();
  try {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw('PING sp');
    t.true(await c.quiet(50));
    c.writeRaw('lit\r\nPING one\r\n');
    t.is(await c.next(), '109 split');
    t.is(await c.next(), '109 one');
    c.writeRaw(Buffer.alloc(2048, 'x'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
    t.true(c.closed);
  } finally {
    await stop();
  }
});

test('[B-1, B-3] binary framing on a real socket: a frame split across writes, then frame_too_large closes', async (t) => {
  const { hub, stop } = await startHub();
  try {
    const c = await BinaryClient.connect(hub.binaryPort);
    const frame = encodeRequest({ header: '', route: '/nope', data: '' });
    c.writeRaw(frame.subarray(0, 5));
    c.writeRaw(frame.subarray(5));
    const r = await c.response();
    t.deepEqual([r.status, r.data], [404, 'error: "unknown_route"']);
    const huge = Buffer.alloc(12);
    huge.writeUInt32LE(1 << 30, 8);
    c.writeRaw(huge);
    const big = await c.response();
    t.deepEqual([big.status, big.data], [400, 'error: "frame_too_large"']);
    await c.waitClosed();
    t.true(c.closed);
  } finally {
    await stop();
  }
});

test('[T-1, B-2] half-close on a real socket: every answer, then the hub closes', async (t) => {
  const { hub, stop } = await startHub();
  try {
    const text = await TextClient.connect(hub.textPort);
    text.socket.end('NEW alice\r\nCONNECT alice\r\nUSERS\r\nPING x\r\n');
    const lines: string[] = [];
    for (let line = await text.next(); line !== null; line = await text.next()) lines.push(line);
    t.is(lines.length, 4);
    t.is(lines[0], '108 alice');
    t.regex(lines[1]!, /^101 \S+ alice$/);
    t.deepEqual(lines.slice(2), ['103 alice:idle', '109 x']);

    const binary = await BinaryClient.connect(hub.binaryPort);
    binary.writeRaw(encodeRequest({ header: '', route: '/nope', data: '' }));
    binary.socket.end();
    t.is((await binary.response()).status, 404);
    await binary.waitClosed();
  } finally {
    await stop();
  }
});

test('[T-12] the idle timeout on the real clock closes a silent connection, in both dialects', async (t) => {
  const { hub, stop } = await startHub([], { idleTimeoutMs: 200 });
  try {
    const text = await TextClient.connect(hub.textPort);
    const binary = await BinaryClient.connect(hub.binaryPort);
    t.is(await text.next(10_000), null);
    await binary.waitClosed(10_000);
    t.true(text.closed && binary.closed);
  } finally {
    await stop();
  }
});
