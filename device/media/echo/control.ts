/**
 * The device's echo control, between the sound card and the call: every frame handed to
 * the speaker goes through `playback()` (speaker volume, then recorded as the far-end
 * reference) and every captured frame through `capture()` (microphone gain, then echo
 * control, noise suppression and automatic gain).
 *
 *   audio.echo: aec    speexdsp's echo canceller (babel-dsp) with the reference aligned:
 *                      the frame that played `bulk` ms before the microphone frame, where
 *                      `bulk` starts from the playback path's delay (aplay's buffer and the
 *                      pipe) and is then measured (delay.ts) from the call's own audio, less
 *                      a margin, so the filter's 150 ms tail covers the room.
 *               duck   the microphone attenuated while the far end speaks (duck.ts); chosen
 *                      with one warning when the addon cannot be loaded.
 *               off    neither.
 * Noise suppression and automatic gain run in every mode when the addon is there.
 *
 * The canceller's output is used once an echo has been heard: a delay measurement it
 * believes (a far end that moves, like speech, found again in the microphone). Until then
 * it adapts on the side and the microphone passes as it is: where the speaker cannot be
 * heard (a `file:` speaker, a headset) a canceller only adds artifacts, and two cancellers
 * fed each other's steady tones (the demo) modulate them by several dB.
 *
 * Time is passed in (ms on the agent's clock). The addon throws only on a programming
 * error (a mis-sized frame); should it ever throw, the frame passes unprocessed and the
 * error is logged once: a call never stops for it.
 */
import type { Logger } from 'pino';
import { DelayTracker } from './delay.ts';
import { type DspModule, type DspProcessor, loadDsp } from './dsp.ts';
import { Ducker } from './duck.ts';
import { applyGain, dbToGain, volumeGain } from './gain.ts';
import { FarReference } from './reference.ts';

export const ECHO_MODES = ['aec', 'duck', 'off'] as const;
export type EchoMode = (typeof ECHO_MODES)[number];

/** The echo path the adaptive filter models past the aligned reference. */
export const TAIL_MS = 100;
/** The reference leads the measured echo by this much (estimation error, early sound). */
export const MARGIN_MS = 20;
/**
 * The measured echo may fall this far after the reference and still sit well inside the
 * filter's tail; outside [0, REACH_MS] the reference moves (and the filter starts again).
 */
const REACH_MS = TAIL_MS / 2;
/** Two measurements in a row within this of each other are needed to move the reference. */
const AGREE_MS = 4;
/** Correlation a delay measurement needs to be believed. */
const MIN_CONFIDENCE = 0.6;
/**
 * How often the delay is measured: often until the first measurement holds; then every
 * 10 s, the tracker fed only for the window before each check (it costs about as much as
 * the rest of the echo path in JS).
 */
const MEASURE_EVERY_MS = 100;
const MEASURE_SETTLED_MS = 10_000;
/** The tracker's window plus its longest lag: what a check needs fed before it. */
const TRACK_WINDOW_MS = 1000;
const TRACK_MAX_LAG_MS = 400;
/** A capture frame this far off the reference's timeline re-anchors it (a stall, a restart). */
const RESYNC_MS = 10;

export interface EchoControlOptions {
  mode: EchoMode;
  frameSamples: number;
  micGainDb: number;
  /** 0..100. */
  speakerVolume: number;
  noiseSuppression: boolean;
  autoGain: boolean;
  /** The playback path's delay as configured (aplay's buffer), the first `bulk`. */
  playbackDelayMs: number;
  log: Logger;
  /** The addon's loader; tests pass one that throws. */
  loadDsp?: () => DspModule;
}

export class EchoControl {
  readonly #o: EchoControlOptions;
  readonly #frameMs: number;
  readonly #mode: EchoMode;
  readonly #dsp: DspProcessor | null;
  readonly #ducker: Ducker | null;
  readonly #ref = new FarReference();
  readonly #tracker: DelayTracker | null;
  #micGain: number;
  #volume: number;
  #speakerGain: number;
  #bulkMs: number;
  /** The reference's read position for the next capture frame, or NaN before the first. */
  #readAt = Number.NaN;
  #lastMeasure = Number.NEGATIVE_INFINITY;
  /** The previous believed measurement that asked for a move, ms, or NaN. */
  #pending = Number.NaN;
  /** A measurement has confirmed the reference's delay: an echo is there, cancel it. */
  #settled = false;
  #failed = false;

