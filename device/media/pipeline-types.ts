/** The contract of `MediaPipeline` (pipeline.ts): its options, statistics and results. */
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

/** Counters and gauges of one call leg. */
export interface MediaStats {
  /** Datagrams produced by `captureFrame()` (audio and DTMF) and their bytes. */
  packetsSent: number;
  bytesSent: number;
  /** Valid RTP from the remote, any payload type, duplicates and late ones included. */
  received: number;
  /** RFC 3550 cumulative loss (DTMF packets count as received). */
  lost: number;
  /** Audio packets that came after their frame was played or given up. */
  late: number;
  /** Frames concealed in playout (losses, gaps, underruns, level corrections). */
  concealed: number;
  duplicates: number;
  /** Datagrams from an address other than the remote [M-2]. */
  wrongSource: number;
  /** Datagrams from the remote that are not valid RTP (or, with SRTP, too short) [M-2]. */
  invalid: number;
  /** [S-4] Whether this leg is SRTP. */
  srtp: boolean;
  /** [S-5] SRTP packets dropped, never played: failed authentication, replayed or too old. */
  srtpAuthFailed: number;
  srtpReplayed: number;
  /** Valid RTP with a payload type other than Opus (111) or telephone-event (101). */
  unknownPayload: number;
  /** Opus packets the decoder refused (their frame was concealed instead). */
  decodeErrors: number;
  /** Key presses sent and received (RFC 4733). */
  dtmfSent: number;
  dtmfReceived: number;
  /** RFC 3550 interarrival jitter, ms. */
  jitterMs: number;
  /** Jitter buffer level and target, ms. */
  depthMs: number;
  targetMs: number;
  /** Received Opus payload over the last second, bit/s (RTP headers excluded). */
  bitrate: number;
  /** Sent Opus payload over the last second, bit/s. */
  sendBitrate: number;
}

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
