/**
 * The media engine (native/media, this worktree's build) for tests: an engine whose events
 * are collected, waits for conditions with a hang guard, and the measure of what was heard.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { EchoControl, type EchoControlOptions } from '../../../device/media/echo/control.ts';
import type { DspModule } from '../../../device/media/echo/dsp.ts';
import { MediaPipeline } from '../../../device/media/pipeline.ts';
import { dominantFrequency, goertzelPower } from '../../../device/media/tone.ts';
import { hangGuardMs } from '../../helpers/hang-guard.ts';
import { session } from '../../helpers/media-session.ts';

type Media = typeof import('../../../native/media/index.js');

export type {
  EngineEcho,
  EngineLeg,
  EngineOptions,
  EngineStats,
} from '../../../native/media/index.js';

import type { EngineEcho, EngineOptions } from '../../../native/media/index.js';

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

/** An engine with `options` and a TypeScript `MediaSession`, both closed at the test's end. */
export async function engineAndSession(
  t: { teardown: (fn: () => Promise<void>) => void },
  options: EngineOptions = {},
) {
  const x = engine(options);
  const s = await session();
  t.teardown(async () => {
    x.e.close();
    await s.s.close();
  });
  return { x, s };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `check` holds (looked at every 10 ms); rejects after the hang guard, with
 * what `state` says of where things stood.
 */
export async function until(
  check: () => boolean,
  what: string,
  ms = 5000,
  state?: () => string,
): Promise<void> {
  const end = performance.now() + hangGuardMs(ms);
  while (!check()) {
    if (performance.now() > end)
      throw new Error(`timed out waiting for ${what}${state ? ` (${state()})` : ''}`);
    await sleep(10);
  }
}

/**
 * Watches this process's event loop from now on: a timer held up by more than `ms` says
 * the machine is starving threads (other work beside the tests), the engine's too. What a
 * test measures of real-time quality (concealment, jitter buffer depth) is only asserted
 * on a machine that was not: elsewhere it is logged.
 */
export function loadWatch(ms = 40) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    /** Stops watching: whether no timer was held up beyond `ms`. */
    quiet(): boolean {
      h.disable();
      return h.max / 1e6 <= ms;
    },
    heldUpMs: () => Math.round(h.max / 1e6),
  };
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
 * Whether `pcm`'s dominant frequency is `hz`, within 2 Hz: frames concealed or dropped
 * (a loaded machine) jump the phase and move the peak of the whole by a hertz.
 */
export function hearsTone(pcm: Buffer, hz: number): [boolean, string] {
  const at = toneIn(pcm);
  return [Math.abs(at - hz) <= 2, `${at} Hz, not ${hz}`];
}

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

/** This tree's babel-dsp (node_modules may point at another checkout's build). */
const dsp = createRequire(import.meta.url)('../../../native/dsp/index.js') as DspModule;

/**
 * The TypeScript EchoControl (device/media/echo/control.ts) with `echo`'s options, as the
 * agent makes it for an engine with these options (absent ones as the engine takes them).
 */
export function tsEcho(echo: EngineEcho, frameSamples = 960): EchoControl {
  const o: EchoControlOptions = {
    mode: echo.mode ?? 'off',
    frameSamples,
    micGainDb: echo.micGainDb ?? 0,
    speakerVolume: echo.speakerVolume ?? 100,
    noiseSuppression: echo.noiseSuppression ?? false,
    autoGain: echo.autoGain ?? false,
    playbackDelayMs: echo.playbackDelayMs ?? 0,
    log: pino({ level: 'silent' }),
    loadDsp: () => dsp,
  };
  return new EchoControl(o);
}

/** The RTP start of the legs whose datagrams are compared with a TS pipeline's. */
export const RTP_START = { ssrc: 42, sequence: 1, timestamp: 7 } as const;

/**
 * The first `n` datagrams of an engine with `options` on a send leg (RTP_START) to a
 * socket of the test's; `during` runs once `at` of them have come (a change mid-call).
 */
export async function sent(
  options: EngineOptions,
  n: number,
  during?: { at: number; run: (x: ReturnType<typeof engine>, got: Buffer[]) => void },
) {
  const sink = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sink.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sink.bind(0, LOCAL, r));
  const x = engine(options);
  try {
    x.e.start({ ip: LOCAL, port: sink.address().port, direction: 'send', ...RTP_START });
    if (during) {
      await until(() => got.length >= during.at, `${during.at} datagrams`);
      during.run(x, got);
    }
    await until(
      () => got.length >= n,
      `${n} datagrams`,
      5000,
      () =>
        `${got.length} came; stats ${JSON.stringify(x.e.stats())}; events ${JSON.stringify(x.events)}`,
    );
    x.e.stop();
    return { got: got.slice(0, n), port: x.port };
  } finally {
    x.e.close();
    sink.close();
  }
}

/** The datagrams a TS MediaPipeline with RTP_START sends for `frames`, 20 ms apart. */
export function tsSent(port: number, frames: Buffer[]): Buffer[] {
  const ts = new MediaPipeline({ remote: { address: LOCAL, port }, rtp: RTP_START });
  return frames.map((f, k) => ts.captureFrame(f, k * 20)[0]!);
}
