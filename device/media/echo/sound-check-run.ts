/**
 * `babel-device --sound-check`: plays the test sound (sound-check.ts) on the configured
 * speaker at the configured volume, records the configured microphone meanwhile (with the
 * configured gain), and prints what the recording says. Works with every backend, `file:`
 * ones included (tests). Resolves with the exit code: 0 checked, 1 a device failed.
 */
import type { Logger } from 'pino';
import { type Clock, realClock } from '../../../shared/clock.ts';
import {
  type AudioDeps,
  createCapture,
  createPlayback,
  formatSpec,
  parseCaptureSpec,
  parsePlaybackSpec,
} from '../../audio/index.ts';
import type { DeviceConfig } from '../../config-schema.ts';
import { applyGain, dbToGain, volumeGain } from './gain.ts';
import { analyze, formatReport, testSound } from './sound-check.ts';

export interface SoundCheckDeps {
  log: Logger;
  clock?: Clock;
  /** Where the report goes (stdout). */
  print: (text: string) => void;
  audio?: Partial<Pick<AudioDeps, 'spawnFn' | 'alsaModule'>>;
}

/** After the sound, how long to wait for the microphone's last frames. */
const RECORD_GRACE_MS = 3000;

export async function runSoundCheck(config: DeviceConfig, deps: SoundCheckDeps): Promise<number> {
  const clock = deps.clock ?? realClock;
  const frameSamples = config.audio.frame_ms * 48;
  const audioDeps: AudioDeps = { log: deps.log, clock, frameSamples, ...deps.audio };
  const captureSpec = parseCaptureSpec(config.capture);
  const playbackSpec = parsePlaybackSpec(config.playback);
  const playback = createPlayback(playbackSpec, audioDeps);
  const capture = createCapture(captureSpec, audioDeps);
  const played = applyGain(testSound(), volumeGain(config.audio.speaker_volume));
  const micGain = dbToGain(config.audio.mic_gain_db);
  const recorded: Buffer[] = [];
  let recordedBytes = 0;
  let failure: Error | null = null;
  let recording = false;
  capture.on('frame', (pcm) => {
    if (!recording) return;
    recorded.push(applyGain(pcm, micGain));
    recordedBytes += pcm.length;
  });
  capture.on('error', (err) => {
    failure ??= err;
  });
  playback.on('error', (err) => {
    failure ??= err;
  });
  try {
    await playback.start();
    await capture.start();
  } catch (err) {
    deps.print(`Sound check failed: ${(err as Error).message}\n`);
    await Promise.allSettled([capture.stop(), playback.stop()]);
    return 1;
  }
  // The agent's clock timers do not hold the process open; the check must, until it ends.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    return await play();
  } finally {
    clearInterval(keepAlive);
  }

  async function play(): Promise<number> {
    const frameBytes = frameSamples * 2;
    const frameMs = config.audio.frame_ms;
    const start = clock.now();
    recording = true;
    // Each frame at its time on the clock, so the speaker is fed at the rate it plays.
    for (let i = 0, o = 0; o < played.length && !failure; i++, o += frameBytes) {
      playback.write(played.subarray(o, o + frameBytes));
      const due = start + (i + 1) * frameMs;
      await new Promise<void>((r) => clock.setTimeout(r, Math.max(0, due - clock.now())));
    }
    const until = clock.now() + RECORD_GRACE_MS;
    while (!failure && recordedBytes < played.length) {
      if (clock.now() > until) break;
      await new Promise<void>((r) => clock.setTimeout(r, frameMs));
    }
    recording = false;
    await Promise.allSettled([capture.stop(), playback.stop()]);
    if (failure) {
      deps.print(`Sound check failed: ${(failure as Error).message}\n`);
      return 1;
    }
    const report = analyze(played, Buffer.concat(recorded).subarray(0, played.length));
    deps.print(formatReport(report, formatSpec(captureSpec), formatSpec(playbackSpec)));
    return 0;
  }
}
