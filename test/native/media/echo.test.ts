// The C echo control (native/media/src/echo.c, with echo_delay.c and native/dsp/src/
// dsp_core.c) against its specification, the TypeScript EchoControl (device/media/echo/
// control.ts, over this tree's babel-dsp, which runs the same dsp_core.c): the same frames
// at the same times through both, and after every frame the speaker's and the
// microphone's outputs byte-equal, the same delayMs and cancelling, the same events as
// the TypeScript logs.
import { createRequire } from 'node:module';
import test from 'ava';
import pino from 'pino';
import { EchoControl, type EchoMode } from '../../../device/media/echo/control.ts';
import type { DspModule } from '../../../device/media/echo/dsp.ts';
import { convolve, frames, noise, roomImpulse, speech, toPcm } from '../../helpers/echo-path.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const require = createRequire(import.meta.url);

interface EchoOptions {
  mode: EchoMode;
  frameSamples: number;
  micGainDb: number;
  speakerVolume: number;
  noiseSuppression: boolean;
  autoGain: boolean;
  playbackDelayMs: number;
}

interface NativeEcho {
  playback(pcm: Buffer, now: number): Buffer;
  capture(pcm: Buffer, now: number): Buffer;
  setSpeakerVolume(v: number): void;
  setMicGainDb(db: number): void;
  events(): Array<[string, number]>;
  readonly mode: EchoMode;
  readonly delayMs: number;
  readonly cancelling: boolean;
  readonly speakerVolume: number;
}

const { Echo } = (
  require('../../../native/media/index.js') as {
    _test: { Echo: new (o: EchoOptions) => NativeEcho };
  }
)._test;
// This tree's babel-dsp (node_modules may point at another checkout's build).
const dsp = require('../../../native/dsp/index.js') as DspModule;

const RATE = 48_000;

/**
 * Speech-like noise: bursts of 80-380 ms of low-passed noise under a syllable envelope,
 * with 50-400 ms pauses, seeded.
 */
function bursts(seconds: number, seed: number, level: number): Float64Array {
  const rnd = mulberry32(seed);
  const y = new Float64Array(Math.round(seconds * RATE));
  let lp = 0;
  for (let i = Math.floor(rnd() * 9600); i < y.length; ) {
    const len = Math.floor((0.08 + rnd() * 0.3) * RATE);
    const amp = level * (0.3 + rnd() * 0.7);
    const hz = 3 + rnd() * 4;
    for (let k = 0; k < len && i + k < y.length; k++) {
      lp = lp * 0.7 + (rnd() * 2 - 1) * 0.3;
      const env =
        Math.sin((Math.PI * k) / len) * (0.6 + 0.4 * Math.sin((2 * Math.PI * hz * k) / RATE));
      y[i + k] = lp * amp * env * 3;
    }
    i += len + Math.floor((0.05 + rnd() * 0.35) * RATE);
  }
  return y;
}

interface Scenario extends Partial<EchoOptions> {
  seconds: number;
  /** The far end (before the speaker's volume); default: bursts. */
  far?: Float64Array;
  /** The echo's delay behind what the speaker is handed, ms, and its gain; or a fixed mic. */
  echoMs?: number;
  echoGain?: number;
  /** A microphone signal prepared in full (the echo included), instead of echoMs. */
  mic?: Float64Array;
  /** From this frame on the echo comes back this much later (the room changed). */
  echoMsFrom?: [number, number];
  /** The local talker beside the echo (default: bursts at a lower level, another seed). */
  local?: Float64Array;
  volumeAt?: [number, number];
  micGainAt?: [number, number];
  /** Before this frame the clock jumps ahead by `ms` (a capture stall). */
  stallAt?: [number, number];
}

interface Outcome {
  frames: number;
  mismatch: string | null;
  cancelling: boolean;
  delayMs: number;
  events: Array<[string, number]>;
  processed: number;
}

const equalPcm = (a: Buffer, b: Buffer) => a.length === b.length && a.equals(b);

