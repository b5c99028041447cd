/**
 * Media latency of the native loop (issue 15): the babel-media `Engine` beside the
 * TypeScript `MediaSession`, in real time on 127.0.0.1, each call straight and through
 * test/helpers/impairment.ts' shim with 20 ms of jitter (uniform 0..20 ms per packet).
 *
 * The jitter shim runs in a child process (bench/lib/shim-process.ts), so its delays are
 * not also this process's event-loop delays.
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
 *     After a stall of more than 10 frames the source skips
 *     ahead (MAX_CATCH_UP) and the RTP timestamps do not: the skip is recovered from the
 *     arrivals (printed as frames skipped).
 *   - TS -> engine: the session sends the same burst pattern from a 20 ms pacer
 *     (performance.now() at `sendFrame`), the bursts cycling through four levels (-6 to
 *     -24 dBFS) so the level heard names the burst; the engine plays into a FIFO this
 *     process reads (playback { kind: 'fd' }); arrival = the 'data' event carrying the
 *     first loud frame after a quiet one (with Opus' 6.5 ms look-ahead, the frame holding
 *     the burst's first 13.5 ms). This includes the reader's own wake-up (the pipe, epoll, the event
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
import { percentile } from './lib/proc.ts';
import { ShimProcess } from './lib/shim-process.ts';

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
/** A played frame whose peak is above this is loud (the quietest burst peaks at 2048). */
const LOUD = 1000;
/**
 * The TS -> engine bursts' peaks, burst n at LEVELS[n % 4] (-6, -12, -18, -24 dBFS): the
 * level heard names the burst modulo 4, so a latency up to 4 burst periods (800 ms) is
 * matched to the right burst. The engine's WAV has the loudest only.
 */
