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

/** An engine on 127.0.0.1 that keeps its events. */
export function engine(options: EngineOptions = {}) {
  const events: Event[] = [];
  const e = new media.Engine({ host: LOCAL, ...options }, (kind, arg) => {
    events.push([kind, arg]);
  });
  const of = (kind: string) => events.filter(([k]) => k === kind).map(([, a]) => a);
  /** 'close', with a hang guard (a closed engine does not keep the process alive). */
  const waitClosed = () => until(() => of('close').length > 0, "'close'");
  return { e, events, waitClosed, of, port: e.port };
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

/**
 * How much of the signal is the tone at `hz`: per 100 ms block, the power at `hz` over the
 * block's power (1: a pure tone), averaged over the blocks that are not silent. Per block,
 * so that a jump of phase (a frame dropped by the jitter buffer's level control) costs one
 * block, not the coherence of the whole signal.
 */
export function toneShare(pcm: Buffer, hz: number): number {
  const block = RATE / 10;
  let sum = 0;
  let blocks = 0;
  for (let at = 0; (at + block) * 2 <= pcm.length; at += block) {
    const b = pcm.subarray(at * 2, (at + block) * 2);
    let energy = 0;
    for (let i = 0; i < block; i++) energy += (b.readInt16LE(i * 2) / 32768) ** 2;
    if (energy === 0) continue;
    // goertzelPower: a full-scale sine gives 0.25, its mean square is 0.5.
    sum += goertzelPower(b, hz, RATE) / (energy / block / 2);
    blocks++;
  }
  return blocks === 0 ? 0 : sum / blocks;
}

/** The dominant frequency of `pcm` (s16le mono at 48 kHz), to 1 Hz. */
export const toneIn = (pcm: Buffer) => dominantFrequency(pcm, RATE);

/**
 * The s16le samples written to a file by an 'fd' playback, skipping the first `skipMs` and
 * the frames of silence (played while the jitter buffer starts).
 */
export function playedFile(path: string, skipMs = 0): Buffer {
  const pcm = readFileSync(path).subarray(Math.round((skipMs * RATE) / 1000) * 2);
  const frame = (RATE / 50) * 2;
  const voiced: Buffer[] = [];
  for (let at = 0; at + frame <= pcm.length; at += frame) {
    const f = pcm.subarray(at, at + frame);
    if (f.some((b) => b !== 0)) voiced.push(f);
  }
  return Buffer.concat(voiced);
}
