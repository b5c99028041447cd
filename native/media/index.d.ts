/**
 * babel-media: the device's per-frame media loop (capture -> Opus -> RTP/SRTP -> UDP, and
 * UDP -> SRTP/RTP -> jitter buffer -> Opus -> playout) on a native thread per `Engine`, so a
 * call does not wake the JavaScript event loop per frame (issue 15). A port of
 * device/media/session.ts + pipeline.ts and the capture backends; the TypeScript is the
 * specification (test/native/media/engine*.test.ts runs the two against each other).
 */

/** A DTMF key (RFC 4733 events 0..15). */
export type DtmfKey =
  | '0'
  | '1'
  | '2'
  | '3'
  | '4'
  | '5'
  | '6'
  | '7'
  | '8'
  | '9'
  | '*'
  | '#'
  | 'A'
  | 'B'
  | 'C'
  | 'D';

/** Which way a leg runs: a call both ways, a page only out of the pager [G-2]. */
export type MediaDirection = 'both' | 'send' | 'receive';

/** Where the microphone's frames come from (the capture backends of device/audio/). */
export type EngineCapture =
  /** A sine at `hz`, -12 dBFS, continuous in phase (capture-tone.ts' samples). */
  | { kind: 'tone'; hz: number }
  /** A 48 kHz 16-bit mono or stereo WAV, read as it plays and looping (capture-file.ts). */
  | { kind: 'file'; path: string }
  /** Zeros (capture-silence.ts). */
  | { kind: 'silence' }
  /** libasound capture of the PCM `pcm` (e.g. 'default', 'plughw:1'), 48 kHz mono s16. */
  | { kind: 'alsa'; pcm: string };

/** Where the played frames go. */
export type EnginePlayback =
  /** Discarded. */
  | { kind: 'null' }
  /**
   * Each frame (s16le mono, 48 kHz) written to `fd` (e.g. an aplay's stdin). The engine
   * sets O_NONBLOCK on it and never closes it; a frame the reader cannot take at once
   * (EAGAIN) is dropped and counted (`sinkDropped`, one 'warning' a leg).
   */
  | { kind: 'fd'; fd: number };

/** Jitter buffer settings (device/media/jitter/types.ts); absent: that file's defaults. */
export interface EngineJitterOptions {
  minDepthMs?: number;
  maxDepthMs?: number;
  /** Default two frames (pipeline.ts). */
  initialDepthMs?: number;
  marginMs?: number;
  windowMs?: number;
  maxUnderrunMs?: number;
  maxDropWaitMs?: number;
}

/**
 * Options of `new Engine()`. Each absent option takes MediaPipeline's default. A bad one
 * throws TypeError (wrong type) or RangeError (out of range), naming it.
 */
export interface EngineOptions {
  /** IPv4 address to bind the media socket to. Default '0.0.0.0'. */
  host?: string;
  /** UDP port to bind; 0 (default) takes any free port [T-9]. */
  port?: number;
  /** Frame duration both ways [M-1]. Default 20. */
  frameMs?: 10 | 20;
  /** Opus bitrate, 6000..510000 bit/s. Default 24000. */
  bitrate?: number;
  /** Opus complexity 0..10. Default 5. */
  complexity?: number;
  /** In-band FEC in the packets sent. Default true. */
  fec?: boolean;
  /** Loss the encoder expects, 0..100 %. Default 10. */
  packetLossPercent?: number;
  jitter?: EngineJitterOptions;
  /** How long a key press lasts on the wire. Default 100. */
  dtmfDurationMs?: number;
  /** How long after most arrivals the playout ticks fall (pipeline.ts). Default 1. */
  playoutGuardMs?: number;
  /** Default silence. Opened only during a leg that sends [G-2]. */
  capture?: EngineCapture;
  /** Default null. */
  playback?: EnginePlayback;
}

/** One call leg. */
export interface EngineLeg {
  /** The peer's media address [T-9]: an IPv4 literal; from anywhere else is dropped [M-2]. */
  ip: string;
  port: number;
  /** Default 'both'. 'send': no playout; 'receive': no microphone, nothing sent [G-2]. */
  direction?: MediaDirection;
  /** [S-4] SRTP master keys (16 key + 14 salt bytes each), or null for plain RTP. */
  srtp?: { send: Buffer; recv: Buffer } | null;
  /** The RTP sender's start values [M-1]; random when absent. */
  ssrc?: number;
  sequence?: number;
  timestamp?: number;
}

/** MediaStats of device/media/pipeline-types.ts (same names and meanings), plus two. */
export interface EngineStats {
  packetsSent: number;
  bytesSent: number;
  received: number;
  lost: number;
  late: number;
  concealed: number;
  duplicates: number;
  wrongSource: number;
  invalid: number;
  srtp: boolean;
  srtpAuthFailed: number;
  srtpReplayed: number;
  unknownPayload: number;
  decodeErrors: number;
  dtmfSent: number;
  dtmfReceived: number;
  jitterMs: number;
  depthMs: number;
  targetMs: number;
  bitrate: number;
  sendBitrate: number;
  /** Extension: datagrams the socket refused to send. */
  sendErrors: number;
  /** Extension: playout frames the 'fd' sink could not take. */
  sinkDropped: number;
}

/** What the engine reports, on the JS thread, in order. */
export interface EngineEvents {
  /** A key press from the peer (RFC 4733), once per press. */
  dtmf: DtmfKey;
  /** [G-3] A two-way leg: nothing valid from the peer for 2 s while sending. Once a leg. */
  silent: undefined;
  /**
   * The microphone opened, or failed to open / was lost: retried after `retryInMs`
   * (500 ms doubling to 10 s, jittered, as device/audio/resilient.ts). The leg goes on.
   */
  capture: { state: 'open' } | { state: 'error'; message: string; retryInMs: number };
  /** A socket error, a garbage datagram, dropped playout frames: at most once each a leg. */
  warning: { message: string };
  /**
   * Last, exactly once, after close() (or the object collected): the thread has ended and
   * the socket is closed. A closed engine does not keep the process alive: with nothing
   * else keeping it, the process may exit before this is delivered.
   */
  close: undefined;
}

export type EngineEventHandler = <K extends keyof EngineEvents>(
  kind: K,
  arg: EngineEvents[K],
) => void;

/**
 * One media socket and its thread. The socket is bound in the constructor (a bind failure
 * throws an Error whose `code` is the errno name, e.g. 'EADDRINUSE') and stays bound
 * between legs. Only a running leg keeps the process alive; a closed engine never does.
 * The object being garbage-collected closes it.
 */
export class Engine {
  constructor(options: EngineOptions, onEvent: EngineEventHandler);
  /** The bound UDP port. */
  readonly port: number;
  /** The running leg's direction, or null between legs. */
  readonly direction: MediaDirection | null;
  /**
   * Starts a leg with a fresh pipeline (RTP sender, jitter buffer, codec [M-1]); a running
   * leg is stopped first. Throws for a bad leg (TypeError/RangeError) or a closed engine.
   */
  start(leg: EngineLeg): void;
  /** Ends the leg synchronously; its final statistics, or null between legs. */
  stop(): EngineStats | null;
  /** The running leg's statistics, or null between legs. */
  stats(): EngineStats | null;
  /** Sends a key press; RangeError for a non-DTMF key; ignored between legs and on receive legs. */
  pressKey(key: DtmfKey): void;
  /** Stops the leg and the thread, closes the socket; idempotent. A 'close' event follows. */
  close(): void;
}

/** Test-only bindings of the pure parts (jitter buffer, RTP, DTMF, SRTP). Not an API. */
export const _test: Record<string, unknown>;
