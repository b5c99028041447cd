/**
 * Media sessions for tests: a session on 127.0.0.1 whose sink records what it plays,
 * tone frames, real-time pacing and the measure of what was heard.
 */
import type { DtmfKey } from '../../device/media/dtmf.ts';
import type { PlayoutInfo } from '../../device/media/pipeline.ts';
import { MediaSession, type MediaSessionOptions } from '../../device/media/session.ts';
import { dominantFrequency, generateTone } from '../../device/media/tone.ts';
import { testLog } from './log.ts';

export const F = 20;
export const RATE = 48000;
export const LOCAL = '127.0.0.1';

export function toneFrame(hz: number, k: number): Buffer {
  return generateTone(hz, F, RATE, 8000, (2 * Math.PI * hz * k * F) / 1000);
}

export interface Played {
  pcm: Buffer;
  kind: PlayoutInfo['kind'];
  ts: number;
}

/** A session on 127.0.0.1 whose sink records what it plays (the info object is reused). */
export async function session(options: Partial<MediaSessionOptions> = {}) {
  const played: Played[] = [];
  const keys: DtmfKey[] = [];
  const s = new MediaSession({
    log: testLog,
    host: LOCAL,
    sink: (pcm, info) => played.push({ pcm, kind: info.kind, ts: info.timestamp }),
    ...options,
  });
  s.on('dtmf', (key) => keys.push(key));
  const port = await s.open();
  return { s, port, played, keys };
}

/**
 * Calls `fn(k)` for k = 0..n-1 every 20 ms on a drift-free real-time schedule, ending early
 * once `done()` holds.
 */
export function pace(n: number, fn: (k: number) => void, done = () => false): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let k = 0;
    const tick = () => {
      while (k < n && t0 + k * F <= performance.now()) fn(k++);
      if (k >= n || done()) resolve();
      else setTimeout(tick, Math.max(1, t0 + k * F - performance.now()));
    };
    tick();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 10 ms until it holds, for at most `ms`. */
export async function until(check: () => boolean, ms = 2000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await sleep(10)) {
    if (check()) return true;
  }
  return check();
}

/** The dominant frequency of up to a second of decoded frames from the middle of `played`. */
export function toneOf(played: Played[]): number {
  const frames = played.filter((p) => p.kind === 'frame');
  const mid = Math.floor(frames.length / 2);
  const pcm = Buffer.concat(frames.slice(Math.max(0, mid - 25), mid + 25).map((p) => p.pcm));
  return dominantFrequency(pcm, RATE);
}

/**
 * Resolves once `check` holds, looking again after each turn of the event loop (so after
 * each batch of socket events): for waiting on datagrams while a FakeClock stands still.
 */
export async function settled(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}