  constructor(opts: EchoControlOptions) {
    this.#o = opts;
    this.#frameMs = opts.frameSamples / 48;
    this.#micGain = dbToGain(opts.micGainDb);
    this.#volume = opts.speakerVolume;
    this.#speakerGain = volumeGain(opts.speakerVolume);
    this.#bulkMs = Math.max(0, opts.playbackDelayMs - MARGIN_MS);
    let mode = opts.mode;
    let dsp: DspProcessor | null = null;
    const wantDsp = mode === 'aec' || opts.noiseSuppression || opts.autoGain;
    if (wantDsp) {
      try {
        const m = (opts.loadDsp ?? loadDsp)();
        dsp = new m.Processor(opts.frameSamples, mode === 'aec' ? TAIL_MS : 0);
        dsp.denoise = opts.noiseSuppression;
        dsp.agc = opts.autoGain;
      } catch (err) {
        if (mode === 'aec') mode = 'duck';
        opts.log.warn(
          { err },
          mode === 'duck' && opts.mode === 'aec'
            ? 'echo canceller not available (babel-dsp did not load): ducking the microphone instead'
            : 'noise suppression and automatic gain not available (babel-dsp did not load)',
        );
      }
    }
    this.#mode = mode;
    this.#dsp = dsp;
    this.#ducker = mode === 'duck' ? new Ducker() : null;
    this.#tracker =
      mode === 'aec'
        ? new DelayTracker({ windowMs: TRACK_WINDOW_MS, maxLagMs: TRACK_MAX_LAG_MS })
        : null;
  }

  /** The mode in force: `aec` falls back to `duck` without the addon. */
  get mode(): EchoMode {
    return this.#mode;
  }

  /** The reference's delay behind the speaker in use, ms (aec). */
  get delayMs(): number {
    return this.#bulkMs;
  }

  /** Whether an echo has been heard and is being cancelled (aec). */
  get cancelling(): boolean {
    return this.#settled;
  }

  get speakerVolume(): number {
    return this.#volume;
  }

  /** Speaker volume 0..100 (clamped), from the next frame on. */
  setSpeakerVolume(volume: number): void {
    this.#volume = Math.max(0, Math.min(100, Math.round(volume)));
    this.#speakerGain = volumeGain(this.#volume);
  }

  setMicGainDb(db: number): void {
    this.#micGain = dbToGain(db);
  }

  /** One frame for the speaker at `now`: scaled by the volume; what to write to playback. */
  playback(pcm: Buffer, now: number): Buffer {
    const out = applyGain(pcm, this.#speakerGain);
    if (this.#mode === 'aec') this.#ref.write(out, now);
    this.#ducker?.far(out, now);
    return out;
  }

  /** One captured frame, complete at `now`: gain and echo control applied. */
  capture(pcm: Buffer, now: number): Buffer {
    const mic = applyGain(pcm, this.#micGain);
    if (this.#ducker) return this.#run(this.#ducker.mic(mic, now), null);
    if (this.#mode !== 'aec') return this.#run(mic, null);
    const n = pcm.length >> 1;
    const due = FarReference.position(now - this.#frameMs - this.#bulkMs);
    if (!(Math.abs(due - this.#readAt) <= RESYNC_MS * 48)) this.#readAt = due;
    const far = this.#ref.read(this.#readAt, n);
    this.#track(mic, n, now);
    this.#readAt += n;
    const out = this.#run(mic, far);
    return this.#settled || this.#o.noiseSuppression || this.#o.autoGain ? out : mic;
  }

  /** Measures the echo's delay now and then; moves the reference when it is off. */
  #track(mic: Buffer, n: number, now: number): void {
    const tracker = this.#tracker!;
    const every = this.#settled ? MEASURE_SETTLED_MS : MEASURE_EVERY_MS;
    const feedFrom = this.#lastMeasure + every - TRACK_WINDOW_MS - TRACK_MAX_LAG_MS - 100;
    if (this.#settled && now < feedFrom) return;
    // The speaker's own timeline for this frame (no bulk), so the lag found is absolute.
    tracker.push(this.#ref.read(this.#readAt + FarReference.position(this.#bulkMs), n), mic);
    if (now - this.#lastMeasure < every) return;
    this.#lastMeasure = now;
    const est = tracker.estimate();
    if (!est || est.confidence < MIN_CONFIDENCE) return;
    const after = est.delayMs - this.#bulkMs;
    if (after >= Math.min(MARGIN_MS, est.delayMs) / 2 && after <= REACH_MS) {
      this.#pending = Number.NaN;
      if (!this.#settled) this.#o.log.info({ delayMs: est.delayMs }, 'echo heard: cancelling');
      this.#settled = true;
      return;
    }
    const agreed = Math.abs(est.delayMs - this.#pending) <= AGREE_MS;
    this.#pending = est.delayMs;
    if (!agreed) return;
    this.#pending = Number.NaN;
    const bulk = Math.max(0, est.delayMs - MARGIN_MS);
    this.#o.log.debug({ from: this.#bulkMs, to: bulk, est }, 'echo delay measured');
    this.#readAt += FarReference.position(this.#bulkMs - bulk);
    this.#bulkMs = bulk;
    if (!this.#settled) this.#o.log.info({ delayMs: est.delayMs }, 'echo heard: cancelling');
    this.#settled = true;
    this.#dsp?.reset();
  }

  #run(mic: Buffer, far: Buffer | null): Buffer {
    const dsp = this.#dsp;
    if (!dsp || this.#failed) return mic;
    try {
      return dsp.process(mic, far);
    } catch (err) {
      this.#failed = true;
      this.#o.log.error({ err }, 'echo control failed; the microphone passes unprocessed');
      return mic;
    }
  }
}
