/**
 * Media latency of the native loop (issue 15): the babel-media `Engine` beside the
 * TypeScript `MediaSession`, in real time on 127.0.0.1, each call straight and through
 * test/helpers/impairment.ts' shim with 20 ms of jitter (uniform 0..20 ms per packet).
 *
 * - TS pair: two `MediaSession`s as bench/media.ts sets them up (tone frames from two
 *   20 ms pacers; latency from `sendFrame` to the peer's sink, matched by RTP timestamp).
 * - Mixed pair, one full-duplex call measured both ways:
 *   - engine -> TS: the engine's microphone is a `file:` WAV written here (silence with a
 *     20 ms 1 kHz burst at -6 dBFS in one frame of every BURST_EVERY). The engine's file
 *     source takes frame k at S + (k + 1) * F on CLOCK_MONOTONIC, S being the instant its
 *     thread opened the source after `start()` (native/media/src/capture.c, capture_read).
 *     S is not visible from JS; it is bounded: S >= t0 (performance.now() just before
 *     `start()`; performance.now() runs on the same CLOCK_MONOTONIC, so no drift), and
 *     S <= Ŝ = min over k of (arrival of datagram k at the session's socket - (k + 1) * F).
 *     Latency is taken from Ŝ + (k + 1) * F, so it is low by Ŝ - S, at most Ŝ - t0 (printed
 *     per call). Unlike the TS pair's figure (which starts at the late pacer's `sendFrame`),
 *     this one includes the engine thread's own wake-up delay. Matched by RTP timestamp
 *     (the leg starts at timestamp 0); every frame is measured, and the burst frames apart
 *     (their decoded frame checked loud).
 *   - TS -> engine: the session sends the same burst pattern from a 20 ms pacer
 *     (performance.now() at `sendFrame`); the engine plays into a FIFO this process reads
 *     (playback { kind: 'fd' }); arrival = the 'data' event carrying the first loud frame
 *     after a quiet one. This includes the reader's own wake-up (the pipe, epoll, the event
 *     loop); a control measures that: a worker thread writes its CLOCK_MONOTONIC stamp into
 *     a second FIFO every 20 ms during the call, read here the same way.
 * Latencies are of frames captured after the first second. Late and concealed shares are
 * the receiver's own stats (late / received, concealed / received).
 *
 *   node --import tsx bench/media-engine.ts [--seconds 30]
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Engine as EngineClass, EngineStats } from 'babel-media';
import pino from 'pino';
import type { MediaStats, PlayoutInfo } from '../device/media/pipeline.ts';
import { MediaSession, type UdpSocket } from '../device/media/session.ts';
import { generateTone } from '../device/media/tone.ts';
import { ImpairmentShim } from '../test/helpers/impairment.ts';
import { percentile } from './lib/proc.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' } } });
const seconds = Number(values.seconds);
const F = 20;
const SAMPLES = (48000 * F) / 1000;
const FRAMES = Math.round((seconds * 1000) / F);
/** Frames of the first second: left out of the latencies. */
const WARMUP = 1000 / F;
/** One burst every BURST_EVERY frames (200 ms: more samples for p99), at BURST_AT. */
const BURST_EVERY = 10;
const BURST_AT = 3;
/** A played frame whose peak is above this is loud (the burst peaks at 16384). */
const LOUD = 4000;
const LOCAL = '127.0.0.1';
const log = pino({ level: 'silent' });
const { Engine } = createRequire(import.meta.url)('babel-media') as {
  Engine: typeof EngineClass;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-engine-'));
const silence = Buffer.alloc(SAMPLES * 2);
const burst = generateTone(1000, F, 48000, 16384, 0);

/** The engine's microphone: BURST_EVERY frames, silent but for the burst at BURST_AT. */
function writeWav(file: string): void {
  const data = Buffer.concat(
    Array.from({ length: BURST_EVERY }, (_, k) => (k === BURST_AT ? burst : silence)),
  );
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(48000, 24);
  h.writeUInt32LE(96000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([h, data]));
}

function peak(pcm: Buffer, at = 0): number {
  let m = 0;
  for (let i = at; i + 1 < at + SAMPLES * 2 && i + 1 < pcm.length; i += 2) {
    m = Math.max(m, Math.abs(pcm.readInt16LE(i)));
  }
  return m;
}

/** Calls `fn(k)` for k = 0..FRAMES-1 every 20 ms from `t0`, drift-free (bench/media.ts). */
function pace(t0: number, fn: (k: number) => void): Promise<void> {
  return new Promise((resolve) => {
    let k = 0;
    const tick = () => {
      while (k < FRAMES && t0 + k * F <= performance.now() + 1) fn(k++);
      if (k >= FRAMES) resolve();
      else setTimeout(tick, Math.max(0, t0 + k * F - performance.now()));
    };
    tick();
  });
}

/** A FIFO's two ends: the write end's fd for the engine, the read end as a stream. */
function fifo(name: string): { writeFd: number; reader: net.Socket } {
  const file = path.join(dir, name);
  execFileSync('mkfifo', [file]);
  const readFd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(file, fs.constants.O_WRONLY);
  return { writeFd, reader: new net.Socket({ fd: readFd, readable: true, writable: false }) };
}

interface Figures {
  p50: number;
  p99: number;
  n: number;
}
function figures(xs: number[]): Figures {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), n: s.length };
}
const ms = (x: number) => x.toFixed(1);
const fig = (f: Figures) => `p50 ${ms(f.p50)} ms, p99 ${ms(f.p99)} ms (${f.n})`;
const shares = (s: MediaStats | EngineStats) => {
  const r = Math.max(1, s.received);
  return { late: (100 * s.late) / r, concealed: (100 * s.concealed) / r };
};
const shareText = (s: MediaStats | EngineStats) => {
  const x = shares(s);
  return `late ${x.late.toFixed(2)} %, concealed ${x.concealed.toFixed(2)} % of ${s.received} received`;
};

