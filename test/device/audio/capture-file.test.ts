import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { FileCapture } from '../../../device/audio/capture-file.ts';
import { encodeWav } from '../../../device/audio/wav.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'babel-file-capture-'));
});
test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Samples 0, 1, 2, ... n - 1: where each sample came from is visible. */
function ramp(n: number): Buffer {
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(i, i * 2);
  return b;
}

const samplesOf = (frames: Buffer[]) =>
  frames.flatMap((f) => Array.from({ length: f.length / 2 }, (_, i) => f.readInt16LE(i * 2)));

test('paced one frame per interval, looping seamlessly over a file of 2.5 frames', async (t) => {
  const path = join(dir, 'ramp.wav');
  await writeFile(path, encodeWav(ramp(1200)));
  const clock = new FakeClock();
  const capture = new FileCapture(path, { log, clock, frameSamples: 480 });
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  clock.advance(9);
  t.is(frames.length, 0);
  clock.advance(1);
  t.is(frames.length, 1);
  clock.advance(50);
  t.is(frames.length, 6);
  const got = samplesOf(frames);
  t.deepEqual(
    got,
    Array.from({ length: 6 * 480 }, (_, i) => i % 1200),
  );
  await capture.stop();
  clock.advance(100);
  t.is(frames.length, 6);
});

test('a file shorter than a frame still loops; stereo is averaged', async (t) => {
  const path = join(dir, 'short-stereo.wav');
  const stereo = Buffer.alloc(3 * 4);
  [10, 20, 30, 50, -10, -20].forEach((v, i) => {
    stereo.writeInt16LE(v, i * 2);
  });
  await writeFile(path, encodeWav(stereo, 48000, 2));
  const clock = new FakeClock();
  const capture = new FileCapture(path, { log, clock, frameSamples: 480 });
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  clock.advance(20);
  await capture.stop();
  t.deepEqual(samplesOf(frames).slice(0, 7), [15, 40, -15, 15, 40, -15, 15]);
});

const refused: [name: string, content: Buffer | null, message: RegExp][] = [
  ['a missing file', null, /missing\.wav: ENOENT/],
  ['a 44.1 kHz file', encodeWav(ramp(100), 44100), /44100 Hz; need 48000 Hz/],
  ['raw PCM', ramp(100), /not a WAV file/],
  ['a file with no audio', encodeWav(Buffer.alloc(0)), /holds no audio/],
];

for (const [name, content, message] of refused) {
  test(`start() rejects ${name}, naming the file`, async (t) => {
    const path = join(dir, content ? `${name.replace(/\W/g, '')}.wav` : 'missing.wav');
    if (content) await writeFile(path, content);
    const capture = new FileCapture(path, { log, clock: new FakeClock(), frameSamples: 960 });
    const err = await t.throwsAsync(capture.start());
    t.true(err?.message.startsWith(path));
    t.regex(err?.message ?? '', message);
  });
}

test('a file longer than a read loops seamlessly across reads and its end', async (t) => {
  // 30000 samples: reads of 50 frames of 480 (24000 samples) wrap at the end mid-read.
  const path = join(dir, 'long-ramp.wav');
  await writeFile(path, encodeWav(ramp(30000)));
  const clock = new FakeClock();
  const capture = new FileCapture(path, { log, clock, frameSamples: 480 });
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  for (let i = 0; i < 140; i++) clock.advance(10);
  await capture.stop();
  t.is(frames.length, 140);
  t.deepEqual(
    samplesOf(frames),
    Array.from({ length: 140 * 480 }, (_, i) => i % 30000),
  );
});

test('chunks before the audio are skipped; a streamed size reads to the end', async (t) => {
  const path = join(dir, 'list-streamed.wav');
  const wav = encodeWav(ramp(1000));
  // RIFF/WAVE and fmt as encodeWav makes them, a LIST chunk, then data declaring 0xffffffff.
  const list = Buffer.concat([
    Buffer.from('LIST'),
    Buffer.from([6, 0, 0, 0]),
    Buffer.from('INFOab'),
  ]);
  const data = Buffer.from(wav.subarray(36));
  data.writeUInt32LE(0xffff_ffff, 4);
  await writeFile(path, Buffer.concat([wav.subarray(0, 36), list, data]));
  const clock = new FakeClock();
  const capture = new FileCapture(path, { log, clock, frameSamples: 480 });
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  clock.advance(30);
  await capture.stop();
  t.deepEqual(
    samplesOf(frames),
    Array.from({ length: 3 * 480 }, (_, i) => i % 1000),
  );
});

test('a long file is read as it plays, not whole', async (t) => {
  // 256 MB of (sparse, all-zero) audio: reading it whole would add 256 MB or more.
  const path = join(dir, 'huge.wav');
  const bytes = 256 * 1024 * 1024;
  await writeFile(path, encodeWav(Buffer.alloc(0)));
  const h = await import('node:fs/promises').then((m) => m.open(path, 'r+'));
  const header = encodeWav(Buffer.alloc(0));
  header.writeUInt32LE(36 + bytes, 4);
  header.writeUInt32LE(bytes, 40);
  await h.write(header, 0, header.length, 0);
  await h.truncate(44 + bytes);
  await h.close();
  const before = process.memoryUsage().arrayBuffers;
  const clock = new FakeClock();
  const capture = new FileCapture(path, { log, clock, frameSamples: 960 });
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  for (let i = 0; i < 100; i++) clock.advance(20);
  const grew = process.memoryUsage().arrayBuffers - before;
  await capture.stop();
  t.is(frames.length, 100);
  t.true(frames.every((f) => f.length === 1920 && f.every((b) => b === 0)));
  t.true(grew < 16 * 1024 * 1024, `array buffers grew by ${(grew / 1048576).toFixed(1)} MB`);
});

test('a file cut short under the capture is one error naming it, and no more frames', async (t) => {
  const path = join(dir, 'cut.wav');
  await writeFile(path, encodeWav(ramp(30000)));
  const clock = new FakeClock();
  const capture = new FileCapture(path, { log, clock, frameSamples: 480 });
  const frames: Buffer[] = [];
  const errors: Error[] = [];
  capture.on('frame', (f) => frames.push(f));
  capture.on('error', (e) => errors.push(e));
  await capture.start();
  clock.advance(10); // the first read: 50 frames held
  await writeFile(path, encodeWav(ramp(100))); // the same file, now 100 samples long
  for (let i = 0; i < 60; i++) clock.advance(10);
  t.is(frames.length, 50);
  t.is(errors.length, 1);
  t.true(errors[0]?.message.startsWith(`${path}: `), errors[0]?.message);
  t.regex(errors[0]?.message ?? '', /shorter than its header/);
  await capture.stop();
});
