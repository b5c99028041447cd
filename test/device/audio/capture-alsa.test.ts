import test from 'ava';
import {
  AlsaCapture,
  type AlsaModule,
  type CaptureListener,
  type CaptureOptions,
} from '../../../device/audio/capture-alsa.ts';
import { TONE_AMPLITUDE } from '../../../device/audio/capture-tone.ts';
import { FakeAlsaDevice } from '../../../device/audio/fake-alsa.ts';
import { dominantFrequency, generateTone } from '../../../device/media/tone.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog as log } from '../../helpers/log.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The fake microphone, with every instance's options and close() calls recorded. */
function rig(opts: { periodSize?: number; rate?: number; toneHz?: number } = {}) {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({
    clock,
    toneHz: opts.toneHz ?? 1000,
    amplitude: TONE_AMPLITUDE,
    rate: opts.rate ?? 48000,
  });
  const seen: [string, CaptureOptions][] = [];
  let closes = 0;
  const Spy: AlsaModule = class extends mic.module {
    constructor(pcm: string, options: CaptureOptions, onEvent: CaptureListener) {
      super(pcm, options, onEvent);
      seen.push([pcm, options]);
    }
    override close(): void {
      closes++;
      super.close();
    }
  };
  const capture = new AlsaCapture({
    log,
    clock,
    frameSamples: 960,
    pcm: 'plughw:CARD=Device,DEV=0',
    alsaModule: Spy,
    ...(opts.periodSize ? { periodSize: opts.periodSize } : {}),
  });
  const frames: Buffer[] = [];
  const errors: Error[] = [];
  capture.on('frame', (f) => frames.push(f));
  capture.on('error', (e) => errors.push(e));
  return { clock, mic, capture, frames, errors, seen, closes: () => closes };
}

/** Samples `from` to `to` of the fake's tone, as one buffer. */
const tone = (from: number, to: number) =>
  generateTone(1000, (to * 1000) / 48000, 48000, TONE_AMPLITUDE).subarray(from * 2, to * 2);

/** Largest sample difference between two equally long s16le buffers. */
function worstDiff(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i += 2)
    worst = Math.max(worst, Math.abs(a.readInt16LE(i) - b.readInt16LE(i)));
  return worst;
}

test('opens the PCM with the period size and reframes periods into exact frames', async (t) => {
  const { clock, capture, frames, seen } = rig({ periodSize: 256 });
  await capture.start();
  t.deepEqual(seen, [['plughw:CARD=Device,DEV=0', { periodSize: 256 }]]);
  clock.advance(1000);
  // 187 periods of 256 = 47,872 samples: 49 whole frames, the rest pending.
  t.is(frames.length, 49);
  t.is(capture.stats.frames, 49);
  t.true(frames.every((f) => f.length === 1920));
  const joined = Buffer.concat(frames);
  t.is(dominantFrequency(joined, 48000), 1000);
  t.true(worstDiff(joined, tone(0, 49 * 960)) <= 1, 'the stream is continuous');
  await capture.stop();
  clock.advance(1000);
  t.is(frames.length, 49);
});

test('overrun: counted and reported; the lost periods leave a gap, nothing repeated', async (t) => {
  const { clock, mic, capture, frames } = rig({ periodSize: 480 });
  const overruns: unknown[] = [];
  capture.on('overrun', (o) => overruns.push(o));
  await capture.start();
  clock.advance(100);
  t.is(frames.length, 5);
  mic.overrun(3);
  clock.advance(30);
  t.deepEqual(overruns, [{ lostMs: null }]);
  t.is(capture.stats.overruns, 1);
  clock.advance(100);
  t.is(frames.length, 10);
  // Three periods (1,440 samples) lost in the gap; nothing repeated.
  const expected = Buffer.concat([tone(0, 4800), tone(4800 + 1440, 4800 + 1440 + 4800)]);
  t.true(worstDiff(Buffer.concat(frames), expected) <= 1);
  await capture.stop();
});