/** The TS pair of bench/media.ts: latency of every frame after the first second. */
async function tsCall(jitterMs: number): Promise<{ latency: Figures; stats: MediaStats[] }> {
  const captured = [new Float64Array(FRAMES), new Float64Array(FRAMES)];
  const ts0 = [-1, -1];
  const latency: number[] = [];
  const make = (i: number) =>
    new MediaSession({
      log,
      host: LOCAL,
      createSocket: () => {
        const s = dgram.createSocket('udp4');
        const send = s.send.bind(s) as (m: Buffer, p: number, a: string) => void;
        return Object.assign(s, {
          send: (m: Buffer, p: number, a: string) => {
            if (ts0[i]! < 0) ts0[i] = m.readUInt32BE(4);
            send(m, p, a);
          },
        }) as UdpSocket;
      },
      sink: (_pcm, info) => {
        const from = 1 - i;
        if (info.kind !== 'frame' || ts0[from]! < 0) return;
        const k = ((info.timestamp - ts0[from]!) >>> 0) / SAMPLES;
        if (k >= WARMUP && k < FRAMES) latency.push(performance.now() - captured[from]![k]!);
      },
    });
  const a = make(0);
  const b = make(1);
  const [portA, portB] = [await a.open(), await b.open()];
  const shim = jitterMs > 0 ? await ImpairmentShim.open({ seed: 7, jitterMs }) : null;
  shim?.connect({ ip: LOCAL, port: portA }, { ip: LOCAL, port: portB });
  a.start({ ip: LOCAL, port: shim?.portA ?? portB });
  b.start({ ip: LOCAL, port: shim?.portB ?? portA });
  const tones = [440, 1000].map((hz) =>
    Array.from({ length: 50 }, (_, k) =>
      generateTone(hz, F, 48000, 8000, (2 * Math.PI * hz * k * F) / 1000),
    ),
  );
  const t0 = performance.now() + 50;
  await Promise.all(
    [a, b].map((s, i) =>
      pace(t0 + i * 7.3, (k) => {
        captured[i]![k] = performance.now();
        s.sendFrame(tones[i]![k % 50]!);
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 300));
  const stats = [a.stop()!, b.stop()!];
  await Promise.all([a.close(), b.close(), shim?.close()]);
  return { latency: figures(latency), stats };
}

/** A worker writing its CLOCK_MONOTONIC (ms) into `fd` every 20 ms: the reader's wake-up. */
const CONTROL = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const b = Buffer.alloc(8);
const t = setInterval(() => {
  b.writeDoubleLE(Number(process.hrtime.bigint()) / 1e6);
  try { fs.writeSync(workerData.fd, b); } catch {}
}, 20);
parentPort.once('message', () => { clearInterval(t); parentPort.close(); });
`;

interface MixedResult {
  engineToTs: Figures;
  engineToTsBursts: Figures;
  /** Bursts whose decoded frame was not loud (a misalignment would show here). */
  quietBursts: number;
  /** Ŝ - t0: how much the engine -> TS latencies may read low. */
  bound: number;
  /** Datagram arrival at the session's socket after the engine's deadline (Ŝ-based). */
  sendSide: Figures;
  tsToEngine: Figures;
  onsets: number;
  bursts: number;
  control: Figures;
  sessionStats: MediaStats;
  engineStats: EngineStats;
}

/** An Engine and a MediaSession in one call, both ways. */
async function mixedCall(jitterMs: number): Promise<MixedResult> {
  const wav = path.join(dir, 'burst.wav');
  writeWav(wav);
  const play = fifo(`play-${jitterMs}`);
  const ctl = fifo(`control-${jitterMs}`);
  const arrival = new Float64Array(FRAMES).fill(Number.NaN); // engine datagram k at the session
  const heard = new Float64Array(FRAMES).fill(Number.NaN); // engine frame k at the session's sink
  let quietBursts = 0;
  const session = new MediaSession({
    log,
    host: LOCAL,
    createSocket: () => {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => {
        if (m.length < 12 || (m[1]! & 0x7f) !== 111) return; // Opus only (no events)
        const k = m.readUInt32BE(4) / SAMPLES;
        if (Number.isInteger(k) && k < FRAMES && Number.isNaN(arrival[k]!))
          arrival[k] = performance.now();
      });
      return s as UdpSocket;
    },
    sink: (pcm: Buffer, info: Readonly<PlayoutInfo>) => {
      if (info.kind !== 'frame') return;
      const k = info.timestamp / SAMPLES;
      if (!Number.isInteger(k) || k >= FRAMES) return;
      heard[k] = performance.now();
      if (k % BURST_EVERY === BURST_AT && peak(pcm) < LOUD) quietBursts++;
    },
  });
  const warnings: string[] = [];
  const engine = new Engine(
    {
      host: LOCAL,
      capture: { kind: 'file', path: wav },
      playback: { kind: 'fd', fd: play.writeFd },
    },
    (kind, arg) => {
      if (
        kind === 'warning' ||
        (kind === 'capture' && (arg as { state: string }).state === 'error')
      ) {
        warnings.push(`${kind}: ${JSON.stringify(arg)}`);
      }
    },
  );
  const sessionPort = await session.open();
  const shim = jitterMs > 0 ? await ImpairmentShim.open({ seed: 7, jitterMs }) : null;
  shim?.connect({ ip: LOCAL, port: sessionPort }, { ip: LOCAL, port: engine.port });

  // TS -> engine: bursts sent at known times, onsets read from the engine's playback.
  const sentBursts: number[] = [];
  const tsToEngine: number[] = [];
  let onsets = 0;
  let pending = Buffer.alloc(0);
  let wasLoud = false;
  play.reader.on('data', (chunk: Buffer) => {
    const now = performance.now();
    pending = Buffer.concat([pending, chunk]);
    let at = 0;
    for (; at + SAMPLES * 2 <= pending.length; at += SAMPLES * 2) {
      const loud = peak(pending, at) >= LOUD;
      if (loud && !wasLoud) {
        onsets++;
        // The burst sent last before this read (so a latency over a burst period would
        // read short by one period: the p99s stay far below it).
        let i = sentBursts.length - 1;
        while (i >= 0 && sentBursts[i]! > now) i--;
        if (i >= 0 && i * BURST_EVERY + BURST_AT >= WARMUP) tsToEngine.push(now - sentBursts[i]!);
      }
      wasLoud = loud;
    }
    pending = pending.subarray(at);
  });
  const control: number[] = [];
  let ctlPending = Buffer.alloc(0);
  ctl.reader.on('data', (chunk: Buffer) => {
    const now = Number(process.hrtime.bigint()) / 1e6;
    ctlPending = Buffer.concat([ctlPending, chunk]);
    let at = 0;
    for (; at + 8 <= ctlPending.length; at += 8) control.push(now - ctlPending.readDoubleLE(at));
    ctlPending = ctlPending.subarray(at);
  });
  const worker = new Worker(CONTROL, { eval: true, workerData: { fd: ctl.writeFd } });

  const t0 = performance.now();
  engine.start({ ip: LOCAL, port: shim?.portB ?? sessionPort, timestamp: 0, sequence: 0 });
  session.start({ ip: LOCAL, port: shim?.portA ?? engine.port });
  await pace(performance.now() + 50 + 7.3, (k) => {
    const isBurst = k % BURST_EVERY === BURST_AT;
    if (isBurst) sentBursts.push(performance.now());
    session.sendFrame(isBurst ? burst : silence);
  });
  await new Promise((r) => setTimeout(r, 300));
  worker.postMessage('stop');
  await new Promise((r) => worker.once('exit', r));
  const engineStats = engine.stop()!;
  const sessionStats = session.stop()!;
  engine.close();
  await Promise.all([session.close(), shim?.close()]);
  for (const f of [play, ctl]) {
    f.reader.destroy();
    fs.closeSync(f.writeFd);
  }
  for (const w of warnings) console.log(`  engine ${w}`);

  let sHat = Number.POSITIVE_INFINITY;
  for (let k = 0; k < FRAMES; k++) {
    if (!Number.isNaN(arrival[k]!)) sHat = Math.min(sHat, arrival[k]! - (k + 1) * F);
  }
  const all: number[] = [];
  const bursts: number[] = [];
  const sendSide: number[] = [];
  for (let k = WARMUP; k < FRAMES; k++) {
    const due = sHat + (k + 1) * F;
    if (!Number.isNaN(arrival[k]!)) sendSide.push(arrival[k]! - due);
    if (Number.isNaN(heard[k]!)) continue;
    all.push(heard[k]! - due);
    if (k % BURST_EVERY === BURST_AT) bursts.push(heard[k]! - due);
  }
  return {
    engineToTs: figures(all),
    engineToTsBursts: figures(bursts),
    quietBursts,
    bound: sHat - t0,
    sendSide: figures(sendSide),
    tsToEngine: figures(tsToEngine),
    onsets,
    bursts: sentBursts.length,
    control: figures(control),
    sessionStats,
    engineStats,
  };
}

function printMixed(name: string, r: MixedResult): void {
  console.log(
    `${name} engine -> TS: latency ${fig(r.engineToTs)} all frames; bursts ${fig(r.engineToTsBursts)}, ` +
      `${r.quietBursts} not loud; may read low by at most ${r.bound.toFixed(2)} ms (Ŝ - t0); ` +
      `datagram at the session's socket after the engine's deadline ${fig(r.sendSide)}; ` +
      `receiver (TS) ${shareText(r.sessionStats)}`,
  );
  console.log(
    `${name} TS -> engine: latency ${fig(r.tsToEngine)} bursts (${r.onsets} onsets heard of ` +
      `${r.bursts} sent), includes the pipe reader's wake-up: control ${fig(r.control)}; ` +
      `receiver (engine) ${shareText(r.engineStats)}, sink dropped ${r.engineStats.sinkDropped}`,
  );
}