function firstDiff(a: Buffer, b: Buffer): string {
  for (let o = 0; o + 1 < Math.min(a.length, b.length); o += 2) {
    if (a.readInt16LE(o) !== b.readInt16LE(o)) {
      return `sample ${o / 2}: ts ${a.readInt16LE(o)}, c ${b.readInt16LE(o)}`;
    }
  }
  return `lengths ${a.length}, ${b.length}`;
}

function run(s: Scenario): Outcome {
  const o: EchoOptions = {
    mode: s.mode ?? 'aec',
    frameSamples: s.frameSamples ?? 960,
    micGainDb: s.micGainDb ?? 0,
    speakerVolume: s.speakerVolume ?? 100,
    noiseSuppression: s.noiseSuppression ?? false,
    autoGain: s.autoGain ?? false,
    playbackDelayMs: s.playbackDelayMs ?? 0,
  };
  const logged: Array<[string, number]> = [];
  const log = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const r = JSON.parse(line) as { msg: string; delayMs?: number; est?: { delayMs: number } };
        if (r.msg === 'echo heard: cancelling') logged.push(['heard', r.delayMs!]);
        if (r.msg === 'echo delay measured') logged.push(['delayMeasured', r.est!.delayMs]);
      },
    },
  );
  const ts = new EchoControl({ ...o, log, loadDsp: () => dsp });
  const c = new Echo(o);
  const n = o.frameSamples;
  const frameMs = n / 48;
  const total = Math.floor((s.seconds * RATE) / n);
  const farFrames = frames(toPcm(s.far ?? bursts(s.seconds, 11, 0.5)), n);
  const local = s.local ?? bursts(s.seconds, 29, 0.12).fill(0, 0, 3 * RATE); // talks from 3 s
  const floor = noise(total * n, -60);
  const micPcm = s.mic ? toPcm(s.mic) : null;
  const played = new Float64Array(total * n);
  const rnd = mulberry32(5);
  const jitter = () => (rnd() - 0.5) * 3; // +-1.5 ms of scheduling noise, well under RESYNC
  let clock = 123_456.789;
  const events: Array<[string, number]> = [];
  let processed = 0;
  const fail = (i: number, what: string): Outcome => ({
    frames: i,
    mismatch: `frame ${i}: ${what}`,
    cancelling: ts.cancelling,
    delayMs: ts.delayMs,
    events,
    processed,
  });
  for (let i = 0; i < total; i++) {
    if (s.volumeAt?.[0] === i) {
      ts.setSpeakerVolume(s.volumeAt[1]);
      c.setSpeakerVolume(s.volumeAt[1]);
      if (c.speakerVolume !== ts.speakerVolume) return fail(i, 'speakerVolume');
    }
    if (s.micGainAt?.[0] === i) {
      ts.setMicGainDb(s.micGainAt[1]);
      c.setMicGainDb(s.micGainAt[1]);
    }
    if (s.stallAt?.[0] === i) clock += s.stallAt[1];
    const tPlay = clock + jitter();
    const tCap = clock + frameMs + jitter();
    const a = ts.playback(farFrames[i]!, tPlay);
    const b = c.playback(farFrames[i]!, tPlay);
    if (!equalPcm(a, b)) return fail(i, `playback differs at ${firstDiff(a, b)}`);
    for (let k = 0; k < n; k++) played[i * n + k] = a.readInt16LE(k * 2) / 32768;
    let mic: Buffer;
    if (micPcm) {
      mic = micPcm.subarray(i * n * 2, (i + 1) * n * 2);
    } else {
      const echoMs = s.echoMsFrom && i >= s.echoMsFrom[0] ? s.echoMsFrom[1] : (s.echoMs ?? 0);
      const d = Math.round(echoMs * 48);
      const x = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const at = i * n + k;
        const e = s.echoMs !== undefined && at >= d ? played[at - d]! * (s.echoGain ?? 0.4) : 0;
        x[k] = e + (local[at] ?? 0) + floor[at]!;
      }
      mic = toPcm(x);
    }
    const x = ts.capture(mic, tCap);
    const y = c.capture(mic, tCap);
    if (!equalPcm(x, y)) return fail(i, `capture differs at ${firstDiff(x, y)}`);
    if (!x.equals(mic)) processed++;
    if (c.delayMs !== ts.delayMs) return fail(i, `delayMs ts ${ts.delayMs}, c ${c.delayMs}`);
    if (c.cancelling !== ts.cancelling) return fail(i, `cancelling ts ${ts.cancelling}`);
    const ce = c.events();
    const te = logged.splice(0);
    if (JSON.stringify(ce) !== JSON.stringify(te)) {
      return fail(i, `events ts ${JSON.stringify(te)}, c ${JSON.stringify(ce)}`);
    }
    events.push(...ce);
    clock += frameMs;
  }
  if (c.mode !== ts.mode) return fail(total, `mode ts ${ts.mode}, c ${c.mode}`);
  return {
    frames: total,
    mismatch: null,
    cancelling: ts.cancelling,
    delayMs: ts.delayMs,
    events,
    processed,
  };
}

