/** The agent's `EchoControl`, from the device's config. */
import type { Logger } from 'pino';
import { APLAY_BUFFER_MS } from '../../audio/playback-aplay.ts';
import type { PlaybackSpec } from '../../audio/spec.ts';
import type { DeviceConfig } from '../../config-schema.ts';
import { EchoControl } from './control.ts';

/**
 * How long a frame handed to `spec` takes to reach the speaker: aplay starts once its
 * buffer is full and the device keeps it about that full, plus a frame in the pipe; a file
 * or `null` speaker has no sound to echo, so nothing.
 */
export function playbackDelayMs(spec: PlaybackSpec, frameMs: number): number {
  return spec.kind === 'aplay' ? APLAY_BUFFER_MS + frameMs : 0;
}

export function createEchoControl(
  audio: DeviceConfig['audio'],
  playback: PlaybackSpec,
  log: Logger,
): EchoControl {
  const control = new EchoControl({
    mode: audio.echo,
    frameSamples: audio.frame_ms * 48,
    micGainDb: audio.mic_gain_db,
    speakerVolume: audio.speaker_volume,
    noiseSuppression: audio.noise_suppression,
    autoGain: audio.auto_gain,
    playbackDelayMs: playbackDelayMs(playback, audio.frame_ms),
    log,
  });
  log.info(
    { echo: control.mode, delayMs: control.delayMs, volume: audio.speaker_volume },
    'echo control',
  );
  return control;
}
