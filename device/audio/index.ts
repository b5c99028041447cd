/**
 * The device agent's audio: spec strings in, `AudioCapture` / `AudioPlayback` out.
 *
 * ```ts
 * const deps = { log: log.child({ mod: 'audio' }), clock: realClock, frameSamples: 960 };
 * const mic = createResilientCapture(parseCaptureSpec(config.capture), deps);
 * mic.on('frame', (pcm) => encoder.encode(pcm));
 * await mic.start(); // resolves even with the microphone unplugged; it is retried
 * ```
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { AlsaCapture, type AlsaModule } from './capture-alsa.ts';
import { ArecordCapture } from './capture-arecord.ts';
import { FileCapture } from './capture-file.ts';
import { createSilenceCapture } from './capture-silence.ts';
import { createToneCapture } from './capture-tone.ts';
import { FakeAlsaDevice } from './fake-alsa.ts';
import { AplayPlayback } from './playback-aplay.ts';
import { FilePlayback } from './playback-file.ts';
import { NullPlayback } from './playback-null.ts';
import { ResilientCapture, type ResilientOptions, ResilientPlayback } from './resilient.ts';
import { type CaptureSpec, formatSpec, type PlaybackSpec } from './spec.ts';
import { type AudioCapture, type AudioPlayback, checkFrameSamples, type SpawnFn } from './types.ts';

export { type AlsaModule, loadAlsaCapture } from './capture-alsa.ts';
export { FakeAlsaDevice } from './fake-alsa.ts';
export {
  type DeviceState,
  ResilientCapture,
  ResilientPlayback,
  type StateChange,
} from './resilient.ts';
export * from './spec.ts';
export * from './types.ts';

/** What the factories build backends with. */
export interface AudioDeps {
  log: Logger;
  clock: Clock;
  /** 960 (20 ms) or 480 (10 ms). */
  frameSamples: number;
  /** How arecord and aplay are started (default `child_process.spawn`). */
  spawnFn?: SpawnFn;
  /** The babel-alsa `Capture` for `alsa:` (default: the real addon, loaded at start). */
  alsaModule?: AlsaModule;
}

/** One single-use capture for `spec`; throws `RangeError` for a bad `frameSamples`. */
export function createCapture(spec: CaptureSpec, deps: AudioDeps): AudioCapture {
  checkFrameSamples(deps.frameSamples);
  const base = { ...deps, log: deps.log.child({ capture: formatSpec(spec) }) };
  switch (spec.kind) {
    case 'alsa':
      return new AlsaCapture({ ...base, pcm: spec.pcm });
    case 'fake-alsa': {
      const device = new FakeAlsaDevice({ clock: deps.clock, toneHz: spec.hz });
      return new AlsaCapture({ ...base, pcm: 'fake', alsaModule: device.module });
    }
    case 'arecord':
      return new ArecordCapture({ ...base, pcm: spec.pcm });
    case 'file':
      return new FileCapture(spec.path, base);
    case 'tone':
      return createToneCapture(spec.hz, base);
    case 'silence':
      return createSilenceCapture(base);
  }
}

/** One single-use playback for `spec`; throws `RangeError` for a bad `frameSamples`. */
export function createPlayback(spec: PlaybackSpec, deps: AudioDeps): AudioPlayback {
  checkFrameSamples(deps.frameSamples);
  const base = { ...deps, log: deps.log.child({ playback: formatSpec(spec) }) };
  switch (spec.kind) {
    case 'aplay':
      return new AplayPlayback({ ...base, pcm: spec.pcm });
    case 'file':
      return new FilePlayback(spec.path, base);
    case 'null':
      return new NullPlayback(deps.frameSamples);
  }
}

/** `createCapture` behind `ResilientCapture`: what the agent runs. */
export function createResilientCapture(
  spec: CaptureSpec,
  deps: AudioDeps,
  opts: Partial<ResilientOptions> = {},
): ResilientCapture {
  checkFrameSamples(deps.frameSamples);
  const log = deps.log.child({ capture: formatSpec(spec) });
  const hint = CAPTURE_HINT;
  return new ResilientCapture(() => createCapture(spec, deps), { ...deps, hint, ...opts, log });
}

/** What a microphone that cannot be opened is told to try (both media loops say it). */
export const CAPTURE_HINT =
  'babel-device --list-audio lists the sound cards and the capture spec of each; capture: silence runs without a microphone';

/** `createPlayback` behind `ResilientPlayback`: what the agent runs. */
export function createResilientPlayback(
  spec: PlaybackSpec,
  deps: AudioDeps,
  opts: Partial<ResilientOptions> = {},
): ResilientPlayback {
  checkFrameSamples(deps.frameSamples);
  const log = deps.log.child({ playback: formatSpec(spec) });
  const hint =
    'babel-device --list-audio lists the sound cards and the playback spec of each; playback: null runs without a speaker';
  return new ResilientPlayback(() => createPlayback(spec, deps), { ...deps, hint, ...opts, log });
}