const moved = (r: Outcome) => r.events.some(([e]) => e === 'delayMeasured');

// aec: echoes inside the filter's reach of the first bulk, and beyond it (the reference
// moves), with and without aplay's playback delay, 20 and 10 ms frames.
for (const [echoMs, playbackDelayMs, frameSamples, move] of [
  [30, 0, 960, false],
  [120, 0, 960, true],
  [200, 0, 480, true],
  [120, 100, 960, false],
  [260, 100, 480, true],
] as const) {
  test(`aec, echo ${echoMs} ms, playback delay ${playbackDelayMs} ms, ${frameSamples}-sample frames: C = TS frame by frame`, (t) => {
    const r = run({ seconds: 6, echoMs, playbackDelayMs, frameSamples });
    t.is(r.mismatch, null);
    t.true(r.cancelling, 'the echo is heard');
    t.is(
      moved(r),
      move,
      `the reference moves when the echo is out of reach: ${JSON.stringify(r.events)}`,
    );
    t.true(r.processed > r.frames / 2, 'the canceller output is in use');
  });
}

test('aec with noise suppression and automatic gain: C = TS', (t) => {
  const r = run({ seconds: 5, echoMs: 90, noiseSuppression: true, autoGain: true });
  t.is(r.mismatch, null);
  t.true(r.cancelling);
  t.true(r.processed >= r.frames - 1);
  // Noise suppression alone, no echo: the preprocessor's output is used from the start.
  const r2 = run({ seconds: 3, noiseSuppression: true, frameSamples: 480 });
  t.is(r2.mismatch, null);
  t.true(r2.processed >= r2.frames - 1);
});

test('aec without an echo (a headset): the microphone passes, C = TS', (t) => {
  const local = speech('Hello, who is there? I will be down in a minute.', 'en+f3', 4);
  const r = run({ seconds: 4, local });
  t.is(r.mismatch, null);
  t.false(r.cancelling, JSON.stringify(r.events));
  t.is(r.processed, 0);
});

test('aec, a speaker volume change and a mic gain change mid-way: C = TS', (t) => {
  const r = run({
    seconds: 5,
    echoMs: 60,
    speakerVolume: 80,
    micGainDb: 3.5,
    volumeAt: [100, 37.6],
    micGainAt: [150, -4.25],
  });
  t.is(r.mismatch, null);
  t.true(r.cancelling);
});

test('aec, a capture stall (the clock jumps 300 ms, then 15 ms): the reference re-anchors in both', (t) => {
  const r = run({ seconds: 6, echoMs: 110, stallAt: [120, 300] });
  t.is(r.mismatch, null);
  t.true(r.cancelling);
  const r2 = run({ seconds: 4, echoMs: 40, frameSamples: 480, stallAt: [200, 15] });
  t.is(r2.mismatch, null);
});

