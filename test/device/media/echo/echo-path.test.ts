import test from 'ava';
import pino from 'pino';
import { EchoControl, type EchoMode } from '../../../../device/media/echo/control.ts';
import {
  CONVERGED,
  convolve,
  db,
  doorScene,
  frames,
  mix,
  noise,
  power,
  roomImpulse,
  toPcm,
} from '../../../helpers/echo-path.ts';

// A simulated echo path (issue 12): far-end speech through a room impulse response with
// 30-200 ms of delay, mixed into the microphone with near-end speech and a -70 dBFS noise
// floor, through the device's echo control frame by frame on a 20 ms clock.
const SECONDS = 8;
const { far, near, floor } = doorScene(SECONDS);
const log = pino({ level: 'silent' });

function run(
  mic: Float64Array,
  mode: EchoMode = 'aec',
  noiseSuppression = false, // the default
): { mic: Buffer; out: Buffer } {
  const c = new EchoControl({
    mode,
    frameSamples: 960,
    micGainDb: 0,
    speakerVolume: 100,
    noiseSuppression,
    autoGain: false,
    playbackDelayMs: 0,
    log,
  });
  const farFrames = frames(toPcm(far));
  const micPcm = toPcm(mic);
  const out = frames(micPcm).map((m, i) => {
    c.playback(farFrames[i]!, i * 20);
    return c.capture(m, i * 20 + 20); // a frame is complete one frame after it starts
  });
  return { mic: micPcm, out: Buffer.concat(out) };
}

for (const delayMs of [30, 100, 200]) {
  const echo = convolve(far, roomImpulse(delayMs, 0.5, delayMs));

  test(`far end only, ${delayMs} ms echo: ERLE >= 25 dB after 2 s`, (t) => {
    const { mic, out } = run(mix(echo, floor));
    const erle = db(power(mic, CONVERGED) / power(out, CONVERGED));
    t.true(erle >= 25, `ERLE ${erle.toFixed(1)} dB`);
  });

  test(`double talk, ${delayMs} ms echo: the near end's level within 3 dB`, (t) => {
    const { out } = run(mix(echo, near, floor));
    const change = db(power(out, CONVERGED) / power(toPcm(near), CONVERGED));
    t.true(Math.abs(change) <= 3, `near end changed by ${change.toFixed(2)} dB`);
  });
}

test('no echo path: the output is the input within 1 dB', (t) => {
  const { mic, out } = run(mix(near, floor));
  const change = db(power(out, CONVERGED) / power(mic, CONVERGED));
  t.true(Math.abs(change) <= 1, `changed by ${change.toFixed(2)} dB`);
});

test('noise suppression on: ERLE and double talk hold, and steady noise goes down', (t) => {
  const echo = convolve(far, roomImpulse(100, 0.5, 100));
  const a = run(mix(echo, floor), 'aec', true);
  t.true(db(power(a.mic, CONVERGED) / power(a.out, CONVERGED)) >= 25);
  const b = run(mix(echo, near, floor), 'aec', true);
  t.true(Math.abs(db(power(b.out, CONVERGED) / power(toPcm(near), CONVERGED))) <= 3);
  const hum = noise(far.length, -40, 3);
  const c = run(hum, 'off', true);
  const d = run(hum, 'off', false);
  t.true(db(power(c.mic, CONVERGED) / power(c.out, CONVERGED)) >= 10, 'suppressed');
  t.true(Math.abs(db(power(d.mic, CONVERGED) / power(d.out, CONVERGED))) <= 0.1, 'untouched');
});

test('echo off: the echo comes through unchanged', (t) => {
  const echo = convolve(far, roomImpulse(100, 0.5, 100));
  const { mic, out } = run(mix(echo, floor), 'off');
  const change = db(power(out, CONVERGED) / power(mic, CONVERGED));
  t.true(Math.abs(change) <= 1, `changed by ${change.toFixed(2)} dB`);
});

test('without the addon: ducking instead, with one warning', (t) => {
  const warnings: unknown[] = [];
  const warnLog = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  const c = new EchoControl({
    mode: 'aec',
    frameSamples: 960,
    micGainDb: 0,
    speakerVolume: 100,
    noiseSuppression: true,
    autoGain: false,
    playbackDelayMs: 60,
    log: warnLog,
    loadDsp: () => {
      throw new Error("Cannot find module 'babel-dsp'");
    },
  });
  t.is(c.mode, 'duck');
  t.is(warnings.length, 1);
  t.regex(String(warnings[0]), /ducking the microphone instead/);
  const echo = convolve(far, roomImpulse(60, 0.5, 60));
  const farFrames = frames(toPcm(far));
  const micFrames = frames(toPcm(mix(echo, floor)));
  let ducked = 0;
  for (let i = 0; i < micFrames.length; i++) {
    c.playback(farFrames[i]!, i * 20);
    const out = c.capture(micFrames[i]!, i * 20 + 20);
    if (power(out) < power(micFrames[i]!) / 100) ducked++;
  }
  t.true(ducked > micFrames.length / 2, `${ducked} of ${micFrames.length} frames ducked`);
});

test('volume and mic gain: the speaker frame scaled, the reference is what plays', (t) => {
  const c = new EchoControl({
    mode: 'off',
    frameSamples: 960,
    micGainDb: 20,
    speakerVolume: 50,
    noiseSuppression: false,
    autoGain: false,
    playbackDelayMs: 0,
    log,
  });
  const one = Buffer.alloc(1920);
  one.writeInt16LE(1000, 0);
  t.is(c.playback(one, 0).readInt16LE(0), 250);
  t.is(c.capture(one, 20).readInt16LE(0), 10000);
  c.setSpeakerVolume(120);
  t.is(c.speakerVolume, 100);
  t.is(c.playback(one, 20), one);
  c.setMicGainDb(0);
  t.is(c.capture(one, 40), one);
});

test('no echo heard (steady tones both ways): the microphone passes bit-exact', (t) => {
  const c = new EchoControl({
    mode: 'aec',
    frameSamples: 960,
    micGainDb: 0,
    speakerVolume: 100,
    noiseSuppression: false,
    autoGain: false,
    playbackDelayMs: 0,
    log,
  });
  const tone = (hz: number, i: number) => {
    const b = Buffer.alloc(1920);
    for (let k = 0; k < 960; k++) {
      b.writeInt16LE(
        Math.round(8192 * Math.sin((2 * Math.PI * hz * (i * 960 + k)) / 48_000)),
        k * 2,
      );
    }
    return b;
  };
  for (let i = 0; i < 200; i++) {
    c.playback(tone(1000, i), i * 20);
    const mic = tone(440, i);
    t.deepEqual(c.capture(mic, i * 20 + 20), mic);
  }
  t.false(c.cancelling);
});
