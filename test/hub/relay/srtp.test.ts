/**
 * The relay with SRTP legs [S-4, S-5, M-4], over real UDP sockets on loopback, with
 * SrtpSender/SrtpReceiver as the devices. Keys are drawn as the hub draws them: the
 * caller's `send` is the callee's `recv` and the other way round.
 */
import test, { type ExecutionContext } from 'ava';
import type { SrtpKeys } from '../../../hub/core/types.ts';
import { UdpRelay } from '../../../hub/relay/relay.ts';
import {
  newMasterKey,
  SrtpKeyError,
  SrtpReceiver,
  SrtpSender,
} from '../../../protocol/srtp/index.ts';
import { capturingLog, testLog } from '../../helpers/log.ts';
import { settled } from '../../helpers/media-session.ts';
import { messages, nextMessage, rtp, udp } from './udp.ts';

const HOST = '127.0.0.1';

/** Keys for one call: what the hub sends the caller and the callee [S-4]. */
function callKeys(): { caller: SrtpKeys; callee: SrtpKeys } {
  const up = newMasterKey(); // caller -> callee
  const down = newMasterKey(); // callee -> caller
  return { caller: { send: up, recv: down }, callee: { send: down, recv: up } };
}

/** A device as the relay sees it: its socket, and SRTP with its keys if it has any. */
async function device(t: ExecutionContext, keys: SrtpKeys | null) {
  const socket = await udp(HOST);
  t.teardown(() => socket.close());
  return {
    socket,
    keys,
    tx: keys ? new SrtpSender(keys.send) : null,
    rx: keys ? new SrtpReceiver(keys.recv) : null,
    /** Sends RTP `seq`, protected if this device speaks SRTP. */
    send(seq: number, port: number) {
      const p = rtp(seq);
      socket.send(this.tx ? this.tx.protect(p) : p, port, HOST);
    },
  };
}

test('[S-4] SRTP <-> SRTP: the bytes go as they are, and each side authenticates them', async (t) => {
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const keys = callKeys();
  const alice = await device(t, keys.caller);
  const bob = await device(t, keys.callee);
  const alloc = await relay.allocate(
    'c1',
    { device: { ip: HOST, port: 0 }, srtp: keys.caller },
    { device: { ip: HOST, port: bob.socket.address().port }, srtp: keys.callee },
  );
  t.teardown(alloc.release);
  const sent = alice.tx!.protect(rtp(1));
  alice.socket.send(sent, alloc.portA, HOST);
  const atBob = await nextMessage(bob.socket);
  t.deepEqual(atBob?.msg, sent, 'forwarded byte for byte');
  t.deepEqual(bob.rx!.unprotect(atBob!.msg), rtp(1));
  bob.send(2, alloc.portB);
  const atAlice = await nextMessage(alice.socket);
  t.is(atAlice?.port, alloc.portA);
  t.deepEqual(alice.rx!.unprotect(atAlice!.msg), rtp(2));
  t.like(relay.stats, { forwarded: 2, translated: 0, srtpAuthFailed: 0 });
});

