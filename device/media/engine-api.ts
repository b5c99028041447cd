/**
 * The babel-media addon's `Engine` as the device uses it (native/media/index.d.ts has the
 * whole contract): its options, legs and the loader. A fake can stand in (tests).
 */
import { createRequire } from 'node:module';
import type { MediaPipelineOptions, MediaStats } from './pipeline-types.ts';
import type { MediaDirection } from './session.ts';

/** The capture sources the thread reads itself. */
export type EngineCapture =
  | { kind: 'tone'; hz: number }
  | { kind: 'file'; path: string }
  | { kind: 'silence' }
  | { kind: 'alsa'; pcm: string };

/** The speakers the thread writes itself: nowhere, or aplay's stdin (a dup of `fd`). */
export type EnginePlayback = { kind: 'null' } | { kind: 'fd'; fd: number };

/** Echo control on the thread (device/media/echo/control.ts' options, in C). */
export interface EngineEcho {
  mode: 'aec' | 'duck' | 'off';
  micGainDb: number;
  speakerVolume: number;
  noiseSuppression: boolean;
  autoGain: boolean;
  /** The playback path's delay (aplay's buffer and a frame), the reference's first bulk. */
  playbackDelayMs: number;
}

/** What babel-media's `Engine` is constructed with (native/media/index.d.ts). */
export interface EngineOptions {
  host: string;
  port: number;
  frameMs: 10 | 20;
  bitrate: number;
  complexity: number;
  fec: boolean;
  packetLossPercent: number;
  jitter: NonNullable<MediaPipelineOptions['jitter']>;
  dtmfDurationMs: number;
  playoutGuardMs: number;
  capture: EngineCapture;
  playback: EnginePlayback;
  echo?: EngineEcho;
}

/** A leg as `Engine.start()` takes it. */
export interface EngineLeg {
  ip: string;
  port: number;
  direction: MediaDirection;
  srtp: { send: Buffer; recv: Buffer } | null;
  ssrc: number;
  sequence: number;
  timestamp: number;
}

/** The part of babel-media's `Engine` this file uses; a fake can stand in. */
export interface Engine {
  readonly port: number;
  start(leg: EngineLeg): void;
  stop(): MediaStats | null;
  stats(): MediaStats | null;
  pressKey(key: string): void;
  /** From the next frame; the thread writes to its own dup of an fd, never to this one. */
  setPlayback(playback: EnginePlayback): void;
  /** 0..100, clamped and rounded as EchoControl does; returns the volume in force. */
  setSpeakerVolume(volume: number): number;
  close(): void;
}

export type EngineListener = (kind: string, arg: unknown) => void;

export interface EngineModule {
  Engine: new (options: EngineOptions, onEvent: EngineListener) => Engine;
}

/** Loads the addon; throws when it is not built (the agent then runs the JS loop). */
export function loadEngine(): EngineModule {
  return createRequire(import.meta.url)('babel-media') as EngineModule;
}