const load = os.loadavg().map((x) => x.toFixed(2));
console.log(
  `media-engine bench: ${seconds} s calls on ${LOCAL}, Opus 24 kbit/s, 20 ms frames; ` +
    `${os.cpus().length} CPUs, load average ${load.join(' ')}`,
);
try {
  const ts = await tsCall(0);
  console.log(
    `straight TS pair: latency ${fig(ts.latency)}; ${ts.stats.map(shareText).join('; ')}`,
  );
  const mixed = await mixedCall(0);
  printMixed('straight', mixed);
  const tsJ = await tsCall(20);
  console.log(
    `jitter20 TS pair: latency ${fig(tsJ.latency)}; ${tsJ.stats.map(shareText).join('; ')}`,
  );
  const mixedJ = await mixedCall(20);
  printMixed('jitter20', mixedJ);
  const tsShares = ts.stats.map(shares);
  console.log(
    `load average at the end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; goal (issue 15): ` +
      `p50 under ${F + 5} ms and no more late or concealed frames than the TS pair`,
  );
  console.log(
    `engine_to_ts_p50_ms=${ms(mixed.engineToTs.p50)} engine_to_ts_p99_ms=${ms(mixed.engineToTs.p99)} ` +
      `ts_to_engine_p50_ms=${ms(mixed.tsToEngine.p50)} ts_to_engine_p99_ms=${ms(mixed.tsToEngine.p99)} ` +
      `pipe_reader_p50_ms=${ms(mixed.control.p50)} ts_p50_ms=${ms(ts.latency.p50)} ts_p99_ms=${ms(ts.latency.p99)} ` +
      `engine_late_pct=${shares(mixed.engineStats).late.toFixed(2)} ` +
      `engine_concealed_pct=${shares(mixed.engineStats).concealed.toFixed(2)} ` +
      `ts_late_pct=${Math.max(...tsShares.map((x) => x.late)).toFixed(2)} ` +
      `ts_concealed_pct=${Math.max(...tsShares.map((x) => x.concealed)).toFixed(2)} ` +
      `jitter20_engine_to_ts_p99_ms=${ms(mixedJ.engineToTs.p99)} ` +
      `jitter20_ts_to_engine_p99_ms=${ms(mixedJ.tsToEngine.p99)} jitter20_ts_p99_ms=${ms(tsJ.latency.p99)} ` +
      `jitter20_engine_late_pct=${shares(mixedJ.engineStats).late.toFixed(2)} ` +
      `jitter20_engine_concealed_pct=${shares(mixedJ.engineStats).concealed.toFixed(2)} ` +
      `jitter20_ts_late_pct=${Math.max(...tsJ.stats.map((s) => shares(s).late)).toFixed(2)}`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
