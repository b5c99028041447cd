/**
 * Whether the native media loop (issue 15, `audio.engine`) covers a device's setup, and
 * what it is then given; pure, the addon's loader passed in.
 */
import type { CaptureSpec, PlaybackSpec } from '../audio/spec.ts';
import {
  type EngineCapture,
  type EngineEcho,
  type EngineModule,
  loadEngine,
} from './engine-api.ts';

/** The audio settings `mediaEngineFor()` looks at (the config's `audio` block). */
export interface EngineAudio {
  engine: 'auto' | 'native' | 'js';
  /** The echo control in force (`off` for a `null` speaker). */
  echo: 'aec' | 'duck' | 'off';
  noise_suppression: boolean;
  auto_gain: boolean;
  mic_gain_db: number;
  speaker_volume: number;
}

/** Which speaker the thread writes: none, or the aplay the JS side keeps running. */
export type EngineSpeaker = 'null' | 'aplay';

export type EngineChoice =
  | {
      kind: 'native';
      capture: EngineCapture;
      speaker: EngineSpeaker;
      echo: Omit<EngineEcho, 'playbackDelayMs'>;
      module: EngineModule;
    }
  | { kind: 'js'; reason: string };

/**
 * Whether the native thread runs this device's calls, and why not. It covers a microphone
 * it reads itself (alsa, file, tone, silence) and a `null` or `aplay:` speaker (it writes
 * into the pipe of the aplay the JS side keeps running), with echo control, noise
 * suppression, automatic gain and the gains, all in C. A `file:` speaker (a WAV the JS
 * side writes) and the arecord and fake microphones stay in JavaScript. `engine: native`
 * where it does not cover the setup throws, naming what is in the way.
 */
export function mediaEngineFor(
  audio: EngineAudio,
  capture: CaptureSpec,
  playback: PlaybackSpec,
  load: () => EngineModule = loadEngine,
): EngineChoice {
  if (audio.engine === 'js') return { kind: 'js', reason: 'audio.engine is js' };
  const notCovered = blocker(capture, playback);
  let reason = notCovered;
  let module: EngineModule | null = null;
  if (!notCovered) {
    try {
      module = load();
      if (typeof module?.Engine !== 'function') throw new Error('it has no Engine');
    } catch (err) {
      module = null;
      reason = `the babel-media addon did not load (${(err as Error).message.split('\n')[0]})`;
    }
  }
  if (module && !notCovered) {
    return {
      kind: 'native',
      capture: capture as EngineCapture,
      speaker: playback.kind === 'aplay' ? 'aplay' : 'null',
      echo: {
        mode: audio.echo,
        micGainDb: audio.mic_gain_db,
        speakerVolume: audio.speaker_volume,
        noiseSuppression: audio.noise_suppression,
        autoGain: audio.auto_gain,
      },
      module,
    };
  }
  if (audio.engine === 'native') throw new Error(`audio.engine native: ${reason}`);
  return { kind: 'js', reason: reason ?? 'not covered' };
}

function blocker(capture: CaptureSpec, playback: PlaybackSpec): string | null {
  if (!['alsa', 'file', 'tone', 'silence'].includes(capture.kind))
    return `capture ${capture.kind} is read in JavaScript`;
  if (playback.kind === 'file') return 'playback file is written from JavaScript';
  return null;
}
