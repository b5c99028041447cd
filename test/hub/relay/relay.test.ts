import test from 'ava';
import { UdpRelay } from '../../../hub/relay/relay.ts';
import { testLog } from '../../helpers/log.ts';
import { firstMessage, nextMessage, rtp, udp } from './udp.ts';

test('[M-4] forwards both ways between latched legs, symmetric ports', async (t) => {
  const relay = new UdpRelay({ bindHost: '127.0.0.1', log: testLog });
  const alice = await udp();
  const bob = await udp();
  // Alice declared no port (relay must latch her); bob declared his.
  const alloc = await relay.allocate(
    'c1',
    { device: { ip: '127.0.0.1', port: 0 }, srtp: null },
    { device: { ip: '127.0.0.1', port: bob.address().port }, srtp: null },
  );
  alice.send(rtp(1), alloc.portA, '127.0.0.1');
  const atBob = await nextMessage(bob);
  t.is(atBob?.msg.readUInt16BE(2), 1);
  t.is(atBob?.port, alloc.portB, 'bob receives from the port he sends to');
  bob.send(rtp(2), alloc.portB, '127.0.0.1');
  const atAlice = await nextMessage(alice);
  t.is(atAlice?.msg.readUInt16BE(2), 2);
  t.is(atAlice?.port, alloc.portA);
  t.is(relay.stats.forwarded, 2);
  alloc.release();
  alloc.release();
  t.is(relay.stats.openLegs, 0);
  alice.close();
  bob.close();
});

test('[M-2, M-4] drops non-RTP, wrong source IP and a second port after latching', async (t) => {
  const relay = new UdpRelay({ bindHost: '0.0.0.0', log: testLog });
  const alice = await udp();
  const intruder = await udp();
  const bob = await udp();
  const device2 = await udp('127.0.0.2'); // the rightful device of c3's leg A
  const alloc = await relay.allocate(
    'c2',
    { device: { ip: '127.0.0.1', port: 0 }, srtp: null },
    { device: { ip: '127.0.0.1', port: bob.address().port }, srtp: null },
  );
  alice.send(Buffer.from('hello, not rtp'), alloc.portA, '127.0.0.1');
  alice.send(rtp(7), alloc.portA, '127.0.0.1'); // latches alice's port
  t.is((await nextMessage(bob))?.msg.readUInt16BE(2), 7);
  intruder.send(rtp(8), alloc.portA, '127.0.0.1'); // same IP, other port: refused
  alice.send(rtp(10), alloc.portA, '127.0.0.1');
  t.is((await nextMessage(bob))?.msg.readUInt16BE(2), 10, 'the intruder reached nobody');
  // A leg whose device IP differs from the sender's never accepts it.
  const other = await relay.allocate(
    'c3',
    { device: { ip: '127.0.0.2', port: 0 }, srtp: null },
    { device: { ip: '127.0.0.1', port: bob.address().port }, srtp: null },
  );
  alice.send(rtp(9), other.portA, '127.0.0.1');
  device2.send(rtp(11), other.portA, '127.0.0.1');
  t.is((await nextMessage(bob))?.msg.readUInt16BE(2), 11, 'the wrong IP reached nobody');
  t.is(relay.stats.invalid, 1);
  // The wrong-IP packet is counted; the second port after latching never reaches the relay
  // at all (the latched leg's socket is connected, so the kernel drops it).
  t.is(relay.stats.wrongSource, 1);
  alloc.release();
  other.release();
  for (const s of [alice, intruder, bob, device2]) s.close();
});

test('packets before the other leg is known are counted, not sent', async (t) => {
  const relay = new UdpRelay({ bindHost: '127.0.0.1', log: testLog });
  const alice = await udp();
  const bob = await udp();
  const alloc = await relay.allocate(
    'c4',
    { device: { ip: '127.0.0.1', port: 0 }, srtp: null },
    { device: { ip: '127.0.0.1', port: 0 }, srtp: null },
  );
  const heard = firstMessage([alice, bob]);
  alice.send(rtp(1), alloc.portA, '127.0.0.1');
  bob.send(rtp(2), alloc.portB, '127.0.0.1');
  // Whichever packet the relay handles first finds no peer: it is counted, not sent, and
  // latches its sender, so the other packet goes through to that sender.
  const first = await heard;
  t.not(first, null);
  t.is(first?.msg.readUInt16BE(2), first?.at === 0 ? 2 : 1, 'alice hears 2, or bob hears 1');
  t.is(relay.stats.noPeer, 1);
  t.is(relay.stats.forwarded, 1);
  alloc.release();
  alice.close();
  bob.close();
});
