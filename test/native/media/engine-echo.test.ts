/**
 * Echo control on the engine thread (native/media/src/echo.c wired into the engine): the
 * microphone's frames go through it before the encoder, so an engine with echo options
 * sends exactly the datagrams of a TS MediaPipeline fed by a TS EchoControl
 * (device/media/echo/control.ts) with the same options; with no far end the processing
 * does not depend on time. An 'aec' engine hearing the far end in its microphone says so
 * ('echo' events); bad echo options throw, naming the option.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { toneFrames } from '../../../device/audio/capture-tone.ts';
import { encodeWav } from '../../../device/audio/wav.ts';
import { toPcm } from '../../helpers/echo-path.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import {
  type EngineEcho,
  engine,
  LOCAL,
  media,
  RATE,
  sent,
  tsEcho,
  tsSent,
  until,
} from './engine-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'babel-media-echo-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const N = 30;

/** The TS side: tone frames through a TS EchoControl (micGainDb changed before `switchAt`). */
function tsFrames(echo: EngineEcho, n: number, gainAfter?: { db: number; at: number }) {
  const control = tsEcho(echo);
  const tone = toneFrames(440, 960);
  return Array.from({ length: n }, (_, k) => {
    if (gainAfter && k === gainAfter.at) control.setMicGainDb(gainAfter.db);
    return control.capture(tone(), k * 20);
  });
}

const cases: Array<[string, EngineEcho]> = [
  ["'off' with a microphone gain", { mode: 'off', micGainDb: 6 }],
  [
    "'off' with noise suppression and automatic gain",
    { mode: 'off', micGainDb: -4, noiseSuppression: true, autoGain: true },
  ],
  [
    "'aec' with noise suppression (no far end: the canceller's output)",
    { mode: 'aec', noiseSuppression: true, playbackDelayMs: 80, speakerVolume: 70 },
  ],
  ["'duck' with a gain (no far end: never ducked)", { mode: 'duck', micGainDb: 3 }],
];

for (const [name, echo] of cases) {
  test.serial(`${name}: the datagrams of a TS pipeline fed by a TS EchoControl`, async (t) => {
    const { got, port } = await sent({ capture: { kind: 'tone', hz: 440 }, echo }, N);
    const want = tsSent(port, tsFrames(echo, N));
    for (let k = 0; k < N; k++) t.deepEqual(got[k], want[k], `datagram ${k}`);
    // Not the datagrams of the tone as it is: the echo control did something.
    const plain = tsSent(port, tsFrames({ mode: 'off' }, N));
    t.notDeepEqual(got, plain);
  });
}

test.serial(
  'setMicGainDb mid-call: the frames from the next one on, as a TS EchoControl changed there',
  async (t) => {
    const echo: EngineEcho = { mode: 'off', noiseSuppression: true };
    let before = 0;
    let after = 0;
    const { got, port } = await sent({ capture: { kind: 'tone', hz: 440 }, echo }, 40, {
      at: 12,
      run: (x, so) => {
        before = so.length; // sent before the change, so with the old gain
        x.e.setMicGainDb(-9);
        after = x.e.stats()!.packetsSent; // everything sent later has the new gain
      },
    });
    t.true(before >= 12 && after >= before && after < 40, `${before}..${after}`);
    const switches: number[] = [];
    for (let at = before; at <= after; at++) {
      const want = tsSent(port, tsFrames(echo, 40, { db: -9, at }));
      if (want.every((d, k) => d.equals(got[k]!))) switches.push(at);
    }
    t.is(switches.length, 1, `the change took effect at one frame: ${switches}`);
  },
);

/**
 * Speech-like bursts repeating every `periodMs`: the far end and the microphone both loop
 * them, so whatever the offset of the two loops, the microphone holds the far end at some
 * delay under the tracker's 400 ms.
 */
