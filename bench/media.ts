/**
 * Media benchmark (issue: the media session). A full-duplex call between two
 * `MediaSession`s in one process on 127.0.0.1, in real time on the real clock: each side
 * captures a tone frame every 20 ms (two independent pacers) and plays out on its own
 * timer. Two calls: straight over loopback, then through the impairment shim with 20 ms
 * of jitter only (uniform 0..20 ms per packet). Prints:
 *
 * - CPU time per call-second of the whole media path (both sessions: encode, RTP, UDP,
 *   jitter buffer, decode, timers) on the straight call, after its first second, beside
 *   the CPU time of bare `OpusCodec` encode + decode of the same frames (the floor); and a
 *   breakdown: the two pipelines alone (no sockets, no timers), two bare dgram sockets
 *   exchanging the same packets from the same pacers (what Node itself costs), and the
 *   floor's encode and decode paced by those pacers instead of in a tight loop;
 * - the latency from a frame entering capture (`sendFrame`) to its decoded frame reaching
 *   the playback sink (p50, p99 after the first second; the start-up's maximum apart),
 *   matched by RTP timestamp, with and without jitter;
 * - the late and concealed shares;
 * - the SRTP share [S-4]: the same two pipelines with every packet protected and
 *   unprotected between them (AES_CM_128_HMAC_SHA1_80, the device's suite), the
 *   protect + unprotect time per frame timed apart from the rest, against the whole
 *   media path of the straight call and against the media core alone.
 *
 *   node --import tsx bench/media.ts [--seconds 60]
 *
 * Goals: cpu_ratio under 1.25; without jitter p50 under one frame + 5 ms and p99 under
 * one frame + 12 ms; with 20 ms jitter late under 1 % and p99 under 60 ms; SRTP under 5 %
 * of the media path's CPU.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { OpusCodec } from '../device/media/opus.ts';
import { MediaPipeline, type MediaStats, type PlayoutInfo } from '../device/media/pipeline.ts';
import { MediaSession, type UdpSocket } from '../device/media/session.ts';
import { generateTone } from '../device/media/tone.ts';
import { newMasterKey, SrtpReceiver, SrtpSender } from '../protocol/srtp/index.ts';
import { ImpairmentShim } from '../test/helpers/impairment.ts';
import { percentile } from './lib/proc.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const seconds = Number(values.seconds);
const F = 20;
const FRAMES = Math.round((seconds * 1000) / F);
/** Frames before the CPU measurement starts (the first second, or none in short runs). */
const WARMUP = FRAMES > 250 ? 50 : 0;
const LOCAL = '127.0.0.1';
const log = pino({ level: 'silent' });

/** One second of a tone as 50 frames; 440 and 1000 Hz both loop seamlessly. */
function toneLoop(hz: number): Buffer[] {
  return Array.from({ length: 1000 / F }, (_, k) =>
    generateTone(hz, F, 48000, 8000, (2 * Math.PI * hz * k * F) / 1000),
  );
}

/**
 * One direction of the call: when each frame entered capture (by index), and for each
 * decoded frame that reached the peer's sink, its latency (after the first second; the
 * start-up is kept apart).
 */
class Direction {
  readonly captured = new Float64Array(FRAMES).fill(Number.NaN);
  readonly latency = new Float64Array(FRAMES);
  samples = 0;
  /** The largest latency of the first second. */
  startMax = 0;
  /** Conceals played so far, and their count when the last frame played. */
  concealed = 0;
  concealedInCall = -1;
  /** The sender's first RTP timestamp, seen on the wire. */
  ts0 = -1;

  /** The socket factory wrapper: learns `ts0` from the first datagram sent. */
  wrap(socket: dgram.Socket): UdpSocket {
    const send = socket.send.bind(socket) as (m: Buffer, p: number, a: string) => void;
    return Object.assign(socket, {
      send: (msg: Buffer, port: number, address: string) => {
        if (this.ts0 < 0) this.ts0 = msg.readUInt32BE(4);
        send(msg, port, address);
      },
    });
  }

  /** A frame reached the playback sink. */
  played(info: Readonly<PlayoutInfo>, now: number): void {
    if (info.kind === 'conceal' && this.ts0 >= 0) this.concealed++;
    if (info.kind !== 'frame' || this.ts0 < 0) return;
    const k = ((info.timestamp - this.ts0) >>> 0) / 960;
    const at = this.captured[k];
    if (at === undefined || Number.isNaN(at)) return;
    if (k < WARMUP) this.startMax = Math.max(this.startMax, now - at);
    else this.latency[this.samples++] = now - at;
    if (k === FRAMES - 1) this.concealedInCall = this.concealed;
  }
}

