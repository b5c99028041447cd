import test from 'ava';
import { AlsaCapture } from '../../../device/audio/capture-alsa.ts';
import { ArecordCapture } from '../../../device/audio/capture-arecord.ts';
import { FileCapture } from '../../../device/audio/capture-file.ts';
import { PacedCapture } from '../../../device/audio/capture-silence.ts';
import {
  createCapture,
  createPlayback,
  createResilientCapture,
  createResilientPlayback,
  parseCaptureSpec,
  parsePlaybackSpec,
} from '../../../device/audio/index.ts';
import { AplayPlayback } from '../../../device/audio/playback-aplay.ts';
import { FilePlayback } from '../../../device/audio/playback-file.ts';
import { NullPlayback } from '../../../device/audio/playback-null.ts';
import { dominantFrequency } from '../../../device/media/tone.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';
import { fakeSpawn } from './fixtures/fake-child.ts';

const deps = () => ({
  log,
  clock: new FakeClock(),
  frameSamples: 960,
  spawnFn: fakeSpawn().spawnFn,
});

const captures: [string, new (...args: never[]) => unknown][] = [
  ['alsa:default', AlsaCapture],
  ['fake-alsa:440', AlsaCapture],
  ['arecord:default', ArecordCapture],
  ['file:/tmp/x.wav', FileCapture],
  ['tone:440', PacedCapture],
  ['silence', PacedCapture],
];

for (const [spec, type] of captures) {
  test(`createCapture(${spec}) makes a ${type.name}`, (t) => {
    t.true(createCapture(parseCaptureSpec(spec), deps()) instanceof type);
  });
}

const playbacks: [string, new (...args: never[]) => unknown][] = [
  ['aplay:default', AplayPlayback],
  ['file:/tmp/x.wav', FilePlayback],
  ['null', NullPlayback],
];

for (const [spec, type] of playbacks) {
  test(`createPlayback(${spec}) makes a ${type.name}`, (t) => {
    t.true(createPlayback(parsePlaybackSpec(spec), deps()) instanceof type);
  });
}

test('frame sizes other than 960 and 480 are refused', (t) => {
  for (const frameSamples of [0, 320, 1920]) {
    t.throws(() => createCapture({ kind: 'silence' }, { ...deps(), frameSamples }), {
      instanceOf: RangeError,
    });
    t.throws(() => createResilientPlayback({ kind: 'null' }, { ...deps(), frameSamples }), {
      instanceOf: RangeError,
    });
  }
});

test('fake-alsa:HZ runs the alsa backend on the fake module: the laptop microphone', async (t) => {
  const d = { ...deps(), frameSamples: 480 };
  const capture = createResilientCapture(parseCaptureSpec('fake-alsa:1000'), d);
  const frames: Buffer[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  t.is(capture.state, 'running');
  d.clock.advance(500);
  t.is(frames.length, 50);
  t.true(frames.every((f) => f.length === 960));
  t.is(dominantFrequency(Buffer.concat(frames), 48000), 1000);
  await capture.stop();
});