test('[S-4, M-4] a spoofer on the device IP that sends first captures nothing', async (t) => {
  // The attack the issue measured against the plain relay: 20 spoofed packets from the
  // device's IP, sent first, then 20 from the real device.
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const keys = callKeys();
  const alice = await device(t, keys.caller);
  const bob = await device(t, keys.callee);
  const spoofer = await device(t, { send: newMasterKey(), recv: newMasterKey() }); // same IP
  const plainSpoofer = await device(t, null);
  const alloc = await relay.allocate(
    'c2',
    { device: { ip: HOST, port: 0 }, srtp: keys.caller },
    { device: { ip: HOST, port: bob.socket.address().port }, srtp: keys.callee },
  );
  t.teardown(alloc.release);
  const atBob = messages(bob.socket, 20);
  for (let i = 0; i < 10; i++) spoofer.send(1000 + i, alloc.portA); // SRTP, a wrong key
  for (let i = 10; i < 20; i++) {
    plainSpoofer.socket.send(rtp(1000 + i, 0x11223344, 80), alloc.portA, HOST); // plain RTP
  }
  for (let i = 0; i < 20; i++) alice.send(i, alloc.portA);
  const got = await atBob;
  t.is(got.length, 20);
  const seqs = got.map((m) => {
    const clear = bob.rx!.unprotect(m);
    return Buffer.isBuffer(clear) ? clear.readUInt16BE(2) : clear;
  });
  t.deepEqual(seqs, [...Array(20).keys()], "only the device's 20 arrive, all authentic");
  t.is(relay.stats.srtpAuthFailed, 20, 'all 20 spoofed packets failed authentication');
  t.is(relay.stats.forwarded, 20);
  // The leg latched the device's port: bob's media goes to alice, not to a spoofer...
  const toAlice = nextMessage(alice.socket);
  bob.send(7, alloc.portB);
  t.deepEqual(alice.rx!.unprotect((await toAlice)!.msg), rtp(7));
  // ...and the spoofers' later packets reach nobody (the latched socket is connected).
  spoofer.send(2000, alloc.portA);
  plainSpoofer.send(2001, alloc.portA);
  const next = nextMessage(bob.socket);
  alice.send(20, alloc.portA);
  t.deepEqual(bob.rx!.unprotect((await next)!.msg), rtp(20));
  t.deepEqual(bob.rx!.stats, { ok: 21, auth: 0, replay: 0, malformed: 0 });
});

test('[M-4] for contrast: a plain leg is still captured by whoever sends first', async (t) => {
  // Seed clients have no keys; their legs keep M-4's first-packet latching. This is why
  // a device on the LAN talks TLS and SRTP [S-4].
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const alice = await device(t, null);
  const bob = await device(t, null);
  const spoofer = await device(t, null);
  const alloc = await relay.allocate(
    'c3',
    { device: { ip: HOST, port: 0 }, srtp: null },
    { device: { ip: HOST, port: bob.socket.address().port }, srtp: null },
  );
  t.teardown(alloc.release);
  const atBob = messages(bob.socket, 2);
  spoofer.send(1000, alloc.portA);
  await settled(() => relay.stats.forwarded === 1);
  alice.send(1, alloc.portA); // the real device: dropped
  spoofer.send(1001, alloc.portA);
  t.deepEqual(
    (await atBob).map((m) => m.readUInt16BE(2)),
    [1000, 1001],
  );
});

test('[S-4] SRTP <-> plain: the relay decrypts towards the plain leg and protects towards the SRTP leg', async (t) => {
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const keys = callKeys();
  const alice = await device(t, keys.caller); // a TLS device
  const bob = await device(t, null); // a seed client over plaintext
  const alloc = await relay.allocate(
    'c4',
    { device: { ip: HOST, port: 0 }, srtp: keys.caller },
    { device: { ip: HOST, port: 0 }, srtp: null },
  );
  t.teardown(alloc.release);
  // Bob speaks first (his leg latches; alice's has no port yet: counted, not sent).
  bob.send(65530, alloc.portB);
  await settled(() => relay.stats.noPeer === 1);
  const toBob = messages(bob.socket, 3);
  alice.send(1, alloc.portA);
  const srtpFromAlice = alice.tx!.protect(rtp(2));
  alice.socket.send(srtpFromAlice, alloc.portA, HOST);
  alice.socket.send(srtpFromAlice, alloc.portA, HOST); // a replay: dropped
  const forged = alice.tx!.protect(rtp(3));
  forged[forged.length - 1]! ^= 1;
  alice.socket.send(forged, alloc.portA, HOST); // a forgery from the latched port: dropped
  alice.send(4, alloc.portA);
  t.deepEqual(await toBob, [rtp(1), rtp(2), rtp(4)], 'bob gets clear RTP, nothing forged');
  t.like(relay.stats, { srtpReplayed: 1, srtpAuthFailed: 1, noPeer: 1 });
  // Bob's plain RTP reaches alice protected with her recv key, across a sequence wrap.
  const toAlice = messages(alice.socket, 12);
  for (let seq = 65530; seq < 65530 + 12; seq++) bob.send(seq, alloc.portB);
  const clear = (await toAlice).map((m) => alice.rx!.unprotect(m));
  t.deepEqual(
    clear,
    Array.from({ length: 12 }, (_, i) => rtp(65530 + i)),
  );
  t.deepEqual(alice.rx!.stats, { ok: 12, auth: 0, replay: 0, malformed: 0 });
  t.like(relay.stats, { forwarded: 15, translated: 15 });
});

