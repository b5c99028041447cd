/**
 * [M-4] The relay's per-leg counts (the status page): packets and bytes each leg took from
 * its device and sent to it, over real UDP on loopback; kept for the last ended calls.
 */
import test from 'ava';
import { LegCountBook, newLegCounts } from '../../../hub/relay/leg-counts.ts';
import { UdpRelay } from '../../../hub/relay/relay.ts';
import { newMasterKey, SrtpSender } from '../../../protocol/srtp/index.ts';
import { testLog } from '../../helpers/log.ts';
import { messages, nextMessage, rtp, udp } from './udp.ts';

const HOST = '127.0.0.1';

test('the book: the open relay of a call, then its totals among the last ended', (t) => {
  const book = new LegCountBook(2);
  t.is(book.get('c1'), null);
  const a = newLegCounts();
  const close1 = book.open('c1', [a, newLegCounts()]);
  a.packetsIn = 3;
  const copy = book.get('c1');
  t.deepEqual(copy?.[0], { packetsIn: 3, bytesIn: 0, packetsOut: 0, bytesOut: 0 });
  a.packetsIn = 4;
  t.is(copy?.[0].packetsIn, 3, 'a copy, not the live counters');
  close1();
  t.is(book.get('c1')?.[0].packetsIn, 4, 'an ended call keeps its totals');
  for (const id of ['c2', 'c3']) book.open(id, [newLegCounts(), newLegCounts()])();
  t.is(book.get('c1'), null, 'only the last two ended are kept');
  t.not(book.get('c2'), null);
  t.not(book.get('c3'), null);
});

test('the book: a ring group opens a relay per member; closing one keeps the later open', (t) => {
  const book = new LegCountBook();
  const first = newLegCounts();
  const second = newLegCounts();
  const closeFirst = book.open('g', [newLegCounts(), first]);
  book.open('g', [newLegCounts(), second]);
  second.packetsOut = 9;
  closeFirst(); // the member that did not answer
  t.is(book.get('g')?.[1].packetsOut, 9);
});

test('plain legs: each leg counts what it forwarded from its device and sent to it', async (t) => {
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const alice = await udp();
  const bob = await udp();
  t.teardown(() => {
    alice.close();
    bob.close();
  });
  const alloc = await relay.allocate(
    'c1',
    { device: { ip: HOST, port: 0 }, srtp: null },
    { device: { ip: HOST, port: bob.address().port }, srtp: null },
  );
  t.deepEqual(relay.legCounts('c1'), [newLegCounts(), newLegCounts()]);
  alice.send(Buffer.from('not rtp at all'), alloc.portA, HOST); // dropped: not counted
  for (let i = 1; i <= 3; i++) alice.send(rtp(i, 1, 20), alloc.portA, HOST); // 32 bytes
  t.is((await messages(bob, 3)).length, 3);
  bob.send(rtp(9, 2, 100), alloc.portB, HOST); // 112 bytes
  t.truthy(await nextMessage(alice));
  t.deepEqual(relay.legCounts('c1'), [
    { packetsIn: 3, bytesIn: 96, packetsOut: 1, bytesOut: 112 },
    { packetsIn: 1, bytesIn: 112, packetsOut: 3, bytesOut: 96 },
  ]);
  alloc.release();
  t.deepEqual(relay.legCounts('c1')?.[0], {
    packetsIn: 3,
    bytesIn: 96,
    packetsOut: 1,
    bytesOut: 112,
  });
  t.is(relay.legCounts('other'), null);
});

test('[S-4] SRTP -> plain: in counts the protected bytes, out the clear ones sent', async (t) => {
  const relay = new UdpRelay({ bindHost: HOST, log: testLog });
  const keys = { send: newMasterKey(), recv: newMasterKey() };
  const alice = await udp();
  const bob = await udp();
  t.teardown(() => {
    alice.close();
    bob.close();
  });
  const alloc = await relay.allocate(
    'c2',
    { device: { ip: HOST, port: 0 }, srtp: keys },
    { device: { ip: HOST, port: bob.address().port }, srtp: null },
  );
  t.teardown(alloc.release);
  const sent = new SrtpSender(keys.send).protect(rtp(1, 1, 20));
  alice.send(sent, alloc.portA, HOST);
  const got = await nextMessage(bob);
  t.is(got?.msg.length, 32);
  t.true(sent.length > 32, 'the auth tag');
  const [a, b] = relay.legCounts('c2')!;
  t.deepEqual(a, { packetsIn: 1, bytesIn: sent.length, packetsOut: 0, bytesOut: 0 });
  t.deepEqual(b, { packetsIn: 0, bytesIn: 0, packetsOut: 1, bytesOut: 32 });
});