/**
 * Calls `fn(k)` for k = 0..frames-1 every 20 ms from `t0`, drift-free. A frame due within
 * a millisecond goes now: Node's timers fire up to a millisecond early, and waiting out
 * that remainder would cost a second wakeup per frame.
 */
function pace(t0: number, fn: (k: number) => void, frames = FRAMES): Promise<void> {
  return new Promise((resolve) => {
    let k = 0;
    const tick = () => {
      while (k < frames && t0 + k * F <= performance.now() + 1) fn(k++);
      if (k >= frames) resolve();
      else setTimeout(tick, Math.max(0, t0 + k * F - performance.now()));
    };
    tick();
  });
}

interface CallResult {
  cpuMs: number;
  latency: number[];
  stats: MediaStats[];
  /** Frames concealed from the first decoded frame to the last, both directions. */
  concealed: number;
  /** The largest latency in the first second (start-up), either direction. */
  startMax: number;
}

/** One call of `seconds` between two sessions: straight, or through a jittery shim. */
async function call(jitterMs: number): Promise<CallResult> {
  const dirs = [new Direction(), new Direction()] as const; // a -> b, b -> a
  const make = (dir: Direction, heard: Direction) =>
    new MediaSession({
      log,
      host: LOCAL,
      createSocket: () => dir.wrap(dgram.createSocket('udp4')),
      sink: (_pcm, info) => heard.played(info, performance.now()),
    });
  const a = make(dirs[0], dirs[1]);
  const b = make(dirs[1], dirs[0]);
  const [portA, portB] = [await a.open(), await b.open()];
  let shim: ImpairmentShim | null = null;
  if (jitterMs > 0) {
    shim = await ImpairmentShim.open({ seed: 7, jitterMs });
    shim.connect({ ip: LOCAL, port: portA }, { ip: LOCAL, port: portB });
    a.start({ ip: LOCAL, port: shim.portA });
    b.start({ ip: LOCAL, port: shim.portB });
  } else {
    a.start({ ip: LOCAL, port: portB });
    b.start({ ip: LOCAL, port: portA });
  }
  const tones = [toneLoop(440), toneLoop(1000)];
  let cpu0 = process.cpuUsage();
  const t0 = performance.now() + 50;
  await Promise.all(
    [a, b].map((s, i) =>
      pace(t0 + i * 7.3, (k) => {
        if (i === 0 && k === WARMUP) cpu0 = process.cpuUsage(); // JIT warm-up left out
        dirs[i]!.captured[k] = performance.now();
        s.sendFrame(tones[i]![k % tones[i]!.length]!);
      }),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 300)); // the last frames play out
  const stats = [a.stop()!, b.stop()!];
  await Promise.all([a.close(), b.close(), shim?.close()]);
  const latency = [...dirs[0].latency.subarray(0, dirs[0].samples)];
  for (const x of dirs[1].latency.subarray(0, dirs[1].samples)) latency.push(x);
  const concealed = dirs.reduce((n, d) => n + Math.max(0, d.concealedInCall), 0);
  const startMax = Math.max(dirs[0].startMax, dirs[1].startMax);
  return { cpuMs: (cpu.user + cpu.system) / 1000, latency, stats, concealed, startMax };
}

