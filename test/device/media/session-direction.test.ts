/**
 * One-way legs of a page [G-2] and the silence of a one-way broken call [G-3], on a fake
 * clock and an in-memory network.
 */
import test from 'ava';
import { FakeClock } from '../../../shared/clock.ts';
import { FakeNet } from '../../helpers/fake-udp.ts';
import { F, LOCAL, session, toneFrame, toneOf } from '../../helpers/media-session.ts';

async function pair(clock: FakeClock, net: FakeNet) {
  const a = await session({ clock, createSocket: () => net.socket() });
  const b = await session({ clock, createSocket: () => net.socket() });
  const silent = { a: [] as number[], b: [] as number[] };
  a.s.on('silent', () => silent.a.push(clock.now()));
  b.s.on('silent', () => silent.b.push(clock.now()));
  return { a, b, silent };
}

/** Both send their tone for `ms`, one frame per 20 ms of the fake clock. */
function talk(clock: FakeClock, a: Awaited<ReturnType<typeof session>>, b: typeof a, ms: number) {
  for (let k = 0; k < ms / F; k++) {
    a.s.sendFrame(toneFrame(440, k));
    b.s.sendFrame(toneFrame(1000, k));
    clock.advance(F);
  }
}

test('[G-2] a page: the pager sends and plays nothing, the member plays and sends nothing', async (t) => {
  const clock = new FakeClock(1000);
  const net = new FakeNet();
  const { a: pager, b: member, silent } = await pair(clock, net);
  pager.s.start({ ip: LOCAL, port: member.port }, null, 'send');
  member.s.start({ ip: LOCAL, port: pager.port }, null, 'receive');
  t.is(pager.s.direction, 'send');
  t.is(member.s.direction, 'receive');
  talk(clock, pager, member, 3000);
  t.is(pager.played.length, 0, 'a pager plays nothing');
  t.is(pager.s.stats()!.received, 0, 'a member sends nothing');
  t.is(member.s.stats()!.packetsSent, 0);
  t.true(member.played.length >= 145, `the member played ${member.played.length} frames`);
  t.is(toneOf(member.played), 440);
  t.deepEqual(silent, { a: [], b: [] }, 'one-way legs are never silent in the G-3 sense');
  member.s.pressKey('#');
  talk(clock, pager, member, 200);
  t.is(member.s.stats()!.dtmfSent, 0, 'no key goes out of a member');
  member.s.stop();
  t.is(member.s.direction, null);
  await Promise.all([pager.s.close(), member.s.close()]);
});

test('[G-3] a call that works both ways is never silent', async (t) => {
  const clock = new FakeClock(1000);
  const net = new FakeNet();
  const { a, b, silent } = await pair(clock, net);
  a.s.start({ ip: LOCAL, port: b.port });
  b.s.start({ ip: LOCAL, port: a.port });
  talk(clock, a, b, 5000);
  t.deepEqual(silent, { a: [], b: [] });
  await Promise.all([a.s.close(), b.s.close()]);
});

test('[G-3] one direction black-holed: the side that hears nothing says so once, at 2 s; a new leg heals it', async (t) => {
  const clock = new FakeClock(1000);
  const net = new FakeNet();
  const { a, b, silent } = await pair(clock, net);
  net.drop = (from, to) => from === a.port && to === b.port;
  a.s.start({ ip: LOCAL, port: b.port });
  b.s.start({ ip: LOCAL, port: a.port });
  talk(clock, a, b, 5000);
  t.deepEqual(silent.a, [], 'a hears b');
  t.is(silent.b.length, 1, 'said once');
  const after = silent.b[0]! - 1000;
  t.true(after >= 2000 && after <= 2000 + 2 * F, `said ${after} ms into the leg`);
  // The hub moves the call (here: the path heals); each side starts a new leg.
  net.drop = () => false;
  const heard = b.played.length;
  a.s.start({ ip: LOCAL, port: b.port });
  b.s.start({ ip: LOCAL, port: a.port });
  talk(clock, a, b, 3000);
  t.is(toneOf(b.played.slice(heard)), 440, 'b hears a again');
  t.is(silent.b.length, 1);
  await Promise.all([a.s.close(), b.s.close()]);
});

test('[G-3] a side that is not sending (no microphone yet) is not silent', async (t) => {
  const clock = new FakeClock(1000);
  const net = new FakeNet();
  const { a, b, silent } = await pair(clock, net);
  a.s.start({ ip: LOCAL, port: b.port });
  b.s.start({ ip: LOCAL, port: a.port });
  clock.advance(5000);
  t.deepEqual(silent, { a: [], b: [] });
  await Promise.all([a.s.close(), b.s.close()]);
});
