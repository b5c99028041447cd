/** The contract of `MediaPipeline` (pipeline.ts): its options, statistics and results. */
import type { EngineStats } from 'babel-media';
import type { Logger } from 'pino';
import type { DtmfKey } from './dtmf.ts';
import type { JitterBufferOptions } from './jitter/types.ts';
import type { OpusCodecOptions } from './opus.ts';
import type { RtpSenderOptions } from './rtp.ts';

/** A UDP address, as `dgram` reports a datagram's source. */
export interface MediaEndpoint {
  address: string;
  port: number;
}

/** Options of `MediaPipeline`. */
export interface MediaPipelineOptions {
  /** Where this leg's media comes from and goes to [T-9]; anything else is dropped [M-2]. */
  remote: MediaEndpoint;
  /** Frame duration, both ways; the peer must use the same [M-1]. Default 20. */
  frameMs?: 10 | 20;
  /** Opus settings (the frame duration comes from `frameMs`). */
  codec?: Omit<OpusCodecOptions, 'frameMs'>;
  /** Jitter buffer settings (the frame duration comes from `frameMs`). Default start 40 ms. */
  jitter?: Omit<JitterBufferOptions, 'frameMs' | 'clockRate'>;
  /** Pins the RTP sender's SSRC / sequence / timestamp (tests); random by default [M-1]. */
  rtp?: Omit<RtpSenderOptions, 'payloadType'>;
  /** How long a key press lasts on the wire. Default 100. */
  dtmfDurationMs?: number;
  /** How long after most arrivals the playout ticks fall (see the file comment). Default 1. */
  playoutGuardMs?: number;
  /** Per-packet detail at `trace` (behind `isLevelEnabled`). */
  log?: Logger;
  /**
   * [S-4] SRTP master keys (SDES `inline:` base64): `send` protects every datagram sent,
   * `recv` unprotects every one received. Absent or null: plain RTP.
   */
  srtp?: { readonly send: string; readonly recv: string } | null;
}

/**
 * Counters and gauges of one call leg, each described where it is declared: babel-media's
 * `EngineStats` (native/media/index.d.ts), which the native loop reports, less its two
 * extensions. One declaration serves both loops; it stands in the addon's package, which
 * has to stay self-contained (it cannot import from here).
 */
export type MediaStats = Omit<EngineStats, 'sendErrors' | 'sinkDropped'>;

/** What the last `playoutFrame()` returned. */
export interface PlayoutInfo {
  /** A decoded packet, a concealed slot, or silence (not started, or starting again). */
  kind: 'frame' | 'conceal' | 'silence';
  /** RTP timestamp of the decoded packet; -1 for the other kinds. */
  timestamp: number;
}

/** What `receive()` found worth telling: a new key press from the peer. */
export interface ReceiveResult {
  dtmf?: DtmfKey;
}
