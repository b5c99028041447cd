import test from 'ava';
import { ArecordCapture } from '../../../device/audio/capture-arecord.ts';
import type { OverrunInfo } from '../../../device/audio/types.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';
import { enoent, fakeSpawn } from './fixtures/fake-child.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function rig(fail?: NodeJS.ErrnoException) {
  const clock = new FakeClock();
  const { spawnFn, calls } = fakeSpawn(fail);
  const capture = new ArecordCapture({ log, clock, frameSamples: 960, pcm: 'plughw:1,0', spawnFn });
  const frames: Buffer[] = [];
  const errors: Error[] = [];
  capture.on('frame', (f) => frames.push(f));
  capture.on('error', (e) => errors.push(e));
  const child = () => {
    const c = calls[0]?.child;
    if (!c) throw new Error('not spawned');
    return c;
  };
  return { clock, capture, calls, frames, errors, child };
}

/** Starts the capture and feeds its first audio, as arecord would once the PCM is open. */
async function started(r: ReturnType<typeof rig>, first = Buffer.alloc(1000, 1)) {
  const done = r.capture.start();
  await settle();
  r.child().stdout.write(first);
  await done;
}

test('runs arecord raw S16_LE 48 kHz mono on the PCM, stdout piped', async (t) => {
  const r = rig();
  await started(r);
  t.is(r.calls[0]?.command, 'arecord');
  t.deepEqual(r.calls[0]?.args, [
    ...['-q', '-t', 'raw', '-f', 'S16_LE', '-r', '48000', '-c', '1', '-D', 'plughw:1,0'],
    ...['--period-time=10000', '--buffer-time=200000'],
  ]);
  t.deepEqual(r.calls[0]?.stdio, ['ignore', 'pipe', 'pipe']);
  await r.capture.stop();
});

test('pipe reads of any size become exact frames, the first read included', async (t) => {
  const r = rig();
  const stream = Buffer.from(Array.from({ length: 1920 * 3 + 7 }, (_, i) => i % 253));
  await started(r, stream.subarray(0, 1000));
  r.child().stdout.write(stream.subarray(1000, 1001));
  r.child().stdout.write(stream.subarray(1001, 5000));
  r.child().stdout.write(stream.subarray(5000));
  await settle();
  t.deepEqual(
    r.frames,
    [0, 1, 2].map((i) => stream.subarray(i * 1920, (i + 1) * 1920)),
  );
  t.is(r.capture.stats.frames, 3);
  await r.capture.stop();
});

test('xrun lines on stderr are overruns, with the gap arecord measured', async (t) => {
  const r = rig();
  const overruns: OverrunInfo[] = [];
  r.capture.on('overrun', (o) => overruns.push(o));
  await started(r);
  r.child().stderr.write('overrun!!! (at least 12.5 ms long)\nover');
  r.child().stderr.write('run!!!\n');
  await settle();
  t.deepEqual(overruns, [{ lostMs: 12.5 }, { lostMs: null }]);
  t.is(r.capture.stats.overruns, 2);
  await r.capture.stop();
});

test('arecord exiting while running is one error quoting its stderr; then silence', async (t) => {
  const r = rig();
  await started(r);
  r.child().stderr.write('arecord: pcm_read:2221: read error: No such device\n');
  r.child().exit(1);
  await settle();
  await settle();
  t.is(r.errors.length, 1);
  t.is(
    r.errors[0]?.message,
    'plughw:1,0: arecord exited with code 1: arecord: pcm_read:2221: read error: No such device',
  );
  await r.capture.stop();
  t.deepEqual(r.child().signals, [], 'nothing left to kill');
});

test('start() rejects with arecord stderr when it exits before any audio', async (t) => {
  const r = rig();
  const start = r.capture.start();
  await settle();
  r.child().stderr.write('ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM plughw:1,0\n');
  r.child().stderr.write('arecord: main:831: audio open error: No such file or directory\n');
  r.child().exit(1);
  await t.throwsAsync(start, {
    message:
      /^plughw:1,0: arecord exited with code 1: .*Unknown PCM plughw:1,0; arecord: main:831: audio open error/,
  });
  t.deepEqual(r.errors, []);
});

test('start() rejects when arecord is not installed', async (t) => {
  const r = rig(enoent('arecord'));
  await t.throwsAsync(r.capture.start(), {
    message:
      'plughw:1,0: arecord could not start: spawn arecord ENOENT (not installed? apt install alsa-utils)',
  });
});

test('start() gives up on an arecord that sends nothing, and kills it', async (t) => {
  const r = rig();
  const start = r.capture.start();
  await settle();
  r.clock.advance(5000);
  await t.throwsAsync(start, { message: 'plughw:1,0: no audio within 5000 ms' });
  t.deepEqual(r.child().signals, ['SIGTERM']);
});

test('stop(): SIGTERM, and SIGKILL after 2 s for an arecord that ignores it', async (t) => {
  const r = rig();
  await started(r);
  r.child().diesOf = ['SIGKILL'];
  const stopped = r.capture.stop();
  await settle();
  t.deepEqual(r.child().signals, ['SIGTERM']);
  r.child().stdout.write(Buffer.alloc(4000));
  await settle();
  t.deepEqual(r.frames, [], 'no frame once stop() is called');
  r.clock.advance(2000);
  await stopped;
  t.deepEqual(r.child().signals, ['SIGTERM', 'SIGKILL']);
});
