import test from 'ava';
import { AlsaCapture } from '../../../device/audio/capture-alsa.ts';
import { FakeAlsaDevice } from '../../../device/audio/fake-alsa.ts';
import { AplayPlayback } from '../../../device/audio/playback-aplay.ts';
import {
  ResilientCapture,
  type ResilientOptions,
  ResilientPlayback,
  type StateChange,
} from '../../../device/audio/resilient.ts';
import type { SpawnFn } from '../../../device/audio/types.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';
import { enoent, type FakeChild, fakeSpawn } from './fixtures/fake-child.ts';

/** Lets promise callbacks, nextTicks and immediates run (no time passes on the fake clock). */
async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advances the fake clock and lets what it triggered finish. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms);
  await settle();
}

function rig(opts: Partial<ResilientOptions> = {}) {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const capture = new ResilientCapture(
    () => new AlsaCapture({ log, clock, frameSamples: 960, pcm: 'usb', alsaModule: mic.module }),
    { log, clock, frameSamples: 960, random: () => 0, ...opts },
  );
  const states: StateChange[] = [];
  let frames = 0;
  capture.on('state', (s) => states.push(s));
  capture.on('frame', () => {
    frames++;
  });
  return { clock, mic, capture, states, frames: () => frames };
}

const waits = (states: StateChange[]) =>
  states.filter((s) => s.state === 'waiting').map((s) => s.delayMs);

test('a microphone missing at start: start() resolves, retries back off 0.5 s .. 10 s, recovery when plugged', async (t) => {
  const { clock, mic, capture, states, frames } = rig();
  mic.unplug();
  await capture.start();
  await settle();
  t.is(capture.state, 'waiting');
  t.is(mic.opens, 1);
  for (const delay of [500, 1000, 2000, 4000, 8000, 10_000, 10_000]) {
    await advance(clock, delay - 1);
    t.is(mic.opens, waits(states).length, `no attempt before ${delay} ms`);
    await advance(clock, 1);
  }
  t.deepEqual(waits(states), [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  t.regex(states.at(-1)?.error?.message ?? '', /usb: snd_pcm_open: No such file or directory/);
  t.is(frames(), 0);

  mic.plug();
  await advance(clock, 10_000);
  t.is(capture.state, 'running');
  await advance(clock, 200);
  t.is(frames(), 10);
  await capture.stop();
  t.is(capture.state, 'stopped');
  t.is(mic.openInstances, 0);
  t.is(clock.pending, 0);
});

test('unplugged while running: reported, old handle closed, retried, recovered when back', async (t) => {
  const { clock, mic, capture, states, frames } = rig();
  const errors: Error[] = [];
  capture.on('error', (e) => errors.push(e));
  await capture.start();
  await advance(clock, 200);
  t.is(frames(), 10);

  mic.unplug();
  await advance(clock, 10);
  t.is(capture.state, 'waiting');
  t.deepEqual(
    errors.map((e) => e.message),
    ['usb: device lost: snd_pcm_readi: No such device'],
  );
  t.is(mic.openInstances, 0, 'the lost instance was closed');
  await advance(clock, 500);
  await advance(clock, 1000);
  t.deepEqual(waits(states), [500, 1000, 2000]);
  t.is(errors.length, 3);

  mic.plug();
  await advance(clock, 2000);
  t.is(capture.state, 'running');
  const before = frames();
  await advance(clock, 1000);
  t.is(frames() - before, 50);
  t.is(capture.stats.frames, frames());
  await capture.stop();
});

test('after running steadily, the next failure starts the backoff over', async (t) => {
  const { clock, mic, capture, states } = rig({ stableMs: 10_000 });
  mic.unplug();
  await capture.start();
  await settle();
  for (const delay of [500, 1000, 2000]) await advance(clock, delay);
  mic.plug();
  await advance(clock, 4000);
  t.is(capture.state, 'running');
  t.deepEqual(waits(states), [500, 1000, 2000, 4000]);
  t.is(states.at(-1)?.failures, 4);

  await advance(clock, 10_000);
  mic.unplug();
  await advance(clock, 10);
  t.deepEqual(waits(states).slice(4), [500]);
  t.is(states.at(-1)?.failures, 1);
  await capture.stop();
});

test('a device that dies soon after opening keeps backing off', async (t) => {
  const { clock, mic, capture, states } = rig({ stableMs: 10_000 });
  await capture.start();
  for (let i = 0; i < 3; i++) {
    await advance(clock, 100);
    mic.injectError('Input/output error');
    await settle();
    await advance(clock, waits(states).at(-1) ?? 0);
  }
  t.deepEqual(waits(states), [500, 1000, 2000]);
  await capture.stop();
});

test('jitter scales delays down by up to the jitter fraction', async (t) => {
  const { clock, mic, capture, states } = rig({ random: () => 1, jitter: 0.3 });
  mic.unplug();
  await capture.start();
  await settle();
  await advance(clock, 350);
  await advance(clock, 700);
  t.deepEqual(waits(states), [350, 700, 1400]);
  await capture.stop();
});

test('never throws: a factory that throws and no error listener just mean retries', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const capture = new ResilientCapture(
    () => {
      calls++;
      throw new Error('no such thing');
    },
    { log, clock, frameSamples: 960, random: () => 0 },
  );
  await capture.start();
  await advance(clock, 500);
  await advance(clock, 1000);
  t.is(calls, 3);
  t.is(capture.state, 'waiting');
  await capture.stop();
  await advance(clock, 60_000);
  t.is(calls, 3, 'stop() cancels the retry');
  t.is(clock.pending, 0);
});

test('playback: writes are dropped while there is no device; aplay missing, then lost, then back', async (t) => {
  const clock = new FakeClock();
  let missing = 2;
  const children: FakeChild[] = [];
  const spawnFn: SpawnFn = (command, args, options) => {
    const { spawnFn: one, calls } = fakeSpawn(missing-- > 0 ? enoent('aplay') : undefined);
    const child = one(command, args, options);
    children.push(calls[0]!.child);
    return child;
  };
  const playback = new ResilientPlayback(
    () => new AplayPlayback({ log, clock, frameSamples: 960, pcm: 'usb', spawnFn }),
    { log, clock, frameSamples: 960, random: () => 0 },
  );
  const states: StateChange[] = [];
  playback.on('state', (s) => states.push(s));
  const frame = Buffer.alloc(1920);

  await playback.start();
  await settle();
  t.is(playback.state, 'waiting');
  playback.write(frame);
  await advance(clock, 500);
  await advance(clock, 1000);
  t.is(playback.state, 'running');
  for (let i = 0; i < 5; i++) {
    playback.write(frame);
    await advance(clock, 20);
  }
  t.deepEqual(playback.stats, { frames: 5, dropped: 1, underruns: 0 });

  children.at(-1)?.exit(1);
  await settle();
  t.is(playback.state, 'waiting');
  playback.write(frame);
  await advance(clock, 2000);
  t.is(playback.state, 'running');
  playback.write(frame);
  t.deepEqual(playback.stats, { frames: 6, dropped: 2, underruns: 0 });
  t.deepEqual(waits(states), [500, 1000, 2000]);
  const stopped = playback.stop();
  await settle();
  clock.advance(1000); // the fake aplay does not drain by itself: let stop() time it out
  await stopped;
  t.is(playback.state, 'stopped');
});
