/**
 * The media addresses of `106` in the text dialect, in process [T-9]: the peer's source IP
 * and declared port, or relay addresses [M-4] that really forward RTP on UDP.
 */
import dgram from 'node:dgram';
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

/** Alice calls bob and bob answers; both `106` lines are checked by the caller. */
async function ring(alice: TextClient, bob: TextClient): Promise<void> {
  const r = await alice.request('CALL bob');
  if (r !== '104 bob') throw new Error(`CALL bob: ${r}`);
  const e = await bob.next();
  if (e !== '105 alice') throw new Error(`bob heard: ${e}`);
}

test("[T-9] direct: 106 carries the peer's TCP source IP and declared port", async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await TextClient.connect(hub.text, '127.0.0.2');
    const bob = await TextClient.connect(hub.text, '127.0.0.3');
    t.is(await alice.request('NEW alice'), '108 alice');
    t.is(await bob.request('NEW bob'), '108 bob');
    t.regex((await alice.request('CONNECT alice 5004')) ?? '', /^101 /);
    t.regex((await bob.request("CONNECT ['bob', '6006']")) ?? '', /^101 /);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.2 5004');
    t.is(await alice.next(), '106 bob 127.0.0.3 6006');
    t.is(hub.relay.stats.openLegs, 0);
    alice.close();
    bob.close();
  });
});

/** An RTP version 2 packet, payload type 111 [M-1], with `payload` after the header. */
function rtp(seq: number, payload: string): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 111;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(seq * 960, 4);
  header.writeUInt32BE(0x1234abcd, 8);
  return Buffer.concat([header, Buffer.from(payload)]);
}

async function udpSocket(host = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  return s;
}

/** The next datagram on `s`, or an error after `ms`. */
function receive(s: dgram.Socket, ms = 2000): Promise<{ msg: Buffer; from: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off('message', onMessage);
      reject(new Error('no datagram'));
    }, ms);
    const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      clearTimeout(timer);
      resolve({ msg, from: `${rinfo.address}:${rinfo.port}` });
    };
    s.once('message', onMessage);
  });
}

/** The `<ip> <port>` of a `106 <peer> <ip> <port>` line. */
function mediaOf(line: string | null, peer: string): { ip: string; port: number } {
  const m = /^106 (\S+) (\S+) (\d+)$/.exec(line ?? '');
  if (!m || m[1] !== peer) throw new Error(`not a 106 for ${peer}: ${line}`);
  return { ip: m[2]!, port: Number(m[3]) };
}

test('[T-9, M-4] --relay always: 106 carries relay addresses that forward RTP both ways', async (t) => {
  await withHub(['--relay', 'always'], async ({ hub }) => {
    const aliceUdp = await udpSocket();
    const bobUdp = await udpSocket();
    const alice = await connectedClient(hub.text, 'alice', aliceUdp.address().port);
    const bob = await connectedClient(hub.text, 'bob', bobUdp.address().port);
    try {
      await ring(alice, bob);
      const forBob = mediaOf(await bob.request('ACCEPT alice'), 'alice');
      const forAlice = mediaOf(await alice.next(), 'bob');
      t.is(forAlice.ip, '127.0.0.1');
      t.is(forBob.ip, '127.0.0.1');
      t.not(forAlice.port, aliceUdp.address().port);
      t.not(forBob.port, bobUdp.address().port);
      t.not(forAlice.port, forBob.port);

      // Alice -> relay -> bob, arriving from bob's relay address (symmetric).
      const atBob = receive(bobUdp);
      aliceUdp.send(rtp(1, 'hello bob'), forAlice.port, forAlice.ip);
      const got = await atBob;
      t.deepEqual(got.msg, rtp(1, 'hello bob'));
      t.is(got.from, `${forBob.ip}:${forBob.port}`);

      // Bob -> relay -> alice, arriving from alice's relay address.
      const atAlice = receive(aliceUdp);
      bobUdp.send(rtp(7, 'hello alice'), forBob.port, forBob.ip);
      const back = await atAlice;
      t.deepEqual(back.msg, rtp(7, 'hello alice'));
      t.is(back.from, `${forAlice.ip}:${forAlice.port}`);

      t.is(hub.relay.stats.openLegs, 2);
      t.is(await alice.request('HANGUP bob'), '107 bob ended');
      t.is(await bob.next(), '107 alice ended');
      t.is(hub.relay.stats.openLegs, 0);
    } finally {
      aliceUdp.close();
      bobUdp.close();
      alice.close();
      bob.close();
    }
  });
});

test('[T-9, M-4] media port 0: the hub relays, latching the source of the first packet', async (t) => {
  await withHub([], async ({ hub }) => {
    const aliceUdp = await udpSocket(); // alice declares no port: 0
    const bobUdp = await udpSocket();
    const alice = await connectedClient(hub.text, 'alice', 0);
    const bob = await connectedClient(hub.text, 'bob', bobUdp.address().port);
    try {
      await ring(alice, bob);
      const forBob = mediaOf(await bob.request('ACCEPT alice'), 'alice');
      const forAlice = mediaOf(await alice.next(), 'bob');
      t.is(forAlice.ip, '127.0.0.1');
      t.true(forAlice.port > 0);
      t.true(forBob.port > 0);
      t.not(forAlice.port, forBob.port);

      const atBob = receive(bobUdp);
      aliceUdp.send(rtp(1, 'from alice'), forAlice.port, forAlice.ip);
      const got = await atBob;
      t.deepEqual(got.msg, rtp(1, 'from alice'));
      t.is(got.from, `${forBob.ip}:${forBob.port}`);

      // The relay learnt alice's port from her first packet.
      const atAlice = receive(aliceUdp);
      bobUdp.send(rtp(2, 'from bob'), forBob.port, forBob.ip);
      const back = await atAlice;
      t.deepEqual(back.msg, rtp(2, 'from bob'));
      t.is(back.from, `${forAlice.ip}:${forAlice.port}`);

      // [M-4] A packet from another IP on alice's leg is not forwarded.
      const stranger = await udpSocket('127.0.0.9');
      const forwarded = hub.relay.stats.forwarded;
      stranger.send(rtp(3, 'intruder'), forAlice.port, forAlice.ip);
      await t.throwsAsync(receive(bobUdp, 300));
      t.is(hub.relay.stats.forwarded, forwarded);
      stranger.close();
    } finally {
      aliceUdp.close();
      bobUdp.close();
      alice.close();
      bob.close();
    }
  });
});

test('[T-9] CONNECT without a media port means port 0: the call is relayed', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice', 5004);
    const bob = await hubClientWithoutPort(hub.text, 'bob');
    await ring(alice, bob);
    const forBob = mediaOf(await bob.request('ACCEPT alice'), 'alice');
    const forAlice = mediaOf(await alice.next(), 'bob');
    t.not(forBob.port, 5004);
    t.not(forAlice.port, forBob.port);
    t.is(hub.relay.stats.openLegs, 2);
    bob.close();
    t.is(await alice.next(), '107 bob disconnected');
    t.is(hub.relay.stats.openLegs, 0);
    alice.close();
  });
});

async function hubClientWithoutPort(port: Target, name: string): Promise<TextClient> {
  const c = await TextClient.connect(port);
  if ((await c.request(`NEW ${name}`)) !== `108 ${name}`) throw new Error('NEW');
  if (!(await c.request(`CONNECT ${name}`))?.startsWith('101 ')) throw new Error('CONNECT');
  return c;
}
