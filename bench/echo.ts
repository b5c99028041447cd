/**
 * Echo control benchmark (issue 12): the device's echo path (device/media/echo/control.ts
 * over babel-dsp) on a simulated room, and its CPU beside Opus encode in the same run.
 *
 *   node --import tsx bench/echo.ts
 *
 * Far-end and near-end speech from espeak-ng (test/helpers/echo-path.ts), the far end
 * through a room impulse response with 30, 100 and 200 ms of delay into the microphone.
 * - ERLE: microphone power over output power with the far end alone, after 2 s; the worst
 *   of the three delays.
 * - Double talk: the output's level against the near end's alone, after 2 s; the largest
 *   change of the three.
 * - CPU per 20 ms frame, once converged: EchoControl (speaker frame plus microphone frame:
 *   volume, reference, delay tracking, speexdsp) and Opus encode of the same microphone
 *   frames at the device's default complexity (5) and bitrate.
 *
 * Goals: ERLE >= 25 dB, double-talk change within +-3 dB, the echo path's CPU no more than
 * Opus encode's.
 */
import pino from 'pino';
import { EchoControl } from '../device/media/echo/control.ts';
import { OpusCodec } from '../device/media/opus.ts';
import {
  CONVERGED,
  convolve,
  db,
  doorScene,
  frames,
  mix,
  power,
  roomImpulse,
  toPcm,
} from '../test/helpers/echo-path.ts';

const SECONDS = 10;
const log = pino({ level: 'silent' });
const { far, near, floor } = doorScene(SECONDS);
const farFrames = frames(toPcm(far));

const control = () =>
  new EchoControl({
    mode: 'aec',
    frameSamples: 960,
    micGainDb: 0,
    speakerVolume: 100,
    noiseSuppression: false,
    autoGain: false,
    playbackDelayMs: 0,
    log,
  });

/**
 * The microphone through a fresh echo control, each output frame then Opus-encoded as the
 * device does; CPU of both, frame by frame interleaved (a busy machine slows both alike),
 * over the frames after `CONVERGED`.
 */
function run(mic: Float64Array) {
  const c = control();
  const codec = new OpusCodec({ frameMs: 20, bitrate: 24000, complexity: 5 });
  const micPcm = toPcm(mic);
  const micFrames = frames(micPcm);
  const out: Buffer[] = [];
  let echoNs = 0n;
  let opusNs = 0n;
  let timed = 0;
  for (let i = 0; i < micFrames.length; i++) {
    const t0 = process.hrtime.bigint();
    c.playback(farFrames[i]!, i * 20);
    const frame = c.capture(micFrames[i]!, i * 20 + 20);
    const t1 = process.hrtime.bigint();
    codec.encode(frame);
    const t2 = process.hrtime.bigint();
    out.push(frame);
    if (i * 960 >= CONVERGED) {
      echoNs += t1 - t0;
      opusNs += t2 - t1;
      timed++;
    }
  }
  const us = (ns: bigint) => Number(ns) / 1000 / timed;
  return { mic: micPcm, out: Buffer.concat(out), us: us(echoNs), opusUs: us(opusNs), c };
}

let worstErle = Number.POSITIVE_INFINITY;
let worstChange = 0;
let echoUs = 0;
let opusUs = 0;
let runs = 0;
console.log('delay   ERLE      double talk   echo control');
for (const delayMs of [30, 100, 200]) {
  const echo = convolve(far, roomImpulse(delayMs, 0.5, delayMs));
  const a = run(mix(echo, floor));
  const erle = db(power(a.mic, CONVERGED) / power(a.out, CONVERGED));
  const b = run(mix(echo, near, floor));
  const change = db(power(b.out, CONVERGED) / power(toPcm(near), CONVERGED));
  for (const r of [a, b]) {
    echoUs += r.us;
    opusUs += r.opusUs;
    runs++;
  }
  worstErle = Math.min(worstErle, erle);
  if (Math.abs(change) > Math.abs(worstChange)) worstChange = change;
  console.log(
    `${String(delayMs).padStart(3)} ms  ${erle.toFixed(1).padStart(5)} dB  ${change.toFixed(2).padStart(6)} dB    ` +
      `reference ${a.c.delayMs} ms behind the speaker`,
  );
}

echoUs /= runs;
opusUs /= runs;
console.log(
  `CPU per 20 ms frame, mean of ${runs} runs: echo path ${echoUs.toFixed(0)} us, ` +
    `Opus encode (complexity 5, 24 kbit/s) ${opusUs.toFixed(0)} us`,
);
console.log('goals: erle_db >= 25, |double_talk_change_db| <= 3, dsp_us_per_frame <= opus');
console.log(
  `erle_db=${worstErle.toFixed(1)} double_talk_change_db=${worstChange.toFixed(2)} ` +
    `dsp_us_per_frame=${echoUs.toFixed(0)} opus_encode_us_per_frame=${opusUs.toFixed(0)}`,
);
