/**
 * The real thing, with no sound card: alsa-lib's `file` plugin reads what a test writes
 * into a FIFO (`infile`) as if a microphone had recorded it, and writes what is played to
 * a WAV (`file`), over the `null` plugin. ALSA_CONFIG_PATH points alsa-lib at a config that
 * includes the system one and adds these PCMs. alsa-lib reads it at the first open in the
 * process, and ava runs each test file in its own process, so setting it here, before any
 * open, is enough; arecord and aplay inherit it.
 *
 * The FIFO paces the capture: the null slave never blocks, so a plain file would be read
 * in a flash and then return 0 frames in a tight loop; a FIFO blocks until the test writes,
 * and its end (EOF) is what lets a stopped capture thread leave `read()`.
 */
import { execFileSync } from 'node:child_process';
import { constants, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { type FileHandle, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  createCapture,
  createPlayback,
  parseCaptureSpec,
  parsePlaybackSpec,
} from '../../../device/audio/index.ts';
import type { AudioCapture } from '../../../device/audio/types.ts';
import { decodeWav, parseWav } from '../../../device/audio/wav.ts';
import { dominantFrequency, generateTone } from '../../../device/media/tone.ts';
import { realClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';

const SYSTEM_CONFIG = '/usr/share/alsa/alsa.conf';
const dir = mkdtempSync(join(tmpdir(), 'babel-alsa-'));
const fifo = (name: string) => join(dir, `${name}.fifo`);
const played = join(dir, 'played.wav');

/** The asoundrc these tests run under (also printed by the first test for the record). */
const asoundrc = `<${SYSTEM_CONFIG}>
pcm.babel_capture {
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "${fifo('capture')}"
  format "raw"
}
pcm.babel_arecord {
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "${fifo('arecord')}"
  format "raw"
}
pcm.babel_playback {
  type file
  slave.pcm "null"
  file "${played}"
  format "wav"
}
`;
writeFileSync(join(dir, 'asound.conf'), asoundrc);
execFileSync('mkfifo', [fifo('capture'), fifo('arecord')]);
process.env.ALSA_CONFIG_PATH = join(dir, 'asound.conf');

test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

const deps = { log, clock: realClock, frameSamples: 960 };
/** 0.6 s of 1 kHz at -12 dBFS: what the "microphone" hears. */
const heard = generateTone(1000, 600, 48000, 8192);
const FRAMES = 25;

/** Rejects after `ms` of real time: every wait here is bounded. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts `capture` on a FIFO-fed PCM, feeds it `heard`, and returns the first FRAMES frames.
 * Opening the FIFO for writing waits for the PCM to open it for reading, and vice versa.
 */
async function captureThroughFifo(capture: AudioCapture, path: string): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  const enough = new Promise<void>((resolve) => {
    capture.on('frame', (f) => {
      frames.push(f);
      if (frames.length === FRAMES) resolve();
    });
  });
  const started = capture.start();
  // Should the PCM never open its infile, open the FIFO's read end ourselves so that our
  // own open for writing returns and the test fails with start()'s reason, not a hang.
  started.catch(async () => {
    const reader = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    await reader.close();
  });
  let writer: FileHandle | undefined;
  try {
    writer = await bounded(open(path, 'w'), 10_000, 'the PCM opening its infile');
    // Before start() resolves: arecord's start waits for audio. (EPIPE only if it failed.)
    await writer.write(heard).catch(() => {});
    await bounded(started, 10_000, 'start()');
    await bounded(enough, 10_000, `${FRAMES} frames`);
    const stopped = capture.stop();
    await writer.close(); // EOF: a read() blocked on the FIFO returns
    writer = undefined;
    await bounded(stopped, 10_000, 'stop()');
  } finally {
    await writer?.close();
  }
  return frames.slice(0, FRAMES);
}

test.serial('the system ALSA configuration is there to include', (t) => {
  t.true(existsSync(SYSTEM_CONFIG), `${SYSTEM_CONFIG} (libasound2-data) is missing`);
  t.log(asoundrc);
});

test.serial('alsa: the real babel-alsa addon records the tone, bit-exact', async (t) => {
  const capture = createCapture(parseCaptureSpec('alsa:babel_capture'), deps);
  const errors: Error[] = [];
  capture.on('error', (e) => errors.push(e));
  const frames = await captureThroughFifo(capture, fifo('capture'));
  t.is(frames.length, FRAMES);
  t.true(frames.every((f) => f.length === 1920));
  const joined = Buffer.concat(frames);
  t.deepEqual(joined, heard.subarray(0, FRAMES * 1920));
  t.is(dominantFrequency(joined, 48000), 1000);
  t.deepEqual(errors, []);
});

test.serial('alsa: an unknown PCM is a clear start() error from the real addon', async (t) => {
  const capture = createCapture(parseCaptureSpec('alsa:babel_no_such_pcm'), deps);
  await t.throwsAsync(bounded(capture.start(), 10_000, 'start()'), {
    message:
      'babel_no_such_pcm: snd_pcm_open: No such file or directory (Unknown PCM babel_no_such_pcm)',
  });
  await capture.stop();
});

test.serial('arecord: the real arecord records the tone, bit-exact', async (t) => {
  const capture = createCapture(parseCaptureSpec('arecord:babel_arecord'), deps);
  const frames = await captureThroughFifo(capture, fifo('arecord'));
  const joined = Buffer.concat(frames);
  t.deepEqual(joined, heard.subarray(0, FRAMES * 1920));
  t.is(dominantFrequency(joined, 48000), 1000);
});

test.serial('arecord: an unknown PCM is a start() error quoting arecord', async (t) => {
  const capture = createCapture(parseCaptureSpec('arecord:babel_no_such_pcm'), deps);
  await t.throwsAsync(bounded(capture.start(), 10_000, 'start()'), {
    message: /^babel_no_such_pcm: arecord exited with code 1: .*audio open error/,
  });
});

test.serial('aplay: the real aplay plays the frames into a WAV file', async (t) => {
  const playback = createPlayback(parsePlaybackSpec('aplay:babel_playback'), deps);
  const errors: Error[] = [];
  playback.on('error', (e) => errors.push(e));
  await bounded(playback.start(), 10_000, 'start()');
  const sent = heard.subarray(0, FRAMES * 1920);
  // Written at 20 ms a frame, as the call pipeline does, so none is dropped for being early.
  for (let i = 0; i < FRAMES; i++) {
    playback.write(sent.subarray(i * 1920, (i + 1) * 1920));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await bounded(playback.stop(), 10_000, 'stop()');
  t.deepEqual(playback.stats, { frames: FRAMES, dropped: 0, underruns: playback.stats.underruns });
  t.deepEqual(errors, []);
  const file = await readFile(played);
  t.is(parseWav(file).data.length, file.length - 44, 'the file plugin fixed up the header');
  const pcm = decodeWav(file);
  // aplay pads its last period with silence.
  t.deepEqual(pcm.subarray(0, sent.length), sent);
  t.true(pcm.subarray(sent.length).every((b) => b === 0));
  t.is(dominantFrequency(pcm.subarray(0, sent.length), 48000), 1000);
});
