/**
 * Which media loop runs the device's calls (issue 15, `audio.engine`): the babel-media
 * addon's native thread where it covers the setup, else `MediaSession` on the event loop.
 */
import pino, { type Logger } from 'pino';
import { type Clock, realClock } from '../shared/clock.ts';
import { echoModeFor, parseCaptureSpec, parsePlaybackSpec } from './audio/index.ts';
import type { DeviceConfig } from './config-schema.ts';
import { playbackDelayMs } from './media/echo/setup.ts';
import {
  type EngineChoice,
  type EngineModule,
  loadEngine,
  mediaEngineFor,
  NativeMediaSession,
} from './media/native-session.ts';
import type { PlayoutInfo } from './media/pipeline-types.ts';
import { MediaSession } from './media/session.ts';

const ADDON_MISSING = 'the babel-media addon did not load';
const silentLog = pino({ level: 'silent' });

/** The two media loops have one surface; the agent holds either. */
export type DeviceMedia = MediaSession | NativeMediaSession;

type MediaConfig = Pick<DeviceConfig, 'audio' | 'capture' | 'playback'>;

/**
 * The loop for `config`; throws for `engine: native` where the native one cannot run (the
 * message names why). With `auto`, the JS loop's reason is logged at debug.
 */
export function chooseMediaEngine(
  config: MediaConfig,
  log: Logger,
  clock: Clock,
  load: () => EngineModule = loadEngine,
): EngineChoice {
  // The thread keeps its own time (CLOCK_MONOTONIC): an agent on another clock (a test's
  // FakeClock) runs the loop that follows it, unless told otherwise.
  if (clock !== realClock && config.audio.engine === 'auto') {
    return { kind: 'js', reason: 'the agent runs on an injected clock' };
  }
  const playback = parsePlaybackSpec(config.playback);
  const audio = { ...config.audio, echo: echoModeFor(playback, config.audio.echo) };
  const choice = mediaEngineFor(audio, parseCaptureSpec(config.capture), playback, load);
  // A build without the addon runs every call at about twice the CPU: worth a warning.
  if (choice.kind === 'js' && choice.reason.startsWith(ADDON_MISSING)) {
    log.warn(
      {
        reason: choice.reason,
        hint: 'npm rebuild babel-media (scripts/setup.sh installs what it needs)',
      },
      'media engine: js',
    );
  } else if (choice.kind === 'js') log.debug({ reason: choice.reason }, 'media engine: js');
  return choice;
}

/** The `media` line of `--doctor`: which loop runs the calls, and why. */
export function describeMediaEngine(
  config: MediaConfig,
  load: () => EngineModule = loadEngine,
): { ok: boolean; detail: string; fix?: string } {
  let choice: EngineChoice;
  try {
    choice = chooseMediaEngine(config, silentLog, realClock, load);
  } catch (err) {
    return {
      ok: false,
      detail: (err as Error).message,
      fix: 'set audio.engine to auto (or js), or change the setup the message names',
    };
  }
  if (choice.kind === 'native') {
    return {
      ok: true,
      detail: `native loop (babel-media): capture ${choice.capture.kind}, speaker ${choice.speaker}, echo ${choice.echo.mode}`,
    };
  }
  const missing = choice.reason.startsWith(ADDON_MISSING);
  return {
    ok: !missing,
    detail: `JavaScript loop: ${choice.reason}`,
    ...(missing
      ? { fix: 'npm rebuild babel-media (scripts/setup.sh installs what it needs)' }
      : {}),
  };
}

export interface DeviceMediaDeps {
  log: Logger;
  clock: Clock;
  port: number;
  /** The speaker of the JS loop (the native one plays on its own thread). */
  sink: (pcm: Buffer, info: Readonly<PlayoutInfo>) => void;
  /**
   * The native loop's `aplay:` speaker: aplay's pipe now, and each change of it
   * (`DeviceSound.speakerPipe`).
   */
  speakerPipe?: (listener: (fd: number | null) => void) => number | null;
}

/** The media session of `choice`, not yet opened. */
export function createDeviceMedia(
  config: MediaConfig,
  choice: EngineChoice,
  deps: DeviceMediaDeps,
): DeviceMedia {
  const pipeline = {
    frameMs: config.audio.frame_ms,
    codec: {
      bitrate: config.audio.bitrate,
      complexity: config.audio.complexity,
      fec: config.audio.fec,
    },
    jitter: { maxDepthMs: config.audio.jitter_max_ms },
  };
  if (choice.kind === 'native') {
    const toPlayback = (fd: number | null) =>
      fd === null ? ({ kind: 'null' } as const) : ({ kind: 'fd', fd } as const);
    let media: NativeMediaSession | null = null;
    const fd =
      choice.speaker === 'aplay' && deps.speakerPipe
        ? deps.speakerPipe((next) => media?.setPlayback(toPlayback(next)))
        : null;
    media = new NativeMediaSession({
      log: deps.log,
      clock: deps.clock,
      port: deps.port,
      module: choice.module,
      capture: choice.capture,
      playback: toPlayback(fd),
      echo: {
        ...choice.echo,
        playbackDelayMs: playbackDelayMs(parsePlaybackSpec(config.playback), config.audio.frame_ms),
      },
      pipeline,
    });
    return media;
  }
  return new MediaSession({
    log: deps.log,
    clock: deps.clock,
    port: deps.port,
    sink: deps.sink,
    pipeline,
  });
}
