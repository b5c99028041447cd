import test from 'ava';
import { FakeClock } from '../../../shared/clock.ts';
import { FakeNet } from '../../helpers/fake-udp.ts';
import { F, LOCAL, session, toneFrame, toneOf } from '../../helpers/media-session.ts';

test('on a fake clock and network: one playout frame per interval, tones both ways, DTMF once', async (t) => {
  const clock = new FakeClock(1000);
  const net = new FakeNet();
  const a = await session({ clock, createSocket: () => net.socket() });
  const b = await session({ clock, createSocket: () => net.socket() });
  a.s.start({ ip: LOCAL, port: b.port });
  b.s.start({ ip: LOCAL, port: a.port });
  clock.advance(200);
  t.is(a.played.length, 10, 'one frame per 20 ms');
  t.true(a.played.every((p) => p.kind === 'silence' && p.pcm.every((x) => x === 0)));
  for (let k = 0; k < 100; k++) {
    a.s.sendFrame(toneFrame(440, k));
    b.s.sendFrame(toneFrame(1000, k));
    if (k === 85) a.s.pressKey('#'); // after the stretch `toneOf` measures
    clock.advance(F);
  }
  t.true(Math.abs(a.played.length - 110) <= 1, 'the ticks follow the arrivals');
  t.is(toneOf(a.played), 1000);
  t.is(toneOf(b.played), 440);
  t.deepEqual(b.keys, ['#']);
  t.deepEqual(a.keys, []);
  a.s.stop();
  const playedInLeg = a.played.length;
  clock.advance(1000);
  t.is(a.played.length, playedInLeg, 'no playout between legs');
  t.is(clock.pending, 2, "only b's playout and stats timers remain");
  await Promise.all([a.s.close(), b.s.close()]);
});

/** A fake clock whose timers fire `lateMs` late, as in a stalled event loop. */
class LateClock extends FakeClock {
  lateMs = 0;

  override setTimeout(fn: () => void, ms: number) {
    return super.setTimeout(fn, ms + this.lateMs);
  }
}

test('a late playout timer is made up at once; a long stall, ten frames at most', async (t) => {
  const clock = new LateClock();
  const a = await session({ clock, createSocket: () => new FakeNet().socket() });
  a.s.start({ ip: LOCAL, port: 9 });
  clock.advance(100);
  t.is(a.played.length, 5);
  clock.lateMs = 50;
  clock.advance(20); // the timer armed before fires on time, the next one 50 ms late
  t.is(a.played.length, 6);
  clock.lateMs = 0;
  clock.advance(60);
  t.is(a.played.length, 6, 'stalled');
  clock.advance(10);
  t.is(a.played.length, 9, 'the three frames due, at once');
  clock.advance(200);
  t.is(a.played.length, 19, 'and on schedule again');
  clock.lateMs = 500;
  clock.advance(10);
  clock.lateMs = 0;
  clock.advance(520);
  t.is(a.played.length, 30, 'ten made up of a 500 ms stall...');
  clock.advance(20);
  t.is(a.played.length, 31, '...then the schedule starts again from now');
  await a.s.close();
});
