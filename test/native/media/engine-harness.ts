/**
 * The media engine (native/media, this worktree's build) for tests: an engine whose events
 * are collected, waits for conditions with a hang guard, and the measure of what was heard.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dominantFrequency, goertzelPower } from '../../../device/media/tone.ts';
import { hangGuardMs } from '../../helpers/hang-guard.ts';

type Media = typeof import('../../../native/media/index.js');

export type {
  EngineLeg,
  EngineOptions,
  EngineStats,
} from '../../../native/media/index.js';

import type { EngineOptions } from '../../../native/media/index.js';

export const media = createRequire(import.meta.url)('../../../native/media/index.js') as Media;
export const LOCAL = '127.0.0.1';
export const RATE = 48000;

export type Event = [kind: string, arg: unknown];

/** An engine on 127.0.0.1 that keeps its events; `closed` resolves on 'close'. */
export function engine(options: EngineOptions = {}) {
  const events: Event[] = [];
  let onClose = () => {};
  const closed = new Promise<void>((resolve) => {
    onClose = resolve;
  });
  const e = new media.Engine({ host: LOCAL, ...options }, (kind, arg) => {
    events.push([kind, arg]);
    if (kind === 'close') onClose();
  });
  const of = (kind: string) => events.filter(([k]) => k === kind).map(([, a]) => a);
  return { e, events, closed, of, port: e.port };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `check` holds (looked at every 10 ms); rejects after the hang guard. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + hangGuardMs(ms);
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Received packets of a leg, 0 between legs. */
export const received = (s: { received: number } | null) => s?.received ?? 0;

/** Power at `hz` relative to the whole signal's power (1: a pure tone at hz). */
export function toneShare(pcm: Buffer, hz: number): number {
  const n = pcm.length >> 1;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (pcm.readInt16LE(i * 2) / 32768) ** 2;
  const mean = sum / n;
  if (mean === 0) return 0;
  // goertzelPower: a full-scale sine gives 0.25 (its mean square is 0.5).
  return goertzelPower(pcm, hz, RATE) / (mean / 2);
}

/** The dominant frequency of `pcm` (s16le mono at 48 kHz), to 1 Hz. */
export const toneIn = (pcm: Buffer) => dominantFrequency(pcm, RATE);

/** The s16le samples written to a file by an 'fd' playback, skipping the first `skipMs`. */
export function playedFile(path: string, skipMs = 0): Buffer {
  return readFileSync(path).subarray(Math.round((skipMs * RATE) / 1000) * 2);
}
