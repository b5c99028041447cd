/**
 * The babel-media addon's `Engine` as the device uses it, and its loader. The types are the
 * addon's own (native/media/index.d.ts: the whole contract, in a package that has to stay
 * self-contained), narrowed here to what the device calls and hands over: every option and
 * leg field stated (the addon's defaults never stand in for the config), and only the
 * methods the device calls, so that a fake can stand in (tests).
 */
import { createRequire } from 'node:module';
import type {
  Engine as AddonEngine,
  EngineEcho as AddonEngineEcho,
  EngineLeg as AddonEngineLeg,
  EngineOptions as AddonEngineOptions,
} from 'babel-media';
import type { MediaStats } from './pipeline-types.ts';

export type { EngineCapture, EnginePlayback } from 'babel-media';

/** Echo control on the thread (device/media/echo/control.ts' options, in C), every one stated. */
export type EngineEcho = Required<AddonEngineEcho>;

/** What the device constructs the `Engine` with: every option but the echo control and the test tap. */
export type EngineOptions = Required<Omit<AddonEngineOptions, 'echo' | 'tapFd'>> & {
  echo?: EngineEcho;
};

/** A leg as the device starts it: direction, keys and the RTP start values all given [M-1]. */
export type EngineLeg = Required<AddonEngineLeg>;

/** The part of babel-media's `Engine` the device calls; a fake implements only this. */
export interface Engine
  extends Pick<AddonEngine, 'port' | 'pressKey' | 'setPlayback' | 'setSpeakerVolume' | 'close'> {
  start(leg: EngineLeg): void;
  /** The addon's `EngineStats` are these and two extensions the device does not read. */
  stop(): MediaStats | null;
  stats(): MediaStats | null;
}

/**
 * What the device hears from the thread: any kind, any argument, each checked before it is
 * believed (wider than the addon's `EngineEventHandler`, so it can stand for one).
 */
export type EngineListener = (kind: string, arg: unknown) => void;

export interface EngineModule {
  Engine: new (options: EngineOptions, onEvent: EngineListener) => Engine;
}

/** Loads the addon; throws when it is not built (the agent then runs the JS loop). */
export function loadEngine(): EngineModule {
  // Typed as the addon declares itself, not cast: its `Engine` has to fit the narrowed one.
  const addon: typeof import('babel-media') = createRequire(import.meta.url)('babel-media');
  return addon;
}
