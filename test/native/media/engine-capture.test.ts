/**
 * The engine's file microphone (capture-file.ts + wav.ts in C): mono and stereo WAVs loop
 * seamlessly into the call; a missing or unusable file is retried with backoff and said as
 * 'capture' events while the leg goes on, and the file appearing is the device back.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { toneFrames } from '../../../device/audio/capture-tone.ts';
import { decodeWav, encodeWav } from '../../../device/audio/wav.ts';
import { generateTone } from '../../../device/media/tone.ts';
import { pace, toneFrame, toneOf } from '../../helpers/media-session.ts';
import {
  engine,
  engineAndSession,
  LOCAL,
  RATE,
  received,
  sent,
  toneShare,
  tsSent,
  until,
} from './engine-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'babel-media-capture-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
// alsa-lib's `file` plugin over `null` reading /dev/zero: a microphone without a sound card
// (as test/native/alsa.test.ts); set before the first PCM opens in this process.
writeFileSync(
  join(dir, 'asound.conf'),
  '</usr/share/alsa/alsa.conf>\npcm.babel_zero { type file slave.pcm "null" file "/dev/null" infile "/dev/zero" format "raw" }\n',
);
process.env.ALSA_CONFIG_PATH = join(dir, 'asound.conf');

/** Interleaves two s16le mono signals of the same length. */
function stereo(left: Buffer, right: Buffer): Buffer {
  const out = Buffer.alloc(left.length * 2);
  for (let i = 0; i < left.length / 2; i++) {
    out.writeInt16LE(left.readInt16LE(i * 2), i * 4);
    out.writeInt16LE(right.readInt16LE(i * 2), i * 4 + 2);
  }
  return out;
}

/** An engine sending `path` to a session that only receives; what the session played. */
async function playFile(t: import('ava').ExecutionContext, path: string) {
  const { x, s } = await engineAndSession(t, { capture: { kind: 'file', path } });
  s.s.start({ ip: LOCAL, port: x.port }, null, 'receive');
  x.e.start({ ip: LOCAL, port: s.port, direction: 'send' });
  await until(() => received(s.s.stats()) >= 75, '1.5 s of the file');
  s.s.stop();
  x.e.stop();
  await until(() => x.of('capture').length > 0, "the microphone's 'open'");
  t.deepEqual(x.of('capture'), [{ state: 'open' }]);
  return s.played.filter((p) => p.kind === 'frame').map((p) => p.pcm);
}

test.serial('a mono WAV of a quarter second loops seamlessly into the call', async (t) => {
  const path = join(dir, 'mono.wav');
  // 700 Hz over 250 ms is 175 whole cycles: the loop is seamless.
  writeFileSync(path, encodeWav(generateTone(700, 250, RATE, 8000)));
  const frames = await playFile(t, path);
  t.true(frames.length >= 60, `${frames.length} frames`);
  const last = Buffer.concat(frames.slice(-25));
  t.true(toneShare(last, 700) > 0.8, 'still the tone after six loops');
  t.is(toneOf(frames.map((pcm) => ({ pcm, kind: 'frame' as const, ts: 0 }))), 700);
});

test.serial('a stereo WAV is averaged to mono', async (t) => {
  const path = join(dir, 'stereo.wav');
  const tone = generateTone(900, 250, RATE, 16000);
  writeFileSync(path, encodeWav(stereo(tone, Buffer.alloc(tone.length)), RATE, 2));
  const frames = await playFile(t, path);
  const last = Buffer.concat(frames.slice(-25));
  t.true(toneShare(last, 900) > 0.8);
  // Half of 16000, the average of the tone and silence: an RMS of 8000 / √2 = 5657.
  let sum = 0;
  for (let i = 0; i < last.length; i += 2) sum += last.readInt16LE(i) ** 2;
  const rms = Math.sqrt(sum / (last.length / 2));
  t.true(rms > 4000 && rms < 7500, `rms ${rms}`);
});

test.serial(
  'a missing file: capture errors with backoff while the leg goes on, then the file is back',
  async (t) => {
    const path = join(dir, 'later.wav');
    const { x, s } = await engineAndSession(t, { capture: { kind: 'file', path } });
    s.s.start({ ip: LOCAL, port: x.port });
    x.e.start({ ip: LOCAL, port: s.port });
    type CaptureEvent = { state: string; message?: string; retryInMs?: number };
    const events = () => x.of('capture') as CaptureEvent[];
    let wrote = false;
    await pace(
      400,
      (k) => {
        s.s.sendFrame(toneFrame(440, k));
        if (!wrote && events().length === 2) {
          writeFileSync(path, encodeWav(generateTone(700, 250, RATE, 8000)));
          wrote = true;
        }
      },
      () => received(s.s.stats()) >= 25,
    );
    const [first, second, back] = events();
    t.is(first?.state, 'error');
    t.regex(first?.message ?? '', /later\.wav: No such file or directory/);
    t.true(first!.retryInMs! >= 350 && first!.retryInMs! <= 500, `first retry ${first?.retryInMs}`);
    t.true(second!.retryInMs! >= 700 && second!.retryInMs! <= 1000, `then ${second?.retryInMs}`);
    t.deepEqual(back, { state: 'open' });
    const st = x.e.stop()!;
    t.true(st.received >= 50, `the leg went on: ${st.received} received`);
    t.true(toneShare(Buffer.concat(s.played.slice(-10).map((p) => p.pcm)), 700) > 0.5);
  },
);

