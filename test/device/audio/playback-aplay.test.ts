import type { PassThrough } from 'node:stream';
import test from 'ava';
import { AplayPlayback } from '../../../device/audio/playback-aplay.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';
import { enoent, fakeSpawn } from './fixtures/fake-child.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const frame = (n: number) => Buffer.alloc(1920, n);

async function rig(fail?: NodeJS.ErrnoException) {
  const clock = new FakeClock();
  const { spawnFn, calls } = fakeSpawn(fail);
  const playback = new AplayPlayback({ log, clock, frameSamples: 960, pcm: 'plughw:1,0', spawnFn });
  const errors: Error[] = [];
  playback.on('error', (e) => errors.push(e));
  const child = () => {
    const c = calls[0]?.child;
    if (!c) throw new Error('not spawned');
    return c;
  };
  return { clock, playback, calls, errors, child };
}

/** Stops, letting the fake clock run out the drain wait (the fake aplay never drains). */
async function stopNow(r: Awaited<ReturnType<typeof rig>>) {
  const stopped = r.playback.stop();
  r.clock.advance(1000);
  await stopped;
}

/** Everything written to the fake aplay's stdin so far. */
function received(stdin: PassThrough): Buffer {
  const parts: Buffer[] = [];
  for (let b: unknown = stdin.read(); Buffer.isBuffer(b); b = stdin.read()) parts.push(b);
  return Buffer.concat(parts);
}

test('runs aplay raw S16_LE 48 kHz mono with a 60 ms buffer, frames on its stdin', async (t) => {
  const r = await rig();
  await r.playback.start();
  t.deepEqual(r.calls[0]?.args, [
    ...['-q', '-t', 'raw', '-f', 'S16_LE', '-r', '48000', '-c', '1', '-D', 'plughw:1,0'],
    '--buffer-time=60000',
  ]);
  t.deepEqual(r.calls[0]?.stdio, ['pipe', 'ignore', 'pipe']);
  r.playback.write(frame(1));
  r.playback.write(Buffer.alloc(100));
  r.playback.write(frame(2));
  t.deepEqual(received(r.child().stdin), Buffer.concat([frame(1), frame(2)]));
  t.deepEqual(r.playback.stats, { frames: 2, dropped: 1, underruns: 0 });
  r.child().diesOf = [];
  const stopped = r.playback.stop();
  r.child().stdin.on('end', () => r.child().exit(0));
  r.child().stdin.resume();
  await stopped;
  t.deepEqual(r.child().signals, [], 'aplay ended by itself once its input ended');
});

test('never more than 200 ms ahead of the clock: the excess is dropped, not queued', async (t) => {
  const r = await rig();
  await r.playback.start();
  r.child().stdin.resume();
  for (let i = 0; i < 15; i++) r.playback.write(frame(i));
  t.deepEqual(r.playback.stats, { frames: 10, dropped: 5, underruns: 0 });
  r.clock.advance(100);
  for (let i = 0; i < 15; i++) r.playback.write(frame(i));
  t.deepEqual(r.playback.stats, { frames: 15, dropped: 15, underruns: 0 });
  r.clock.advance(1000);
  for (let i = 0; i < 50; i++) {
    r.playback.write(frame(i));
    r.clock.advance(20);
    await settle();
  }
  t.is(r.playback.stats.frames, 65, 'at real-time pace nothing is dropped');
  await stopNow(r);
});

test('an aplay that stops reading: writes are dropped once its queue is full', async (t) => {
  const r = await rig();
  await r.playback.start();
  for (let i = 0; i < 100; i++) {
    r.playback.write(frame(i));
    r.clock.advance(20);
  }
  t.true(r.playback.stats.dropped > 70, `dropped ${r.playback.stats.dropped}`);
  t.true(r.child().stdin.writableLength <= 11 * 1920);
  await stopNow(r);
});

test('underrun lines are counted', async (t) => {
  const r = await rig();
  await r.playback.start();
  r.child().stderr.write(
    'underrun!!! (at least 40.1 ms long)\nunderrun!!! (at least 3.0 ms long)\n',
  );
  await settle();
  t.is(r.playback.stats.underruns, 2);
  await stopNow(r);
});

test('aplay exiting (device gone) is one error; later writes are dropped', async (t) => {
  const r = await rig();
  await r.playback.start();
  r.child().stderr.write('aplay: main:831: audio open error: Device or resource busy\n');
  r.child().exit(1);
  await settle();
  await settle();
  t.deepEqual(
    r.errors.map((e) => e.message),
    [
      'plughw:1,0: aplay exited with code 1: aplay: main:831: audio open error: Device or resource busy',
    ],
  );
  r.playback.write(frame(1));
  t.is(r.playback.stats.dropped, 1);
  await r.playback.stop();
});

test('stop(): an aplay that does not finish playing is terminated after 1 s', async (t) => {
  const r = await rig();
  await r.playback.start();
  const stopped = r.playback.stop();
  await settle();
  t.deepEqual(r.child().signals, []);
  r.clock.advance(1000);
  await stopped;
  t.deepEqual(r.child().signals, ['SIGTERM']);
});

test('start() rejects when aplay is not installed', async (t) => {
  const r = await rig(enoent('aplay'));
  await t.throwsAsync(r.playback.start(), {
    message:
      'plughw:1,0: aplay could not start: spawn aplay ENOENT (not installed? apt install alsa-utils)',
  });
  t.deepEqual(r.errors, []);
});
