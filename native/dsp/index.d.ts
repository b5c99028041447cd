/**
 * babel-dsp: echo cancellation, noise suppression and automatic gain over the system's
 * speexdsp, for 48 kHz mono s16le PCM (processed at 16 kHz inside). Every failure throws:
 * RangeError or TypeError for a bad argument; nothing aborts the process.
 */

/** One microphone's processing chain: echo canceller (optional), then the preprocessor. */
export declare class Processor {
  /**
   * `frameSamples`: 480 or 960 (10 or 20 ms). `tailMs`: 0 for no echo canceller, else the
   * echo path length the adaptive filter covers, 20..1000 ms.
   */
  constructor(frameSamples: number, tailMs: number);
  /**
   * One microphone frame and the far-end frame that played meanwhile (null: silence), each
   * exactly `frameSamples * 2` bytes; returns the processed frame (a new Buffer).
   */
  process(mic: Uint8Array, far?: Uint8Array | null): Buffer;
  /** Forgets the learned echo path (the reference moved); everything else continues. */
  reset(): void;
  /** Noise suppression (default true). */
  denoise: boolean;
  /** Automatic gain control (default false). */
  agc: boolean;
  /** Most noise attenuation, dB, -100..0 (speexdsp default -15). */
  noiseSuppressDb: number;
  /** Most residual echo attenuation, dB, -100..0 (default -40). */
  echoSuppressDb: number;
  /** Most residual echo attenuation while the near end speaks, dB, -100..0 (default -15). */
  echoSuppressActiveDb: number;
  /** The AGC's target level, 1..32768. */
  agcLevel: number;
}

/** 48000. */
export declare const SAMPLE_RATE: number;
/** "speexdsp". */
export declare const library: string;