const LEVELS = [16384, 8192, 4096, 2048] as const;
/** Quiet frames before a loud one that make it an onset (bursts are 9 quiet frames apart). */
const ONSET_GAP = 3;
/** The fewest frames the engine's file source skips after a stall (capture.c). */
const MAX_CATCH_UP = 10;
const LOCAL = '127.0.0.1';
const log = pino({ level: 'silent' });
const { Engine } = createRequire(import.meta.url)('babel-media') as {
  Engine: typeof EngineClass;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-engine-'));
const silence = Buffer.alloc(SAMPLES * 2);
const burstFrames = LEVELS.map((level) => generateTone(1000, F, 48000, level, 0));
const burst = burstFrames[0]!;

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

/** A receiver's counts: late and concealed over received. */
interface Counts {
  received: number;
  late: number;
  concealed: number;
}
type Stats = MediaStats | EngineStats;
/** The counts between two snapshots of one leg's stats. */
const between = (from: Stats, to: Stats): Counts => ({
  received: to.received - from.received,
  late: to.late - from.late,
  concealed: to.concealed - from.concealed,
});
/** A receiver's shares: from 1 s to the sender's last frame, and over the whole leg. */
interface Shares {
  steady: Counts;
  whole: Counts;
}
const pct = (c: Counts, n: 'late' | 'concealed') => (100 * c[n]) / Math.max(1, c.received);
const countText = (c: Counts) =>
  `late ${pct(c, 'late').toFixed(2)} %, concealed ${pct(c, 'concealed').toFixed(2)} % of ${c.received}`;
const shareText = (s: Shares) =>
  `${countText(s.steady)} received after the first second (whole leg: ${countText(s.whole)})`;

/** The TS pair of bench/media.ts: latency of every frame after the first second. */
async function tsCall(
  jitterMs: number,
): Promise<{ latency: Figures; fromDeadline: Figures; shares: Shares[] }> {
  const captured = [new Float64Array(FRAMES), new Float64Array(FRAMES)];
  const deadline = [new Float64Array(FRAMES), new Float64Array(FRAMES)];
  const ts0 = [-1, -1];
  const latency: number[] = [];
  const fromDeadline: number[] = [];
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
        if (k < WARMUP || k >= FRAMES) return;
        latency.push(performance.now() - captured[from]![k]!);
        fromDeadline.push(performance.now() - deadline[from]![k]!);
      },
    });
  const a = make(0);
  const b = make(1);
  const [portA, portB] = [await a.open(), await b.open()];
  const shim = jitterMs > 0 ? await ShimProcess.open(jitterMs) : null;
  shim?.connect(portA, portB);
  a.start({ ip: LOCAL, port: shim?.portA ?? portB });
  b.start({ ip: LOCAL, port: shim?.portB ?? portA });
  const tones = [440, 1000].map((hz) =>
    Array.from({ length: 50 }, (_, k) =>
      generateTone(hz, F, 48000, 8000, (2 * Math.PI * hz * k * F) / 1000),
    ),
  );
  const t0 = performance.now() + 50;
  let first: MediaStats[] = [];
  await Promise.all(
    [a, b].map((s, i) =>
      pace(t0 + i * 7.3, (k) => {
        if (i === 0 && k === WARMUP) first = [a.stats()!, b.stats()!];
        captured[i]![k] = performance.now();
        deadline[i]![k] = t0 + i * 7.3 + k * F;
        s.sendFrame(tones[i]![k % 50]!);
      }),
    ),
  );
  const last = [a.stats()!, b.stats()!];
  await new Promise((r) => setTimeout(r, 300));
  const whole = [a.stop()!, b.stop()!];
  await Promise.all([a.close(), b.close(), shim?.close()]);
  const shares = whole.map((w, i) => ({ steady: between(first[i]!, last[i]!), whole: w }));
  return { latency: figures(latency), fromDeadline: figures(fromDeadline), shares };
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
  /** Frames the engine's source skipped after stalls (see above). */
  skipped: number;
  /** Datagram arrival at the session's socket after the engine's deadline (Ŝ-based). */
  sendSide: Figures;
  tsToEngine: Figures;
  onsets: number;
  /** Onsets heard more than a quarter off the nearest level. */
  offLevel: number;
  bursts: number;
  control: Figures;
  session: Shares;
  engine: Shares;
  sinkDropped: number;
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
  const shim = jitterMs > 0 ? await ShimProcess.open(jitterMs) : null;
  shim?.connect(sessionPort, engine.port);

  // TS -> engine: bursts sent at known times, onsets read from the engine's playback.
  const sentBursts: number[] = [];
  const tsToEngine: number[] = [];
  let onsets = 0;
  let offLevel = 0;
  let pending = Buffer.alloc(0);
  /** Played frames read so far, and the last loud one's index. */
  let played = 0;
  let lastLoud = Number.NEGATIVE_INFINITY;
  play.reader.on('data', (chunk: Buffer) => {
    const now = performance.now();
    pending = Buffer.concat([pending, chunk]);
    let at = 0;
    for (; at + SAMPLES * 2 <= pending.length; at += SAMPLES * 2) {
      const level = peak(pending, at);
      const loud = level >= LOUD;
      // An onset: loud after at least ONSET_GAP quiet frames (a concealed hole inside one
      // burst's playout, one or two frames, does not start another).
      if (loud && played - lastLoud > ONSET_GAP) {
        onsets++;
        // Which of the four levels, and how far from it (a decoded onset off by more than
        // a quarter is counted, and matched all the same).
        const n = Math.min(3, Math.max(0, Math.round(Math.log2(LEVELS[0] / level))));
        if (Math.abs(level / LEVELS[n]! - 1) > 0.25) offLevel++;
        // The last burst of that level sent before this read.
        let i = sentBursts.length - 1;
        while (i >= 0 && (sentBursts[i]! > now || i % LEVELS.length !== n)) i--;
        if (i >= 0 && i * BURST_EVERY + BURST_AT >= WARMUP) tsToEngine.push(now - sentBursts[i]!);
      }
      if (loud) lastLoud = played;
      played++;
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
  let first: Stats[] = [];
  await pace(performance.now() + 50 + 7.3, (k) => {
    if (k === WARMUP) first = [session.stats()!, engine.stats()!];
    if (k % BURST_EVERY !== BURST_AT) {
      session.sendFrame(silence);
      return;
    }
    const n = sentBursts.length;
    sentBursts.push(performance.now());
    session.sendFrame(burstFrames[n % LEVELS.length]!);
  });
  const last = [session.stats()!, engine.stats()!];
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
  // After a stall of more than 10 frames the file source skips ahead (capture.c,
  // MAX_CATCH_UP) while the RTP timestamps run on, so from there frame k was taken
  // skip(k) frames later. skip() never decreases, so it is the suffix minimum of the
  // arrivals' offsets in whole frames (each segment has frames that arrived promptly).
  // A skip is at least MAX_CATCH_UP frames (due - emitted > 10, then emitted = due - 1):
  // less is the delay of the last few datagrams, not a skip.
  const skip = new Int32Array(FRAMES);
  let suffix = Number.POSITIVE_INFINITY;
  for (let k = FRAMES - 1; k >= 0; k--) {
    if (!Number.isNaN(arrival[k]!)) suffix = Math.min(suffix, arrival[k]! - (k + 1) * F - sHat);
    const frames = Number.isFinite(suffix) ? Math.floor(suffix / F) : 0;
    skip[k] = frames >= MAX_CATCH_UP ? frames : 0;
  }
  const all: number[] = [];
  const bursts: number[] = [];
  const sendSide: number[] = [];
  for (let k = WARMUP; k < FRAMES; k++) {
    const due = sHat + (k + 1 + skip[k]!) * F;
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
    skipped: skip[FRAMES - 1]!,
    sendSide: figures(sendSide),
    tsToEngine: figures(tsToEngine),
    onsets,
    offLevel,
    bursts: sentBursts.length,
    control: figures(control),
    session: { steady: between(first[0]!, last[0]!), whole: sessionStats },
    engine: { steady: between(first[1]!, last[1]!), whole: engineStats },
    sinkDropped: engineStats.sinkDropped,
  };
}

function printMixed(name: string, r: MixedResult): void {
  console.log(
    `${name} engine -> TS: latency ${fig(r.engineToTs)} all frames; bursts ${fig(r.engineToTsBursts)}, ` +
      `${r.quietBursts} not loud; may read low by at most ${r.bound.toFixed(2)} ms (Ŝ - t0); ` +
      `${r.skipped} frames skipped by the engine's source after stalls; ` +
      `datagram at the session's socket after the engine's deadline ${fig(r.sendSide)}; ` +
      `receiver (TS) ${shareText(r.session)}`,
  );
  console.log(
    `${name} TS -> engine: latency ${fig(r.tsToEngine)} bursts (${r.onsets} onsets heard of ` +
      `${r.bursts} sent, ${r.offLevel} off level), includes the pipe reader's wake-up: control ${fig(r.control)}; ` +
      `receiver (engine) ${shareText(r.engine)}, sink dropped ${r.sinkDropped}`,
  );
}

const load = os.loadavg().map((x) => x.toFixed(2));
console.log(
  `media-engine bench: ${seconds} s calls on ${LOCAL}, Opus 24 kbit/s, 20 ms frames; ` +
    `${os.cpus().length} CPUs, load average ${load.join(' ')}`,
);
/** The TS pair's line; its worse receiver's steady shares (%). */
function tsLine(
  name: string,
  r: Awaited<ReturnType<typeof tsCall>>,
): { late: number; concealed: number } {
  console.log(
    `${name} TS pair: latency ${fig(r.latency)} from sendFrame, ${fig(r.fromDeadline)} from ` +
      `the pacer's deadline; receivers: ${r.shares.map(shareText).join('; ')}`,
  );
  const worse = (n: 'late' | 'concealed') => Math.max(...r.shares.map((x) => pct(x.steady, n)));
  return { late: worse('late'), concealed: worse('concealed') };
}

const kv: Record<string, string> = {};
const put = (key: string, x: number, digits = 1) => {
  kv[key] = x.toFixed(digits);
};
try {
  for (const jitterMs of [0, 20]) {
    const name = jitterMs ? `jitter${jitterMs}` : 'straight';
    const pre = jitterMs ? `${name}_` : '';
    const ts = await tsCall(jitterMs);
    const tsWorse = tsLine(name, ts);
    const mixed = await mixedCall(jitterMs);
    printMixed(name, mixed);
    put(`${pre}engine_to_ts_p50_ms`, mixed.engineToTs.p50);
    put(`${pre}engine_to_ts_p99_ms`, mixed.engineToTs.p99);
    put(`${pre}ts_to_engine_p50_ms`, mixed.tsToEngine.p50);
    put(`${pre}ts_to_engine_p99_ms`, mixed.tsToEngine.p99);
    put(`${pre}pipe_reader_p50_ms`, mixed.control.p50, 2);
    put(`${pre}ts_p50_ms`, ts.latency.p50);
    put(`${pre}ts_p99_ms`, ts.latency.p99);
    put(`${pre}ts_deadline_p50_ms`, ts.fromDeadline.p50);
    put(`${pre}engine_late_pct`, pct(mixed.engine.steady, 'late'), 2);
    put(`${pre}engine_concealed_pct`, pct(mixed.engine.steady, 'concealed'), 2);
    put(`${pre}from_engine_late_pct`, pct(mixed.session.steady, 'late'), 2);
    put(`${pre}from_engine_concealed_pct`, pct(mixed.session.steady, 'concealed'), 2);
    put(`${pre}ts_late_pct`, tsWorse.late, 2);
    put(`${pre}ts_concealed_pct`, tsWorse.concealed, 2);
  }
  const end = os.loadavg().map((x) => x.toFixed(2));
  console.log(
    `load average at the end ${end.join(' ')}; goal (issue 15): p50 under ${F + 5} ms, and ` +
      'late and concealed (after the first second) no more than the TS pair',
  );
  console.log(
    Object.entries(kv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
