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
