import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { FilePlayback } from '../../../device/audio/playback-file.ts';
import { NullPlayback } from '../../../device/audio/playback-null.ts';
import { decodeWav, parseWav } from '../../../device/audio/wav.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'babel-file-playback-'));
});
test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

const frame = (n: number) => Buffer.alloc(960, n);

test('every accepted frame is in the file, under a header fixed up by stop()', async (t) => {
  const path = join(dir, 'out.wav');
  const playback = new FilePlayback(path, { log, clock: new FakeClock(), frameSamples: 480 });
  await playback.start();
  const written = Array.from({ length: 120 }, (_, i) => frame(i));
  for (const f of written) playback.write(f);
  playback.write(Buffer.alloc(10));
  await playback.stop();
  playback.write(frame(1));
  const file = await readFile(path);
  const info = parseWav(file);
  t.like(info, { format: 1, channels: 1, sampleRate: 48000, bitsPerSample: 16 });
  t.is(file.readUInt32LE(4), file.length - 8, 'RIFF size');
  t.is(file.readUInt32LE(40), file.length - 44, 'data size');
  // Written in one go, faster than any disk: one second (100 frames) is queued, the rest dropped.
  t.deepEqual(decodeWav(file), Buffer.concat(written.slice(0, 100)));
  t.deepEqual(playback.stats, { frames: 100, dropped: 22, underruns: 0 });
});

test('stopped with nothing written: a valid empty WAV', async (t) => {
  const path = join(dir, 'empty.wav');
  const playback = new FilePlayback(path, { log, clock: new FakeClock(), frameSamples: 960 });
  await playback.start();
  await playback.stop();
  t.is((await stat(path)).size, 44);
  t.deepEqual(decodeWav(await readFile(path)), Buffer.alloc(0));
});

test('start() rejects an unwritable path, naming it', async (t) => {
  const path = join(dir, 'no-such-dir', 'out.wav');
  const playback = new FilePlayback(path, { log, clock: new FakeClock(), frameSamples: 960 });
  await t.throwsAsync(playback.start(), { message: new RegExp(`^${path}: ENOENT`) });
  await playback.stop();
});

test('null playback counts frames, and drops mis-sized ones and those written while stopped', async (t) => {
  const playback = new NullPlayback(480);
  playback.write(frame(0));
  await playback.start();
  playback.write(frame(1));
  playback.write(frame(2));
  playback.write(Buffer.alloc(1920));
  await playback.stop();
  playback.write(frame(3));
  t.deepEqual(playback.stats, { frames: 2, dropped: 3, underruns: 0 });
});

test('while playing, the header says how much is written, updated each second of audio (not each frame)', async (t) => {
  const path = join(dir, 'growing.wav');
  const playback = new FilePlayback(path, { log, clock: new FakeClock(), frameSamples: 960 });
  await playback.start();
  const second = 48000 * 2;
  const frame20 = (n: number) => Buffer.alloc(1920, n);
  const header = async () => {
    const file = await readFile(path);
    return { riff: file.readUInt32LE(4), data: file.readUInt32LE(40), length: file.length };
  };
  for (let i = 0; i < 40; i++) playback.write(frame20(i));
  await playback.flush();
  t.like(await header(), { riff: 36, data: 0, length: 44 + 40 * 1920 });
  for (let i = 40; i < 60; i++) playback.write(frame20(i));
  await playback.flush();
  t.like(await header(), { riff: 36 + second, data: second, length: 44 + 60 * 1920 });
  for (let n = 60; n < 150; n += 30) {
    for (let i = n; i < n + 30; i++) playback.write(frame20(i));
    await playback.flush();
  }
  const now = await header();
  t.is(now.data, 3 * second);
  t.is(now.riff, now.data + 36);
  const playing = await readFile(path);
  t.is(
    decodeWav(playing).length,
    3 * second,
    'a reader of the file in progress gets whole seconds',
  );
  await playback.stop();
  t.like(await header(), { data: 150 * 1920, riff: 150 * 1920 + 36 });
});
