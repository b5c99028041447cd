import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { encodeWav } from '../../../../device/audio/wav.ts';
import { loadDeviceConfig } from '../../../../device/config-schema.ts';
import {
  advise,
  analyze,
  formatReport,
  LEAD_MS,
  type SoundCheckReport,
  testSound,
} from '../../../../device/media/echo/sound-check.ts';
import { runSoundCheck } from '../../../../device/media/echo/sound-check-run.ts';
import { convolve, mix, noise, roomImpulse, toPcm } from '../../../helpers/echo-path.ts';
import { testLog } from '../../../helpers/log.ts';

const sound = testSound();
const asFloat = (pcm: Buffer) => {
  const x = new Float64Array(pcm.length / 2);
  for (let i = 0; i < x.length; i++) x[i] = pcm.readInt16LE(i * 2) / 32768;
  return x;
};
/** A direct path only: `gain` after `delayMs`. */
const direct = (delayMs: number, gain: number) => {
  const h = new Float64Array(delayMs * 48 + 1);
  h[delayMs * 48] = gain;
  return h;
};
/** What a microphone hears of the test sound through `h`, over a -65 dBFS floor. */
const room = (h: Float64Array) =>
  toPcm(mix(convolve(asFloat(sound), h), noise(sound.length / 2, -65)));

test('the test sound: silent lead and tail, about -17 dBFS while on', (t) => {
  t.is(sound.length, 48_000 * 3 * 2);
  t.true(sound.subarray(0, (LEAD_MS - 1) * 96).every((b) => b === 0));
  t.true(sound.subarray(-480 * 96).every((b) => b === 0));
});

for (const [delayMs, gain] of [
  [40, 0.3],
  [150, 0.1],
  [400, 0.5],
] as const) {
  test(`analyze: an echo of ${delayMs} ms at x${gain} is found and measured`, (t) => {
    const r = analyze(sound, room(direct(delayMs, gain)));
    t.is(r.delayMs, delayMs);
    const lossDb = -20 * Math.log10(gain);
    t.true(Math.abs(r.echoLossDb - lossDb) <= 0.5, `loss ${r.echoLossDb} want ${lossDb}`);
    // Through a room (reflections after the direct path), the direct path's delay.
    const inRoom = analyze(sound, room(roomImpulse(delayMs, gain, 5)));
    t.true(Math.abs(inRoom.delayMs! - delayMs) <= 2, `delay ${inRoom.delayMs}`);
    t.true(Math.abs(r.backgroundDbfs - -65) <= 1);
    t.deepEqual(r.advice, ['levels look right; echo cancellation (audio.echo: aec) can work']);
  });
}

const base: SoundCheckReport = {
  backgroundDbfs: -60,
  peakDbfs: -10,
  echoDbfs: -30,
  echoLossDb: 12,
  delayMs: 100,
  confidence: 0.9,
  advice: [],
};
const adviceTable: Array<[string, Partial<SoundCheckReport>, RegExp]> = [
  ['clipping', { peakDbfs: 0 }, /clips: lower audio\.mic_gain_db/],
  ['not heard', { delayMs: null }, /not heard/],
  ['echo louder than sent', { echoLossDb: -3 }, /echo path is too loud/],
  ['loud background', { backgroundDbfs: -30 }, /background is loud/],
  [
    'quiet microphone',
    { echoDbfs: -70, backgroundDbfs: -80 },
    /raise audio\.mic_gain_db \(by about 30 dB\)/,
  ],
  [
    'silence',
    { echoDbfs: Number.NEGATIVE_INFINITY, backgroundDbfs: Number.NEGATIVE_INFINITY },
    /recorded only silence/,
  ],
];
for (const [name, change, want] of adviceTable) {
  test(`advice: ${name}`, (t) => {
    const a = advise({ ...base, ...change });
    t.regex(a[0]!, want);
    t.false(a.some((l) => /levels look right/.test(l)));
  });
}

test('analyze: a microphone that hears nothing of the speaker', (t) => {
  const r = analyze(sound, toPcm(noise(sound.length / 2, -50)));
  t.is(r.delayMs, null);
  t.regex(r.advice.join('\n'), /not heard/);
  t.regex(formatReport(r, 'alsa:default', 'aplay:default'), /echo: +not heard/);
});

test('--sound-check with file: specs plays the sound and reads the echo from the recording', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-sound-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mic = path.join(dir, 'mic.wav');
  const speaker = path.join(dir, 'speaker.wav');
  fs.writeFileSync(mic, encodeWav(room(roomImpulse(120, 0.25, 5))));
  const loaded = loadDeviceConfig(
    ['--sound-check', '--capture', `file:${mic}`, '--playback', `file:${speaker}`],
    {},
  );
  if (loaded.kind !== 'config') throw new Error(loaded.kind);
  let out = '';
  const code = await runSoundCheck(loaded.config, { log: testLog, print: (s) => (out += s) });
  t.is(code, 0, out);
  t.regex(out, /Sound check: played a 2 s test sound on file:.*speaker\.wav, recorded file:/);
  const delay = Number(/echo: +(\d+) ms after the speaker/.exec(out)?.[1]);
  t.true(Math.abs(delay - 120) <= 25, out);
  t.true(fs.statSync(speaker).size >= sound.length, 'the speaker played the sound');
});

test('--sound-check: a missing microphone is a clear failure, exit 1', async (t) => {
  const loaded = loadDeviceConfig(
    ['--capture', 'file:/nonexistent/mic.wav', '--playback', 'null'],
    {},
  );
  if (loaded.kind !== 'config') throw new Error(loaded.kind);
  let out = '';
  t.is(await runSoundCheck(loaded.config, { log: testLog, print: (s) => (out += s) }), 1);
  t.regex(out, /Sound check failed: .*mic\.wav/);
});