test('aec, settled then the echo path changes: the 10 s re-measure moves the reference in both', (t) => {
  const r = run({ seconds: 24, echoMs: 40, echoMsFrom: [250, 180] });
  t.is(r.mismatch, null);
  t.true(r.cancelling);
  t.true(moved(r), JSON.stringify(r.events));
});

test('aec over espeak-ng speech through a room (the echo-path tests signals): C = TS', (t) => {
  const seconds = 5;
  const far = speech('Please come to the front door, the parcel is here.', 'en+m3', seconds);
  const near = speech('Hello, who is there? Wait for me please.', 'en+f3', seconds);
  const echo = convolve(far, roomImpulse(150, 0.5, 150));
  const mic = new Float64Array(far.length);
  for (let i = 0; i < mic.length; i++) mic[i] = echo[i]! + (i > 2 * RATE ? near[i]! * 0.5 : 0);
  const r = run({ seconds, far, mic });
  t.is(r.mismatch, null);
  t.true(r.cancelling);
});

test('duck: C = TS, with and without noise suppression, 20 and 10 ms', (t) => {
  for (const [noiseSuppression, frameSamples] of [
    [false, 960],
    [true, 480],
  ] as const) {
    const r = run({
      seconds: 4,
      mode: 'duck',
      echoMs: 50,
      noiseSuppression,
      frameSamples,
      volumeAt: [80, 55],
    });
    t.is(r.mismatch, null);
    t.true(r.processed > 10, 'the microphone is ducked');
  }
});

test('off with a mic gain (clipping included), and off with automatic gain: C = TS', (t) => {
  const r = run({ seconds: 3, mode: 'off', echoMs: 50, micGainDb: 12, micGainAt: [60, 20] });
  t.is(r.mismatch, null);
  t.true(r.processed > 0);
  const r2 = run({ seconds: 3, mode: 'off', echoMs: 50, autoGain: true, frameSamples: 480 });
  t.is(r2.mismatch, null);
  const r3 = run({ seconds: 2, mode: 'off', speakerVolume: 63 });
  t.is(r3.mismatch, null);
  t.is(r3.processed, 0);
});

test('setSpeakerVolume rounds and clamps as the TypeScript does', (t) => {
  const e = new Echo({
    mode: 'off',
    frameSamples: 960,
    micGainDb: 0,
    speakerVolume: 50,
    noiseSuppression: false,
    autoGain: false,
    playbackDelayMs: 0,
  });
  for (const [v, want] of [
    [42.5, 43],
    [-3, 0],
    [180, 100],
    [99.49, 99],
    [Number.NaN, 0],
  ] as const) {
    e.setSpeakerVolume(v);
    t.is(e.speakerVolume, want, `${v}`);
  }
});

test('bad options and frames throw TypeError or RangeError', (t) => {
  const ok: EchoOptions = {
    mode: 'aec',
    frameSamples: 960,
    micGainDb: 0,
    speakerVolume: 100,
    noiseSuppression: false,
    autoGain: false,
    playbackDelayMs: 0,
  };
  t.throws(() => new Echo({ ...ok, frameSamples: 500 }), { instanceOf: RangeError });
  t.throws(() => new Echo({ ...ok, mode: 'loud' as EchoMode }), { instanceOf: RangeError });
  t.throws(() => new Echo({ ...ok, micGainDb: Number.NaN }), { instanceOf: RangeError });
  t.throws(() => new Echo({ ...ok, autoGain: 1 as unknown as boolean }), { instanceOf: TypeError });
  t.throws(() => (Echo as unknown as () => void)(), { instanceOf: TypeError });
  const e = new Echo(ok);
  t.throws(() => e.capture(Buffer.alloc(960), 0), { instanceOf: RangeError });
  t.throws(() => e.playback('pcm' as unknown as Buffer, 0), { instanceOf: TypeError });
  t.throws(() => e.capture(Buffer.alloc(1920), 'now' as unknown as number), {
    instanceOf: TypeError,
  });
  // An odd byteOffset is copied.
  t.is(e.capture(Buffer.alloc(1921).subarray(1), 20).length, 1920);
});
