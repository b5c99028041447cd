/**
 * The device agent's sound: the speaker (kept open, so a ring starts at once), the
 * microphone (open only while a call is answered: nobody is listened to while idle or
 * ringing), echo control between the two, and the tones. Split from device/agent.ts, which
 * decides when the microphone opens and what plays.
 */
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.ts';
import type { Component } from '../shared/component.ts';
import {
  type AlsaModule,
  createResilientCapture,
  createResilientPlayback,
  echoModeFor,
  parseCaptureSpec,
  parsePlaybackSpec,
  type ResilientCapture,
  type ResilientPlayback,
  type SpawnFn,
} from './audio/index.ts';
import type { DeviceConfig } from './config-schema.ts';
import type { EchoControl } from './media/echo/control.ts';
import { createEchoControl } from './media/echo/setup.ts';
import { TonePlayer } from './tones.ts';

export interface SoundDeps {
  readonly log: Logger;
  readonly clock: Clock;
  readonly spawnFn?: SpawnFn;
  readonly alsaModule?: AlsaModule;
}

export class DeviceSound {
  readonly echo: EchoControl;
  readonly tones: TonePlayer;
  readonly #clock: Clock;
  readonly #playback: ResilientPlayback;
  readonly #capture: ResilientCapture;
  /** Serializes opening and closing the microphone. */
  #mic: Promise<void> = Promise.resolve();
  #micOn = false;
  /** The native media loop reads the microphone itself (issue 15): never opened here. */
  #micInEngine = false;

  private constructor(
    config: Pick<DeviceConfig, 'audio' | 'playback' | 'capture' | 'tones'>,
    deps: SoundDeps,
  ) {
    const log = deps.log;
    this.#clock = deps.clock;
    const frameSamples = config.audio.frame_ms * 48;
    const audioDeps = {
      log: log.child({ mod: 'audio' }),
      clock: this.#clock,
      frameSamples,
      ...(deps.spawnFn ? { spawnFn: deps.spawnFn } : {}),
      ...(deps.alsaModule ? { alsaModule: deps.alsaModule } : {}),
    };
    const playbackSpec = parsePlaybackSpec(config.playback);
    const audio = { ...config.audio, echo: echoModeFor(playbackSpec, config.audio.echo) };
    this.echo = createEchoControl(audio, playbackSpec, log.child({ mod: 'echo' }));
    this.#playback = createResilientPlayback(playbackSpec, audioDeps);
    this.#capture = createResilientCapture(parseCaptureSpec(config.capture), audioDeps);
    this.tones = new TonePlayer({
      clock: this.#clock,
      frameSamples,
      sink: this.speaker,
      sources: config.tones,
    });
  }

  /**
   * Opens the speaker and wires the microphone's frames, echo-controlled, to `onFrame`.
   * Pushes what is to be stopped onto `components` as it starts (speaker, microphone,
   * tones), so a failure later in the agent's start releases them.
   */
  static async start(
    config: Pick<DeviceConfig, 'audio' | 'playback' | 'capture' | 'tones'>,
    deps: SoundDeps,
    onFrame: (pcm: Buffer) => void,
    components: Component[],
    options: { micInEngine?: boolean } = {},
  ): Promise<DeviceSound> {
    const sound = new DeviceSound(config, deps);
    sound.#micInEngine = options.micInEngine ?? false;
    await sound.#playback.start();
    components.push({ name: 'speaker', stop: () => sound.#playback.stop() });
    sound.#capture.on('frame', (pcm) => onFrame(sound.echo.capture(pcm, sound.#clock.now())));
    components.push({ name: 'microphone', stop: () => sound.micFor(false) });
    components.push({ name: 'tones', stop: () => sound.tones.play('none') });
    return sound;
  }

  /** Plays one frame on the speaker, through echo control (the far end's voice, tones). */
  readonly speaker = (pcm: Buffer): void => {
    this.#playback.write(this.echo.playback(pcm, this.#clock.now()));
  };

  /**
   * The speaker's pipe (aplay's stdin) while aplay runs, else null: where the native media
   * loop writes a call's frames itself (issue 15). `listener` hears each change (aplay
   * restarted, or gone until it is).
   */
  speakerPipe(listener: (fd: number | null) => void): number | null {
    let last = this.#playback.pipeFd;
    this.#playback.on('state', () => {
      const fd = this.#playback.pipeFd;
      if (fd === last) return;
      last = fd;
      listener(fd);
    });
    return last;
  }

  /** Opens the microphone when a call is answered, closes it when it ends. */
  micFor(on: boolean): Promise<void> {
    if (on === this.#micOn || this.#micInEngine) return this.#mic;
    this.#micOn = on;
    this.#mic = this.#mic.then(() => (on ? this.#capture.start() : this.#capture.stop()));
    return this.#mic;
  }
}
