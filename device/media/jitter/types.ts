/**
 * The jitter buffer's contract (buffer.ts): the packets it takes, what it yields
 * per frame slot, what it did with a packet, its statistics and its options.
 */

/** One received audio packet (already parsed and source-checked [M-2]). */
export interface JitterPacket {
  sequence: number;
  timestamp: number;
  payload: Buffer;
  /** Arrival time in ms, on the same clock as `pop(now)`. */
  arrival: number;
  /** SSRC; a change restarts the stream. */
  ssrc?: number;
}

/** What `pop()` yields for one frame slot. */
export type JitterPop =
  | { kind: 'frame'; payload: Buffer; sequence: number; timestamp: number }
  | { kind: 'conceal' }
  | { kind: 'empty' };

/** What `push()` did with a packet. */
export type PushResult = 'ok' | 'duplicate' | 'late' | 'reset' | 'discarded';

/** Counters and gauges. */
export interface JitterStats {
  /** Every packet pushed, duplicates and late ones included. */
  received: number;
  /** RFC 3550 cumulative loss: expected by sequence number minus received (unique). */
  lost: number;
  /** Arrived after their slot was played or given up. */
  late: number;
  /** Conceal slots yielded (losses, silences, underruns, inserted frames). */
  concealed: number;
  duplicates: number;
  /** Not of this stream: a lone sequence jump never confirmed, or beyond the buffer. */
  discarded: number;
  /** Frames dropped by the level control. */
  dropped: number;
  /** Conceals inserted by the level control. */
  inserted: number;
  /** Pops that found nothing at all held while playing (each a conceal holding position). */
  underruns: number;
  /** Stream restarts (new SSRC, confirmed jump). */
  resets: number;
  /** RFC 3550 interarrival jitter, in ms. */
  jitterMs: number;
  /** Current level, in ms. */
  depthMs: number;
  /** Current target level, in ms. */
  targetMs: number;
}

/** Options of `JitterBuffer`. */
export interface JitterBufferOptions {
  /** Frame (packet) duration; must be the sender's [M-1]. Default 20. */
  frameMs?: number;
  /** RTP clock rate. Default 48000 (Opus). */
  clockRate?: number;
  /** Lowest target. Default one frame. */
  minDepthMs?: number;
  /** Highest target. Default 200. */
  maxDepthMs?: number;
  /** Target until the window has a second of packets. Default 60. */
  initialDepthMs?: number;
  /** Added to the measured spread. Default 10. */
  marginMs?: number;
  /** Window of the transit-time percentile. Default 10000. */
  windowMs?: number;
  /** Underrun after which the buffer starts up again. Default 200. */
  maxUnderrunMs?: number;
  /**
   * How long a due drop may wait for a missing or quiet slot, when the level is one frame
   * too high; n frames too high, it waits 1/n² of that. Default 1000.
   */
  maxDropWaitMs?: number;
  /** A frame that may be dropped unheard. Default: at most 2 bytes (Opus DTX / TOC only). */
  isQuiet?: (payload: Buffer) => boolean;
}
