/**
 * [G-2] Paging in the text dialect, with the hub's real UDP relay: `PAGE <group>` gives
 * the caller `104` + `106 <group> <relay>`, every reachable member `111 <caller> <relay>`;
 * the relay copies the caller's one stream to each member, SRTP per leg on TLS [S-4];
 * a member in a call is skipped; HANGUP ends it for all.
 */
import type dgram from 'node:dgram';
import test from 'ava';
import { SrtpReceiver, SrtpSender } from '../../../protocol/srtp/index.ts';
import { untilState } from '../../helpers/hub-events.ts';
import { startHubInProcess, TRANSPORTS, type Transport } from '../../helpers/in-process-hub.ts';
import { connectedClient, type TextClient } from '../../helpers/text-client.ts';
import { nextMessage, rtp, udp } from '../relay/udp.ts';

const KEYED = / AES_CM_128_HMAC_SHA1_80 ([A-Za-z0-9+/]{40}) ([A-Za-z0-9+/]{40})$/;

interface Party {
  text: TextClient;
  udp: dgram.Socket;
}

/** alice pages `floor` (m1..m5); m5 is in a call with x. Each party has a UDP socket. */
async function building(transport: Transport, mixed = false) {
  const s = await startHubInProcess();
  const p: Record<string, Party> = {};
  const names = ['alice', 'm1', 'm2', 'm3', 'm4', 'm5', 'x'];
  for (const [i, name] of names.entries()) {
    const socket = await udp();
    // mixed: every other member on the other transport [S-4]
    const tr = mixed && i % 2 === 1 ? (transport === 'tls' ? 'plain' : 'tls') : transport;
    const text = await connectedClient(s.hub.dialer('text', tr), name, socket.address().port);
    p[name] = { text, udp: socket };
  }
  s.hub.accounts.groups.add('floor', ['m1', 'm2', 'm3', 'm4', 'm5']);
  const party = (n: string) => p[n]!;
  return {
    ...s,
    party,
    async done() {
      for (const x of Object.values(p)) {
        x.text.close();
        x.udp.close();
      }
      await s.stop();
    },
  };
}

/** `<code> <name> 127.0.0.1 <port>` and its keys, if any. */
function media(line: string | null, prefix: string) {
  const m = new RegExp(`^${prefix} 127\\.0\\.0\\.1 (\\d+)(.*)$`).exec(line ?? '');
  if (!m) throw new Error(`expected "${prefix} 127.0.0.1 <port>", got ${line}`);
  const keys = KEYED.exec(m[2]!);
  return { port: Number(m[1]), keys: keys ? { send: keys[1]!, recv: keys[2]! } : null };
}

for (const transport of TRANSPORTS) {
  test(`[G-2] ${transport}: five members, one in a call: four hear the caller's stream, HANGUP ends it for all`, async (t) => {
    const h = await building(transport);
    const [alice, x, m5] = [h.party('alice'), h.party('x'), h.party('m5')];
    t.is(await x.text.request('CALL m5'), '104 m5');
    t.is(await m5.text.next(), '105 x');
    t.regex((await m5.text.request('ACCEPT x')) ?? '', /^106 x /);
    t.regex((await x.text.next()) ?? '', /^106 m5 /);

    t.is(await alice.text.request('PAGE Floor'), '104 floor');
    const src = media(await alice.text.next(), '106 floor');
    const members = ['m1', 'm2', 'm3', 'm4'].map((n) => h.party(n));
    const legs: Array<ReturnType<typeof media>> = [];
    for (const m of members) legs.push(media(await m.text.next(), '111 alice'));
    t.true(await m5.text.quiet(50), 'the member in a call is skipped');
    t.is(
      await alice.text.request('USERS'),
      '103 alice:in_call m1:in_call m2:in_call m3:in_call m4:in_call m5:in_call x:in_call',
    );
    const secure = transport === 'tls';
    t.is(src.keys !== null, secure);
    for (const leg of legs) t.is(leg.keys !== null, secure);
    if (secure) {
      const all = [src.keys!.send, ...legs.map((l) => l.keys!.recv)];
      t.is(new Set(all).size, all.length, 'fresh keys on every leg');
    }
    t.is(new Set(legs.map((l) => l.port)).size, 4, 'a relay port per member');

    const tx = src.keys ? new SrtpSender(src.keys.send) : null;
    for (let seq = 1; seq <= 3; seq++) {
      const packet = rtp(seq);
      const arrivals = members.map((m) => nextMessage(m.udp, 5000));
      alice.udp.send(tx ? tx.protect(packet) : packet, src.port, '127.0.0.1');
      const got = await Promise.all(arrivals);
      got.forEach((g, i) => {
        t.truthy(g, `m${i + 1} got packet ${seq}`);
        t.is(g!.port, legs[i]!.port, 'from its own relay port [M-2]');
        const rx = legs[i]!.keys ? new SrtpReceiver(legs[i]!.keys!.recv) : null;
        const clear = rx ? rx.unprotect(g!.msg) : g!.msg;
        t.deepEqual(clear, packet, `m${i + 1} plays the caller's packet ${seq}`);
      });
    }
    const legsOpen = h.hub.relay.stats.openLegs;
    t.is(await alice.text.request('HANGUP floor'), '107 floor ended');
    for (const m of members) t.is(await m.text.next(), '107 alice ended');
    t.is(h.hub.relay.stats.openLegs, legsOpen - 5, 'the page relay closed');
    t.is(
      await alice.text.request('USERS'),
      '103 alice:idle m1:idle m2:idle m3:idle m4:idle m5:in_call x:in_call',
    );
    t.is(h.hub.core.stats.pages, 1);
    await h.done();
  });
}