test('[S-4] plain RTP the relay cannot protect, and SRTP that is not RTP, count as invalid', async (t) => {
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const keys = callKeys();
  const alice = await device(t, keys.caller);
  const bob = await device(t, null);
  const alloc = await relay.allocate(
    'c5',
    { device: { ip: HOST, port: alice.socket.address().port }, srtp: keys.caller },
    { device: { ip: HOST, port: bob.socket.address().port }, srtp: null },
  );
  t.teardown(alloc.release);
  const toAlice = nextMessage(alice.socket);
  const csrcsPastEnd = rtp(1);
  csrcsPastEnd[0] = 0x8f; // 15 CSRCs in an 8-byte payload
  bob.socket.send(csrcsPastEnd, alloc.portB, HOST);
  const rtcp = Buffer.from([0x80, 200, 0, 6, ...Buffer.alloc(24)]); // an RTCP sender report
  bob.socket.send(rtcp, alloc.portB, HOST);
  bob.send(3, alloc.portB);
  t.deepEqual(alice.rx!.unprotect((await toAlice)!.msg), rtp(3));
  const toBob = nextMessage(bob.socket);
  alice.socket.send(Buffer.concat([csrcsPastEnd, Buffer.alloc(10)]), alloc.portA, HOST);
  alice.send(4, alloc.portA);
  t.deepEqual((await toBob)?.msg, rtp(4));
  t.like(relay.stats, { invalid: 3, forwarded: 2, translated: 2, srtpAuthFailed: 0 });
});

test('[S-4] a malformed key rejects the allocation before any socket opens', async (t) => {
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const keys = callKeys();
  await t.throwsAsync(
    relay.allocate(
      'c6',
      { device: { ip: HOST, port: 0 }, srtp: keys.caller },
      {
        device: { ip: HOST, port: 0 },
        srtp: { send: 'not base64 of 30 bytes', recv: keys.callee.recv },
      },
    ),
    { instanceOf: SrtpKeyError },
  );
  t.is(relay.stats.openLegs, 0);
});

test('[S-4] no key appears in the relay log, even at trace', async (t) => {
  const { log, text } = capturingLog('trace');
  const relay = new UdpRelay({ bindHost: HOST, log });
  const keys = callKeys();
  const alice = await device(t, keys.caller);
  const bob = await device(t, null);
  const alloc = await relay.allocate(
    'c7',
    { device: { ip: HOST, port: 0 }, srtp: keys.caller },
    { device: { ip: HOST, port: 0 }, srtp: null },
  );
  t.teardown(alloc.release);
  const forged = alice.tx!.protect(rtp(1));
  forged[20]! ^= 1;
  alice.socket.send(forged, alloc.portA, HOST);
  bob.send(2, alloc.portB); // latches bob; alice's leg has no port yet
  await settled(() => relay.stats.noPeer === 1 && relay.stats.srtpAuthFailed === 1);
  const toBob = nextMessage(bob.socket);
  alice.send(3, alloc.portA);
  t.deepEqual((await toBob)?.msg, rtp(3));
  t.regex(text(), /relay leg latched/, 'the scan reads a log that was written');
  for (const key of [keys.caller.send, keys.caller.recv]) {
    t.false(text().includes(key), 'base64 key');
    t.false(text().includes(Buffer.from(key, 'base64').toString('hex')), 'hex key');
  }
});
