/**
 * The DSP addon (native/dsp, package babel-dsp), loaded on demand: a device whose addon did
 * not build (no libspeexdsp-dev when `npm ci` ran) still runs, with ducking instead of echo
 * cancellation (device/media/echo/control.ts).
 */
import { createRequire } from 'node:module';
import type { Processor } from 'babel-dsp';

export type DspProcessor = Processor;

/** What control.ts needs of the addon. */
export interface DspModule {
  Processor: new (frameSamples: number, tailMs: number) => DspProcessor;
  library: string;
}

/** Loads babel-dsp; throws (MODULE_NOT_FOUND, or the dlopen error) when it is not built. */
export function loadDsp(): DspModule {
  return createRequire(import.meta.url)('babel-dsp') as DspModule;
}
