/**
 * The measurement behind babel-dsp's library (docs/audio.md): our echo path (speexdsp,
 * device/media/echo/control.ts) against WebRTC's audio processing module as Debian ships
 * it (libwebrtc-audio-processing-dev 0.3), on the simulated room of bench/echo.ts. Not run
 * by the tests: it needs that package and g++.
 *
 *   g++ -O2 -std=c++11 bench/echo-apm/apm.cc \
 *     $(pkg-config --cflags --libs webrtc-audio-processing) -o /tmp/echo-apm
 *   node --import tsx bench/echo-apm.ts [/tmp/echo-apm]
 *
 * Both find the echo's delay themselves (ours: delay.ts; APM: delay-agnostic mode).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { EchoControl } from '../device/media/echo/control.ts';
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

const apm = process.argv[2] ?? '/tmp/echo-apm';
const SECONDS = 10;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'echo-apm-'));
const { far, near, floor } = doorScene(SECONDS);
const farPcm = toPcm(far);
fs.writeFileSync(path.join(dir, 'far.raw'), farPcm);

function ours(mic: Buffer): { out: Buffer; us: number } {
  const c = new EchoControl({
    mode: 'aec',
    frameSamples: 960,
    micGainDb: 0,
    speakerVolume: 100,
    noiseSuppression: false,
    autoGain: false,
    playbackDelayMs: 0,
    log: pino({ level: 'silent' }),
  });
  const f = frames(farPcm);
  const t0 = process.hrtime.bigint();
  const out = frames(mic).map((m, i) => {
    c.playback(f[i]!, i * 20);
    return c.capture(m, i * 20 + 20);
  });
  const us = Number(process.hrtime.bigint() - t0) / 1000 / out.length;
  return { out: Buffer.concat(out), us };
}

function webrtc(mic: Buffer): { out: Buffer; us: number } {
  fs.writeFileSync(path.join(dir, 'mic.raw'), mic);
  const us = Number(
    execFileSync(apm, [
      path.join(dir, 'far.raw'),
      path.join(dir, 'mic.raw'),
      path.join(dir, 'out.raw'),
    ])
      .toString()
      .trim(),
  );
  return { out: fs.readFileSync(path.join(dir, 'out.raw')), us };
}

const rows: string[] = [];
for (const [name, run] of [
  ['speexdsp (ours)', ours],
  ['WebRTC APM 0.3', webrtc],
] as const) {
  for (const delayMs of [30, 100, 200]) {
    const echo = convolve(far, roomImpulse(delayMs, 0.5, delayMs));
    const mic1 = toPcm(mix(echo, floor));
    const a = run(mic1);
    const erle = db(power(mic1, CONVERGED) / power(a.out, CONVERGED));
    const b = run(toPcm(mix(echo, near, floor)));
    const dt = db(power(b.out, CONVERGED) / power(toPcm(near), CONVERGED));
    const clean = toPcm(mix(near, floor));
    const c = run(clean);
    const none = db(power(c.out, CONVERGED) / power(clean, CONVERGED));
    rows.push(
      `| ${name} | ${delayMs} ms | ${erle.toFixed(1)} dB | ${dt.toFixed(2)} dB | ${none.toFixed(2)} dB | ${((a.us + b.us + c.us) / 3).toFixed(0)} µs |`,
    );
  }
}
console.log(
  '| library | echo delay | ERLE after 2 s | double talk, near end | no echo path | CPU per 20 ms |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
fs.rmSync(dir, { recursive: true, force: true });