function burstLoop(periodMs: number): Buffer {
  const rnd = mulberry32(5);
  const n = (RATE * periodMs) / 1000;
  const y = new Float64Array(n);
  let lp = 0;
  for (const [from, len] of [
    [0, 0.06],
    [0.11, 0.03],
    [0.19, 0.05],
  ] as const) {
    const a = Math.round(from * RATE);
    const m = Math.round(len * RATE);
    for (let k = 0; k < m; k++) {
      lp = lp * 0.6 + (rnd() * 2 - 1) * 0.4;
      y[a + k] = lp * 0.5 * Math.sin((Math.PI * k) / m);
    }
  }
  return toPcm(y);
}

test.serial(
  "an 'aec' engine whose microphone holds the far end: 'echo' heard, with the delay",
  async (t) => {
    const path = join(dir, 'bursts.wav');
    writeFileSync(path, encodeWav(burstLoop(250)));
    const far = engine({ capture: { kind: 'file', path } });
    const near = engine({
      capture: { kind: 'file', path },
      echo: { mode: 'aec', playbackDelayMs: 0 },
    });
    t.teardown(() => {
      far.e.close();
      near.e.close();
    });
    far.e.start({ ip: LOCAL, port: near.port });
    near.e.start({ ip: LOCAL, port: far.port });
    await until(
      () => near.of('echo').some((e) => (e as { event: string }).event === 'heard'),
      "'echo' heard",
      10_000,
    );
    const events = near.of('echo') as Array<{ event: string; delayMs: number }>;
    const heard = events.filter((e) => e.event === 'heard');
    t.is(heard.length, 1, 'said once');
    t.true(heard[0]!.delayMs >= 0 && heard[0]!.delayMs <= 400, `delay ${heard[0]!.delayMs}`);
    for (const e of events) t.true(e.event === 'heard' || e.event === 'delay');
    t.deepEqual(far.of('echo'), [], 'no echo control, no events');
  },
);

test.serial('bad echo options throw TypeError or RangeError naming the option', (t) => {
  const cb = () => {};
  const cases: Array<[unknown, ErrorConstructor, RegExp]> = [
    [1, TypeError, /echo must be an object/],
    [{ mode: 'cancel' }, RangeError, /echo.mode/],
    [{ mode: 3 }, TypeError, /echo.mode/],
    [{ micGainDb: '3' }, TypeError, /echo.micGainDb/],
    [{ micGainDb: Number.NaN }, RangeError, /echo.micGainDb/],
    [{ micGainDb: 61 }, RangeError, /echo.micGainDb/],
    [{ speakerVolume: 101 }, RangeError, /echo.speakerVolume/],
    [{ speakerVolume: -1 }, RangeError, /echo.speakerVolume/],
    [{ noiseSuppression: 1 }, TypeError, /echo.noiseSuppression/],
    [{ autoGain: 'yes' }, TypeError, /echo.autoGain/],
    [{ playbackDelayMs: -5 }, RangeError, /echo.playbackDelayMs/],
    [{ playbackDelayMs: Number.POSITIVE_INFINITY }, RangeError, /echo.playbackDelayMs/],
  ];
  for (const [echo, type, message] of cases) {
    t.throws(() => new media.Engine({ host: LOCAL, echo } as never, cb), {
      instanceOf: type,
      message,
    });
  }
  const x = engine({ echo: { mode: 'off' } });
  t.teardown(() => x.e.close());
  t.throws(() => x.e.setSpeakerVolume('50' as never), { instanceOf: TypeError, message: /volume/ });
  t.throws(() => x.e.setMicGainDb(Number.NaN), { instanceOf: RangeError, message: /micGainDb/ });
  t.throws(() => x.e.setMicGainDb(undefined as never), { instanceOf: TypeError });
  // Rounded and clamped as EchoControl.setSpeakerVolume; NaN is silence.
  t.is(x.e.setSpeakerVolume(55.5), 56);
  t.is(x.e.setSpeakerVolume(250), 100);
  t.is(x.e.setSpeakerVolume(-3), 0);
  t.is(x.e.setSpeakerVolume(Number.NaN), 0);
  // An engine without echo options takes the settings too (made on first use).
  const plain = engine();
  t.teardown(() => plain.e.close());
  t.is(plain.e.setSpeakerVolume(40.4), 40);
});