/** The floor: bare Opus encode + decode of the frames measured, both directions. */
function floorCpuMs(): number {
  const tones = [toneLoop(440), toneLoop(1000)];
  const codecs = [new OpusCodec(), new OpusCodec()];
  for (let k = 0; k < WARMUP; k++) codecs[0]!.decode(codecs[1]!.encode(tones[0]![k % 50]!));
  const cpu0 = process.cpuUsage();
  for (let k = WARMUP; k < FRAMES; k++) {
    for (let i = 0; i < 2; i++) {
      const packet = codecs[i]!.encode(tones[i]![k % tones[i]!.length]!);
      codecs[1 - i]!.decode(packet);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}

/**
 * The media core alone, for the breakdown: two `MediaPipeline`s exchanging the same frames
 * with no sockets and no timers (what the whole path adds beyond this is Node's I/O and
 * event loop).
 */
function coreCpuMs(): number {
  const tones = [toneLoop(440), toneLoop(1000)];
  const ends = [
    { address: LOCAL, port: 1 },
    { address: LOCAL, port: 2 },
  ];
  const p = [
    new MediaPipeline({ remote: ends[1]! }),
    new MediaPipeline({ remote: ends[0]! }),
  ] as const;
  let cpu0 = process.cpuUsage();
  for (let k = 0; k < FRAMES; k++) {
    if (k === WARMUP) cpu0 = process.cpuUsage();
    const now = k * F;
    for (let i = 0; i < 2; i++) {
      for (const d of p[i]!.captureFrame(tones[i]![k % tones[i]!.length]!, now)) {
        p[1 - i]!.receive(d, ends[i]!, now + 0.2);
      }
    }
    p[0].playoutFrame(now + 2);
    p[1].playoutFrame(now + 2);
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}

/**
 * The media core with SRTP between the two pipelines [S-4]: each side protects what it
 * sends and unprotects what it receives, as a device on a TLS leg does. Returns the CPU
 * time of the whole loop and of protect + unprotect alone (ms, after the warm-up), and how
 * many packets went through. The SRTP calls are timed on the wall clock inside the loop
 * and converted to CPU time by the loop's own CPU/wall ratio, so time the process spends
 * preempted on a busy machine is charged to SRTP and the rest alike.
 */
function srtpCoreCpuMs(): { totalMs: number; srtpMs: number; packets: number } {
  const tones = [toneLoop(440), toneLoop(1000)];
  const ends = [
    { address: LOCAL, port: 1 },
    { address: LOCAL, port: 2 },
  ];
  const p = [
    new MediaPipeline({ remote: ends[1]! }),
    new MediaPipeline({ remote: ends[0]! }),
  ] as const;
  const keys = [newMasterKey(), newMasterKey()]; // a -> b, b -> a
  const tx = [new SrtpSender(keys[0]!), new SrtpSender(keys[1]!)];
  const rx = [new SrtpReceiver(keys[1]!), new SrtpReceiver(keys[0]!)];
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  let srtpMs = 0;
  let packets = 0;
  for (let k = 0; k < FRAMES; k++) {
    if (k === WARMUP) {
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
      srtpMs = 0;
      packets = 0;
    }
    const now = k * F;
    for (let i = 0; i < 2; i++) {
      for (const d of p[i]!.captureFrame(tones[i]![k % tones[i]!.length]!, now)) {
        const t0 = performance.now();
        const clear = rx[1 - i]!.unprotect(tx[i]!.protect(d));
        srtpMs += performance.now() - t0;
        if (!Buffer.isBuffer(clear)) throw new Error(`SRTP dropped a packet: ${clear}`);
        packets++;
        p[1 - i]!.receive(clear, ends[i]!, now + 0.2);
      }
    }
    p[0].playoutFrame(now + 2);
    p[1].playoutFrame(now + 2);
  }
  const cpu = process.cpuUsage(cpu0);
  const totalMs = (cpu.user + cpu.system) / 1000;
  const wallMs = performance.now() - wall0;
  return { totalMs, srtpMs: srtpMs * Math.min(1, totalMs / wallMs), packets };
}

/**
 * The floor again, paced: the same encode and decode from the same two 50 Hz pacers, so
 * the codec runs with the caches a real-time call leaves it (up to 10 s; ms per second).
 */
async function pacedFloorMsPerSecond(): Promise<number> {
  const frames = Math.min(FRAMES, 500);
  const tones = [toneLoop(440), toneLoop(1000)];
  const codecs = [new OpusCodec(), new OpusCodec()];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 50;
  await Promise.all(
    [0, 1].map((i) =>
      pace(
        t0 + i * 7.3,
        (k) => codecs[1 - i]!.decode(codecs[i]!.encode(tones[i]![k % tones[i]!.length]!)),
        frames,
      ),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / ((frames * F) / 1000);
}

/**
 * The platform's share, for the breakdown: two bare dgram sockets exchanging packets of the
 * same size at the same rate from two 50 Hz pacers, nothing else (no codec, no pipeline,
 * no playout timer). Runs up to 10 s; returns ms per second.
 */
async function bareNodeMsPerSecond(): Promise<number> {
  const frames = Math.min(FRAMES, 500);
  const sockets = [dgram.createSocket('udp4'), dgram.createSocket('udp4')] as const;
  for (const s of sockets) s.bind(0, LOCAL);
  await Promise.all(sockets.map((s) => once(s, 'listening')));
  let received = 0;
  for (const s of sockets) s.on('message', () => received++);
  const ports = sockets.map((s) => s.address().port);
  const packet = Buffer.alloc(12 + 60);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 50;
  await Promise.all(
    sockets.map((s, i) =>
      pace(t0 + i * 7.3, () => s.send(Buffer.from(packet), ports[1 - i]!, LOCAL), frames),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  for (const s of sockets) s.close();
  if (received < frames) throw new Error('bare Node floor: packets lost on loopback');
  return (cpu.user + cpu.system) / 1000 / ((frames * F) / 1000);
}

function summary(r: CallResult) {
  const sorted = r.latency.sort((x, y) => x - y);
  const received = r.stats.reduce((n, s) => n + s.received, 0);
  const late = r.stats.reduce((n, s) => n + s.late, 0);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    n: sorted.length,
    latePct: (100 * late) / Math.max(1, received),
    concealedPct: (100 * r.concealed) / (2 * FRAMES),
    target: r.stats.map((s) => s.targetMs).join('/'),
    line(name: string): string {
      return (
        `${name}: latency p50 ${this.p50.toFixed(1)} ms, p99 ${this.p99.toFixed(1)} ms ` +
        `(${this.n} frames after the first second; start-up max ${r.startMax.toFixed(1)} ms); ` +
        `late ${this.latePct.toFixed(2)} %, concealed ${this.concealedPct.toFixed(2)} %, ` +
        `target ${this.target} ms`
      );
    },
  };
}

const load = os.loadavg().map((x) => x.toFixed(2));
console.log(
  `media bench: ${seconds} s full-duplex call, two sessions on ${LOCAL}, Opus 24 kbit/s, ` +
    `20 ms frames; ${os.cpus().length} CPUs, load average ${load.join(' ')}`,
);

const straight = await call(0);
const floor = floorCpuMs();
const core = coreCpuMs();
const bareNode = await bareNodeMsPerSecond();
const pacedFloor = await pacedFloorMsPerSecond();
const measuredSeconds = ((FRAMES - WARMUP) * F) / 1000;
const perSecond = straight.cpuMs / measuredSeconds;
const floorPerSecond = floor / measuredSeconds;
const ratio = straight.cpuMs / floor;
console.log(
  `cpu: media path ${perSecond.toFixed(2)} ms per call-second; bare Opus encode+decode ` +
    `${floorPerSecond.toFixed(2)} ms (floor); ratio ${ratio.toFixed(3)}`,
);
console.log(
  `  breakdown: media core without I/O (two pipelines, no sockets, no timers) ` +
    `${(core / measuredSeconds).toFixed(2)} ms, ratio ${(core / floor).toFixed(3)}; ` +
    `UDP I/O and timers ${((straight.cpuMs - core) / measuredSeconds).toFixed(2)} ms, of which ` +
    `bare Node sockets and pacers at the same packet rate ${bareNode.toFixed(2)} ms`,
);
console.log(
  `  the floor paced in real time (same pacers, cold caches): ${pacedFloor.toFixed(2)} ms; ` +
    `media path against it: ratio ${(perSecond / pacedFloor).toFixed(3)}`,
);
const s0 = summary(straight);
console.log(s0.line('no jitter'));

// [S-4] SRTP's share: protect + unprotect per frame against the rest of the media path.
// The loop runs unpaced and briefly, so a burst of load elsewhere moves one run a lot:
// the median of five runs is kept, and the range printed.
const srtpRuns = Array.from({ length: 5 }, () => srtpCoreCpuMs()).sort(
  (x, y) => x.srtpMs / x.packets - y.srtpMs / y.packets,
);
const srtp = srtpRuns[2]!;
const usPerPacket = (r: { srtpMs: number; packets: number }) =>
  ((1000 * r.srtpMs) / Math.max(1, r.packets)).toFixed(1);
const srtpPerSecond = srtp.srtpMs / measuredSeconds;
const srtpUsPerFrame = (1000 * srtp.srtpMs) / (FRAMES - WARMUP); // both directions
const srtpShare = (100 * srtpPerSecond) / (perSecond + srtpPerSecond);
const srtpCoreShare = (100 * srtp.srtpMs) / srtp.totalMs;
console.log(
  `srtp: protect + unprotect ${srtpUsPerFrame.toFixed(1)} us per 20 ms frame, both directions ` +
    `(${usPerPacket(srtp)} us per packet, median of 5 runs of ${srtp.packets} packets, ` +
    `range ${usPerPacket(srtpRuns[0]!)} to ${usPerPacket(srtpRuns[4]!)}); ` +
    `${srtpPerSecond.toFixed(3)} ms per call-second = ` +
    `${srtpShare.toFixed(2)} % of the media path with SRTP (${perSecond.toFixed(2)} ms without); ` +
    `${srtpCoreShare.toFixed(2)} % of the media core alone with SRTP ` +
    `(${(srtp.totalMs / measuredSeconds).toFixed(2)} ms)`,
);

const jittery = await call(20);
const s1 = summary(jittery);
console.log(s1.line('20 ms jitter'));
console.log(
  `goals: cpu_ratio < 1.25, p50 < ${F + 5} ms, p99 < ${F + 12} ms, jitter20 p99 < 60 ms, late < 1 %, ` +
    'SRTP share < 5 %',
);
console.log(
  `cpu_ratio=${ratio.toFixed(3)} latency_p50_ms=${s0.p50.toFixed(1)} latency_p99_ms=${s0.p99.toFixed(1)} ` +
    `jitter20_p99_ms=${s1.p99.toFixed(1)} late_pct=${s1.latePct.toFixed(2)} ` +
    `srtp_share_pct=${srtpShare.toFixed(2)} srtp_core_share_pct=${srtpCoreShare.toFixed(2)} ` +
    `srtp_us_per_frame=${srtpUsPerFrame.toFixed(1)}`,
);