test('backlog: periods the addon dropped are reported with how long they lasted', async (t) => {
  const { clock, mic, capture, frames } = rig({ periodSize: 480 });
  const overruns: unknown[] = [];
  capture.on('overrun', (o) => overruns.push(o));
  await capture.start();
  clock.advance(100);
  mic.fallBehind(4);
  clock.advance(100);
  t.deepEqual(overruns, [{ lostMs: 40 }]);
  t.is(capture.stats.overruns, 1);
  const expected = Buffer.concat([tone(0, 4800), tone(4800 + 1920, 4800 + 1920 + 2880)]);
  t.is(frames.length, 8);
  t.true(worstDiff(Buffer.concat(frames), expected) <= 1);
  await capture.stop();
});

test("open failures reject start() with ALSA's message; stop() returns at once", async (t) => {
  const busy = rig();
  busy.mic.failOpens('Device or resource busy');
  await t.throwsAsync(busy.capture.start(), {
    message: 'plughw:CARD=Device,DEV=0: snd_pcm_open: Device or resource busy',
  });
  await busy.capture.stop();
  t.is(busy.mic.openInstances, 0);

  const unplugged = rig();
  unplugged.mic.unplug();
  await t.throwsAsync(unplugged.capture.start(), { message: /No such file or directory$/ });
  await unplugged.capture.stop();
  t.is(unplugged.mic.openInstances, 0);
});

test('a card that cannot do 48 kHz is refused at start, and released', async (t) => {
  const { mic, capture, closes } = rig({ rate: 44100 });
  await t.throwsAsync(capture.start(), { message: /records at 44100 Hz, not 48000 Hz/ });
  await settle();
  t.is(closes(), 1);
  t.is(mic.openInstances, 0);
});

test('unplugged while running: one error, no more frames, close() called once', async (t) => {
  const { clock, mic, capture, frames, errors, closes } = rig({ periodSize: 480 });
  await capture.start();
  clock.advance(100);
  mic.unplug();
  clock.advance(100);
  t.is(errors.length, 1);
  t.is(errors[0]?.message, 'plughw:CARD=Device,DEV=0: device lost: snd_pcm_readi: No such device');
  t.is(frames.length, 5);
  t.is(mic.openInstances, 0);
  await capture.stop();
  t.is(closes(), 1, 'close() once (harmless: the addon had ended)');
});

test('a read error while running ends the capture with the message', async (t) => {
  const { clock, mic, capture, errors } = rig();
  await capture.start();
  clock.advance(40);
  mic.injectError('Input/output error');
  t.is(errors.length, 1);
  t.is(
    errors[0]?.message,
    'plughw:CARD=Device,DEV=0: device lost: snd_pcm_readi: Input/output error',
  );
  await capture.stop();
  t.is(mic.openInstances, 0);
});

test('stop() gives up, bounded, on a capture thread that never lets go', async (t) => {
  const { clock, mic, capture } = rig();
  await capture.start();
  mic.stall();
  const stopped = capture.stop();
  let done = false;
  void stopped.then(() => {
    done = true;
  });
  await settle();
  t.false(done);
  clock.advance(2000);
  await stopped;
  t.true(done);
});

/** An addon whose thread never reports anything (stuck in a blocking open). */
class Silent {
  constructor(_pcm: string, _options: CaptureOptions, _onEvent: CaptureListener) {}
  close(): void {}
}

test('start() rejects when the device neither opens nor fails in time', async (t) => {
  const clock = new FakeClock();
  const capture = new AlsaCapture({ log, clock, frameSamples: 960, pcm: 'x', alsaModule: Silent });
  const started = capture.start();
  clock.advance(5000);
  await t.throwsAsync(started, { message: 'x: did not open within 5000 ms' });
});

test('start() rejects when stopped while opening, and when the module throws', async (t) => {
  const clock = new FakeClock();
  const capture = new AlsaCapture({ log, clock, frameSamples: 960, pcm: 'x', alsaModule: Silent });
  const rejected = t.throwsAsync(capture.start(), { message: /stopped while opening/ });
  const stopped = capture.stop();
  clock.advance(2000); // Silent never emits 'close'
  await stopped;
  await rejected;

  const mic = new FakeAlsaDevice({ clock });
  const bad = new AlsaCapture({
    log,
    clock,
    frameSamples: 960,
    pcm: 'x',
    periodSize: 8,
    alsaModule: mic.module,
  });
  await t.throwsAsync(bad.start(), {
    instanceOf: RangeError,
    message: 'options.periodSize must be an integer from 16 to 48000',
  });
  await t.throwsAsync(bad.start(), { message: /already started/ });
});
