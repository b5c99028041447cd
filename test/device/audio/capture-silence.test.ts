import test from 'ava';
import { createSilenceCapture, PacedCapture } from '../../../device/audio/capture-silence.ts';
import type { OverrunInfo } from '../../../device/audio/types.ts';
import { type Clock, FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';

test('silence: one frame of zeros per frame interval, none after stop', async (t) => {
  const clock = new FakeClock();
  const capture = createSilenceCapture({ log, clock, frameSamples: 480 });
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  clock.advance(9);
  t.is(frames.length, 0, 'a frame comes once it has been "recorded"');
  clock.advance(1);
  t.is(frames.length, 1);
  clock.advance(990);
  t.is(frames.length, 100);
  t.true(frames.every((f) => f.length === 960 && f.every((b) => b === 0)));
  t.not(frames[0]?.buffer, frames[1]?.buffer, 'each frame is its own buffer');
  await capture.stop();
  clock.advance(1000);
  t.is(frames.length, 100);
  t.is(capture.stats.frames, 100);
  t.is(clock.pending, 0);
});

/** A clock whose interval fires only when the test says, at whatever time it sets. */
class LateClock implements Clock {
  time = 0;
  tick: (() => void) | undefined;
  now = () => this.time;
  wallNow = () => this.time;
  setTimeout() {
    return { cancel() {} };
  }
  setInterval(fn: () => void) {
    this.tick = fn;
    return {
      cancel: () => {
        this.tick = undefined;
      },
    };
  }
}

test('a late timer catches up; a long stall skips ahead and reports an overrun', async (t) => {
  const clock = new LateClock();
  let n = 0;
  const capture = new PacedCapture({
    log,
    clock,
    frameSamples: 960,
    maxCatchUp: 10,
    nextFrame: () => Buffer.alloc(1920, n++),
  });
  const frames: number[] = [];
  const overruns: OverrunInfo[] = [];
  capture.on('frame', (f) => frames.push(f[0] ?? -1));
  capture.on('overrun', (o) => overruns.push(o));
  await capture.start();
  clock.time = 100;
  clock.tick?.();
  t.deepEqual(frames, [0, 1, 2, 3, 4], 'five frames were due');
  clock.time = 100 + 200;
  clock.tick?.();
  t.is(frames.length, 15, 'ten behind is still caught up');
  t.deepEqual(overruns, []);
  clock.time = 300 + 1000;
  clock.tick?.();
  t.deepEqual(overruns, [{ lostMs: 49 * 20 }]);
  t.is(frames.length, 16, 'after a skip, only the frame now due');
  t.is(capture.stats.overruns, 1);
  clock.time += 20;
  clock.tick?.();
  t.is(frames.length, 17, 'and the pace goes on from there');
  await capture.stop();
  t.is(clock.tick, undefined);
});

test('start twice is refused; stop before start is harmless', async (t) => {
  const capture = createSilenceCapture({ log, clock: new FakeClock(), frameSamples: 960 });
  await capture.stop();
  const again = createSilenceCapture({ log, clock: new FakeClock(), frameSamples: 960 });
  await again.start();
  await t.throwsAsync(again.start(), { message: /already started/ });
  await again.stop();
  t.throws(() => createSilenceCapture({ log, clock: new FakeClock(), frameSamples: 1000 }), {
    instanceOf: RangeError,
  });
});