test('[G-2, S-4] a page to TLS and plaintext members: each leg as its transport wants', async (t) => {
  const h = await building('tls', true);
  const alice = h.party('alice');
  t.is(await alice.text.request('PAGE floor'), '104 floor');
  const src = media(await alice.text.next(), '106 floor');
  t.truthy(src.keys);
  const members = ['m1', 'm2', 'm3', 'm4', 'm5'].map((n) => h.party(n));
  const legs: Array<ReturnType<typeof media>> = [];
  for (const m of members) legs.push(media(await m.text.next(), '111 alice'));
  t.deepEqual(
    legs.map((l) => l.keys !== null),
    [false, true, false, true, false],
  );
  const packet = rtp(7);
  const arrivals = members.map((m) => nextMessage(m.udp, 5000));
  alice.udp.send(new SrtpSender(src.keys!.send).protect(packet), src.port, '127.0.0.1');
  const got = await Promise.all(arrivals);
  got.forEach((g, i) => {
    const keys = legs[i]!.keys;
    const clear = keys ? new SrtpReceiver(keys.recv).unprotect(g!.msg) : g!.msg;
    t.deepEqual(clear, packet, `m${i + 1}`);
  });
  await h.done();
});

test('[G-2] a member leaves alone; the caller going away ends it for the rest; none reachable is 404', async (t) => {
  const h = await building('plain');
  const alice = h.party('alice');
  const [m1, m2] = [h.party('m1'), h.party('m2')];
  t.is(await alice.text.request('PAGE m1'), '404 m1 unknown', 'a user is no group');
  t.is(await alice.text.request('PAGE floor'), '104 floor');
  media(await alice.text.next(), '106 floor');
  const members = ['m1', 'm2', 'm3', 'm4', 'm5'].map((n) => h.party(n));
  for (const m of members) media(await m.text.next(), '111 alice');
  const legsOpen = h.hub.relay.stats.openLegs;
  t.is(await m1.text.request('HANGUP alice'), '107 alice ended');
  t.is(h.hub.relay.stats.openLegs, legsOpen - 1, "the member's relay port closed");
  t.true(await alice.text.quiet(50), 'the page goes on');
  t.is(await m2.text.request('PAGE floor'), '404 floor in_call');
  alice.text.close();
  for (const m of members.slice(1)) t.is(await m.text.next(), '107 alice ended');
  await untilState(h.hub.core, h.hub.accounts.getByName('alice')!.id, 'offline');
  t.is(h.hub.relay.stats.openLegs, legsOpen - 6, 'every port of the page closed');
  for (const m of members) t.is(await m.text.request('DND on'), '110 on');
  const x = h.party('x');
  t.is(await x.text.request('PAGE floor'), '404 floor offline');
  await h.done();
});
