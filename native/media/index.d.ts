/**
 * babel-media: the device's per-frame media loop (capture -> Opus -> RTP/SRTP -> UDP, and
 * UDP -> SRTP/RTP -> jitter buffer -> Opus -> playout) on a native thread per `Engine`, so a
 * call does not wake the JavaScript event loop per frame (issue 15). A port of
 * device/media/session.ts + pipeline.ts and the capture backends; the TypeScript is the
 * specification (test/native/media/engine*.test.ts runs the two against each other).
 */

/**
 * One DTMF key: RFC 4733 events 0..15 in this order (device/media/dtmf.ts' `DTMF_KEYS`).
 * The one declaration; device/media/dtmf.ts takes it from here.
 */
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
   * Each frame (s16le mono, 48 kHz) written to `fd` (e.g. an aplay's stdin) through
   * aplay's latency guard (device/audio/playback-aplay.ts). The engine writes only to its
   * own dup of `fd` (close-on-exec, made at once: the caller may close or reuse its number
   * right after), closed when the sink is replaced, at close(), or when the reader is gone
   * (EPIPE). O_NONBLOCK is set on the open file (shared with `fd`; Node's pipes have it
   * anyway). A frame is dropped and counted (`sinkDropped`, one 'warning' a leg) when it
   * would put more than `maxLatencyMs` of audio ahead of the clock, when a FIFO already
   * holds that much (its reader is not reading), or when the write fails (EAGAIN, EPIPE).
   * (Node's child stdio, aplay's stdin, is a socketpair: there, as for AplayPlayback, the
   * socket's buffer fills before EAGAIN.) A regular file (a recording) takes every frame.
   */
  | { kind: 'fd'; fd: number /** Default 200, 1..60000. */; maxLatencyMs?: number };

/**
 * Echo control on the engine thread: device/media/echo/control.ts (EchoControl) in C, with
 * the same options. Every captured frame goes through it before the encoder, every frame
 * played (silence and concealment too) before the speaker. Made once per Engine, it lives
 * across legs. Absent: no echo control at all (off, 0 dB, volume 100, no DSP).
 */
export interface EngineEcho {
  /** 'aec': speexdsp's canceller with the measured delay; 'duck'; 'off'. Default 'off'. */
  mode?: 'aec' | 'duck' | 'off';
  /** Microphone gain, dB, -60..60. Default 0. */
  micGainDb?: number;
  /** Speaker volume 0..100 (the gain is (v/100)^2). Default 100. */
  speakerVolume?: number;
  /** speexdsp noise suppression. Default false. */
  noiseSuppression?: boolean;
  /** speexdsp automatic gain. Default false. */
  autoGain?: boolean;
  /** The playback path's delay (aplay's buffer and a frame), ms, 0..10000: the first bulk. Default 0. */
  playbackDelayMs?: number;
}

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
  /** Default null. Replaced at runtime with `setPlayback()`. */
  playback?: EnginePlayback;
  /** Default: none. */
  echo?: EngineEcho;
  /**
   * Test seam, not for devices: every frame played, as decoded (before echo control and
   * the sink's guard), written (blocking) to a dup of this descriptor.
   */
  tapFd?: number;
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

/**
 * Counters and gauges of one call leg: what MediaPipeline (device/media/pipeline.ts) counts,
 * the same names and meanings, plus two extensions. This is the one declaration: the
 * TypeScript loop's `MediaStats` (device/media/pipeline-types.ts) is this less the two.
 */
export interface EngineStats {
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
  /** Extension: datagrams the socket refused to send. */
  sendErrors: number;
  /** Extension: playout frames the 'fd' sink did not take (latency guard, EAGAIN, EPIPE). */
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
  /**
   * What the echo control logs (control.ts): 'heard' once an echo is heard and cancelled
   * ('echo heard: cancelling'), 'delay' when the reference moves ('echo delay measured',
   * before 'heard' when both come on one frame); `delayMs`: the echo's measured delay.
   */
  echo: { event: 'heard' | 'delay'; delayMs: number };
  /** A socket error, a garbage datagram, dropped playout frames: at most once each a leg. */
  warning: { message: string };
  /**
   * Last, exactly once, after close() (or the object collected): the thread has ended and
   * the socket is closed. close() keeps the process alive until this is delivered (the
   * thread ends at once); a collected engine does not.
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
 * between legs. Only a running leg keeps the process alive, and a close() until its 'close'.
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
  /**
   * The speaker from the next frame (a new aplay's stdin, or 'null' while there is none):
   * the engine dup()s `fd` now and closes its copy of the sink it replaces before this
   * returns, so nothing is written to the old descriptor after. Throws for a bad playback
   * (TypeError/RangeError) or a descriptor it cannot dup (an Error with the errno's `code`,
   * e.g. 'EBADF'; the sink is then unchanged). Ignored on a closed engine.
   */
  setPlayback(playback: EnginePlayback): void;
  /**
   * Speaker volume 0..100 from the next frame, rounded and clamped as EchoControl's
   * setSpeakerVolume (NaN: 0); returns the volume now in force. TypeError for a non-number.
   */
  setSpeakerVolume(volume: number): number;
  /** Microphone gain, dB, from the next frame. TypeError/RangeError for a non-finite number. */
  setMicGainDb(db: number): void;
  /**
   * Stops the leg and the thread, closes the socket and the engine's copy of the speaker's
   * descriptor (nothing is written to it once this returns); idempotent. A 'close' event
   * follows.
   */
  close(): void;
}

/** Test-only bindings of the pure parts (jitter buffer, RTP, DTMF, SRTP). Not an API. */
export const _test: Record<string, unknown>;