test.serial('a WAV the engine cannot use: the reason, as wav.ts says it', async (t) => {
  const path = join(dir, 'narrow.wav');
  writeFileSync(path, encodeWav(generateTone(700, 250, 8000, 8000), 8000));
  const x = engine({ capture: { kind: 'file', path } });
  t.teardown(() => x.e.close());
  x.e.start({ ip: LOCAL, port: 9 });
  await until(() => x.of('capture').length > 0, 'the error');
  t.like(x.of('capture')[0], {
    state: 'error',
    message: `${path}: 8000 Hz; need 48000 Hz (convert: sox IN.wav -r 48000 -c 1 -b 16 OUT.wav)`,
  });
});

test.serial('an ALSA microphone: opened for a leg that sends, its frames go out', async (t) => {
  const x = engine({ capture: { kind: 'alsa', pcm: 'babel_zero' } });
  const y = engine();
  t.teardown(() => {
    x.e.close();
    y.e.close();
  });
  x.e.start({ ip: LOCAL, port: y.port, direction: 'send' });
  y.e.start({ ip: LOCAL, port: x.port, direction: 'receive' });
  // The null plugin runs faster than real time: enough to see the frames go out.
  await until(
    () => received(y.e.stats()) >= 20 && x.of('capture').length > 0,
    'the microphone open and frames from it',
  );
  x.e.stop();
  t.deepEqual(x.of('capture'), [{ state: 'open' }]);
  t.like(y.e.stop(), { invalid: 0, decodeErrors: 0 });
});

test.serial('an ALSA PCM that does not exist: ALSA says why, retried with backoff', async (t) => {
  const x = engine({ capture: { kind: 'alsa', pcm: 'babel_no_such_pcm' } });
  t.teardown(() => x.e.close());
  x.e.start({ ip: LOCAL, port: 9 });
  await until(() => x.of('capture').length >= 2, 'two attempts');
  const [first, second] = x.of('capture') as Array<{ message: string; retryInMs: number }>;
  t.like(first, {
    state: 'error',
    message:
      'babel_no_such_pcm: snd_pcm_open: No such file or directory (Unknown PCM babel_no_such_pcm)',
  });
  t.true(second!.retryInMs >= 700 && second!.retryInMs <= 1000);
  t.like(x.e.stop(), { packetsSent: 0 });
});

/**
 * The first `n` datagrams an engine sends with microphone `capture`, beside those of a TS
 * MediaPipeline with the same RTP start fed `frames`: Opus is deterministic, so the same
 * samples give the same bytes.
 */
async function sameAsTs(
  t: import('ava').ExecutionContext,
  capture: import('./engine-harness.ts').EngineOptions['capture'],
  frames: () => Buffer,
  n = 30,
) {
  const { got, port } = await sent({ ...(capture ? { capture } : {}) }, n);
  const want = tsSent(port, Array.from({ length: n }, frames));
  for (let k = 0; k < n; k++) t.deepEqual(got[k], want[k], `datagram ${k}`);
}

test.serial('tone capture: the samples of capture-tone.ts, so the same datagrams', (t) =>
  sameAsTs(t, { kind: 'tone', hz: 440 }, toneFrames(440, 960)),
);

test.serial('file capture: a stereo file running across its end, as capture-file.ts', async (t) => {
  const path = join(dir, 'short.wav');
  // 110 ms: frames run across the end of the file and on from its start.
  const left = generateTone(500, 110, RATE, 9000);
  const right = generateTone(1300, 110, RATE, 5000);
  const file = encodeWav(stereo(left, right), RATE, 2);
  writeFileSync(path, file);
  const mono = decodeWav(file);
  let at = 0;
  const frames = () => {
    const out = Buffer.alloc(1920);
    for (let i = 0; i < 1920; i += 2, at = (at + 2) % mono.length)
      out.writeInt16LE(mono.readInt16LE(at), i);
    return out;
  };
  await sameAsTs(t, { kind: 'file', path }, frames);
});
