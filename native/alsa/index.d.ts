/**
 * babel-alsa: ALSA capture over the system's libasound, 48 kHz mono s16le, read on a thread
 * of its own and delivered period by period (see src/alsa_addon.c for the whole contract).
 * Bad arguments throw (TypeError, RangeError); everything ALSA reports arrives as an event.
 */

/** What ALSA chose when the PCM opened (read back after snd_pcm_hw_params). */
export interface OpenInfo {
  /** Frames per second; the addon asks for 48000 (dir 0), a `hw:` PCM may give another. */
  rate: number;
  /** Frames per period, as chosen: every 'data' Buffer is this many frames. */
  periodSize: number;
  /** Frames in ALSA's ring buffer. */
  bufferSize: number;
}

/** A lost stretch of audio: EPIPE (overrun), ESTRPIPE (suspend), or periods JS fell behind on. */
export interface XrunInfo {
  cause: 'overrun' | 'suspend' | 'backlog';
  /** Periods dropped ('backlog'); 0 when ALSA does not say. */
  periods: number;
}

/** An ALSA failure: message `<call>: <snd_strerror>`, errno the negative code. */
export interface AlsaError extends Error {
  errno: number;
}

export type CaptureEvent =
  | ['open', OpenInfo]
  | ['data', Buffer]
  | ['xrun', XrunInfo]
  | ['error', AlsaError]
  | ['close', undefined];

export type CaptureListener = (...event: CaptureEvent) => void;

export interface CaptureOptions {
  /** Frames per period asked for (16..48000). */
  periodSize: number;
  /** Periods in the ring buffer asked for (2..64, default 4). */
  periods?: number;
}

/**
 * Opens `pcm` for capture on its own thread. Events, in order: 'open' or 'error' (open
 * failed); then 'data', 'xrun'; 'error' if the device is lost; 'close' always last, once.
 */
export declare class Capture {
  constructor(pcm: string, options: CaptureOptions, onEvent: CaptureListener);
  /** Asks the thread to stop; returns at once. 'close' follows. Idempotent. */
  close(): void;
}

/** 48000. */
export declare const SAMPLE_RATE: number;
/** snd_asoundlib_version() of the libasound linked, e.g. "1.2.8". */
export declare const libasoundVersion: string;
