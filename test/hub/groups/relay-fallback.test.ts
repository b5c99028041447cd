/**
 * [G-3] Relay fallback in the text dialect, with the hub's real UDP relay: `RELAY <peer>`
 * moves a direct call to the relay without ending it; both parties get a new `106` (fresh
 * keys on TLS [S-4]) and media flows through the relay; a relayed call answers with its
 * current `106`; the move is counted.
 */
import type dgram from 'node:dgram';
import test from 'ava';
import { SrtpReceiver, SrtpSender } from '../../../protocol/srtp/index.ts';
import { startHubInProcess, TRANSPORTS, type Transport } from '../../helpers/in-process-hub.ts';
import { connectedClient, type TextClient } from '../../helpers/text-client.ts';
import { nextMessage, rtp, udp } from '../relay/udp.ts';

const MEDIA = /^106 (\S+) 127\.0\.0\.1 (\d+)(?: AES_CM_128_HMAC_SHA1_80 (\S{40}) (\S{40}))?$/;

function parse106(line: string | null) {
  const m = MEDIA.exec(line ?? '');
  if (!m) throw new Error(`not a 106: ${line}`);
  return { peer: m[1]!, port: Number(m[2]), keys: m[3] ? { send: m[3], recv: m[4]! } : null };
}

async function directCall(transport: Transport, argv: string[] = []) {
  const s = await startHubInProcess(argv);
  const parties: Array<{ text: TextClient; udp: dgram.Socket }> = [];
  for (const name of ['alice', 'bob']) {
    const socket = await udp();
    const text = await connectedClient(
      s.hub.dialer('text', transport),
      name,
      socket.address().port,
    );
    parties.push({ text, udp: socket });
  }
  const [alice, bob] = parties as [(typeof parties)[0], (typeof parties)[0]];
  if ((await alice.text.request('CALL bob')) !== '104 bob') throw new Error('CALL');
  await bob.text.next();
  const bobDirect = parse106(await bob.text.request('ACCEPT alice'));
  const aliceDirect = parse106(await alice.text.next());
  return {
    ...s,
    alice,
    bob,
    aliceDirect,
    bobDirect,
    async done() {
      for (const p of parties) {
        p.text.close();
        p.udp.close();
      }
      await s.stop();
    },
  };
}

for (const transport of TRANSPORTS) {
  test(`[G-3] ${transport}: RELAY moves a direct call to the relay; new 106s, media flows, no 107`, async (t) => {
    const h = await directCall(transport);
    const { alice, bob } = h;
    t.is(h.aliceDirect.port, bob.udp.address().port, 'the call was direct');
    const before = h.hub.relay.stats.openLegs;
    const mine = parse106(await alice.text.request('RELAY bob'));
    const theirs = parse106(await bob.text.next());
    t.is(mine.peer, 'bob');
    t.is(theirs.peer, 'alice');
    t.not(mine.port, bob.udp.address().port, 'alice now sends to the relay');
    t.not(theirs.port, alice.udp.address().port);
    t.is(h.hub.relay.stats.openLegs, before + 2);
    if (transport === 'tls') {
      t.deepEqual([mine.keys!.send, mine.keys!.recv], [theirs.keys!.recv, theirs.keys!.send]);
      t.not(mine.keys!.send, h.aliceDirect.keys!.send, 'fresh keys');
      t.not(mine.keys!.recv, h.aliceDirect.keys!.recv, 'fresh keys');
    } else {
      t.is(mine.keys, null);
    }
    t.is(await alice.text.request('USERS'), '103 alice:in_call bob:in_call', 'the call goes on');
    // media both ways through the relay
    const send = (from: typeof alice, to: ReturnType<typeof parse106>, seq: number) => {
      const packet = rtp(seq);
      from.udp.send(
        to.keys ? new SrtpSender(to.keys.send).protect(packet) : packet,
        to.port,
        '127.0.0.1',
      );
      return packet;
    };
    for (const [from, to, route] of [
      [alice, bob, mine],
      [bob, alice, theirs],
    ] as const) {
      const arrival = nextMessage(to.udp, 5000);
      const packet = send(from, route, 1);
      const got = await arrival;
      const peerRoute = route === mine ? theirs : mine;
      t.is(got?.port, peerRoute.port, 'from the relay port of its own 106');
      const clear = peerRoute.keys
        ? new SrtpReceiver(peerRoute.keys.recv).unprotect(got!.msg)
        : got!.msg;
      t.deepEqual(clear, packet);
    }
    t.is(h.hub.core.stats.relayFallbacks, 1);
    // RELAY again (either side): the current 106, nothing to the peer
    const again = parse106(await bob.text.request('RELAY alice'));
    t.deepEqual(again, theirs);
    t.true(await alice.text.quiet(50));
    t.is(h.hub.core.stats.relayFallbacks, 1);
    t.is(await alice.text.request('HANGUP bob'), '107 bob ended');
    t.is(await bob.text.next(), '107 alice ended');
    t.is(h.hub.relay.stats.openLegs, before);
    await h.done();
  });
}

test('[G-3] both parties send RELAY at once: one move; the later one gets its 106 again', async (t) => {
  const h = await directCall('plain');
  const { alice, bob } = h;
  alice.text.send('RELAY bob');
  bob.text.send('RELAY alice');
  // Each hears the move once (its reply or the peer's event); the party whose RELAY
  // waited for the move also gets its own reply: the same 106.
  const lines = async (c: TextClient) => {
    const got = [await c.next()];
    if (!(await c.quiet(100))) got.push(await c.next());
    return got;
  };
  const [a, b] = [await lines(alice.text), await lines(bob.text)];
  t.is(a.length + b.length, 3, `alice: ${a.join(' | ')}; bob: ${b.join(' | ')}`);
  t.is(new Set(a).size, 1);
  t.is(new Set(b).size, 1);
  t.is(parse106(a[0]!).peer, 'bob');
  t.is(parse106(b[0]!).peer, 'alice');
  t.is(h.hub.core.stats.relayFallbacks, 1);
  await h.done();
});

test('[G-3] RELAY outside an answered call is 404 no_call; a relayed call gives its 106 again', async (t) => {
  const h = await directCall('plain', ['--relay', 'always']);
  const { alice, bob } = h;
  t.is(await alice.text.request('RELAY carol'), '404 carol no_call');
  const again = parse106(await alice.text.request('RELAY bob'));
  t.deepEqual(again, h.aliceDirect, 'already relayed: the same address');
  t.is(h.hub.core.stats.relayFallbacks, 0);
  t.is(await alice.text.request('HANGUP bob'), '107 bob ended');
  t.is(await bob.text.next(), '107 alice ended');
  t.is(await alice.text.request('RELAY bob'), '404 bob no_call');
  t.is(await alice.text.request('CALL bob'), '104 bob');
  t.is(await alice.text.request('RELAY bob'), '404 bob no_call', 'ringing is no call to move');
  await h.done();
});
