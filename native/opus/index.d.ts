/**
 * babel-opus: Opus over the system's libopus for 48 kHz mono s16le PCM.
 * Every failure throws: RangeError or TypeError for a bad argument, an Error whose `code`
 * is the libopus error name (`OPUS_INVALID_PACKET`, ...) for a codec error.
 */

/** An Opus encoder, 48 kHz mono, application VOIP. */
export declare class Encoder {
  constructor();
  /** Encodes exactly one 2.5, 5, 10, 20, 40 or 60 ms frame of s16le mono PCM into one packet. */
  encode(pcm: Uint8Array): Buffer;
  /** OPUS_SET/GET_BITRATE, bit/s (500..512000). */
  bitrate: number;
  /** OPUS_SET/GET_COMPLEXITY, 0..10. */
  complexity: number;
  /** OPUS_SET/GET_INBAND_FEC. */
  inbandFec: boolean;
  /** OPUS_SET/GET_PACKET_LOSS_PERC, 0..100. */
  packetLossPercent: number;
  /** OPUS_GET_APPLICATION: always APPLICATION_VOIP. */
  readonly application: number;
}

/** An Opus decoder, 48 kHz mono. */
export declare class Decoder {
  constructor();
  /**
   * `packet` null or empty: loss concealment of exactly `frameSize` samples.
   * `fec` true: the frame before `packet`, recovered from its in-band FEC (concealment if it
   * carries none), exactly `frameSize` samples.
   * Otherwise: the packet decoded, at most `frameSize` samples (more throws).
   * Concealment and FEC need `frameSize` to be a multiple of 120 (2.5 ms); at most 5760.
   */
  decode(packet: Uint8Array | null, frameSize: number, fec?: boolean): Buffer;
}

/** opus_get_version_string() of the libopus linked, e.g. "libopus 1.3.1". */
export declare const libopusVersion: string;
/** 48000. */
export declare const SAMPLE_RATE: number;
/** OPUS_APPLICATION_VOIP (2048). */
export declare const APPLICATION_VOIP: number;
