// For the C jitter buffer's tests (jitter.test.ts, jitter-table.test.ts): its test bindings,
// typed and loaded from this worktree's build; seeded traces of a sender and a network with
// the impairments a call meets, then a playback clock; a chaos generator of anything near a
// stream. Each trace reproduces from its seed.
import { createRequire } from 'node:module';
import type {
  JitterBufferOptions,
  JitterPop,
  JitterStats,
} from '../../../device/media/jitter/buffer.ts';
import { mulberry32 } from '../../helpers/prng.ts';

export interface NativeJitter {
  push(seq: number, ts: number, payload: Buffer, arrival: number, ssrc?: number): string;
  noteSequence(seq: number): void;
  pop(now: number): JitterPop;
  stats(): JitterStats;
}
export interface NativeTransit {
  note(ssrc: number, timestamp: number, arrival: number): void;
  readonly value: number;
}
export type TransitOptions = {
  clockRate?: number;
  startPackets?: number;
  stepMs?: number;
  resetMs?: number;
};
export const native = createRequire(import.meta.url)('../../../native/media/index.js')._test as {
  Jitter: new (options?: JitterBufferOptions) => NativeJitter;
  Transit: new (q: number, options?: TransitOptions) => NativeTransit;
};

/** jitter.h's JITTER_MAX_PAYLOAD: the C buffer discards a longer payload (the TS plays it). */
export const MAX_PAYLOAD = 1500;

export type PushOp = {
  op: 'push';
  seq: number;
  ts: number;
  payload: Buffer;
  arrival: number;
  ssrc?: number;
};
export type Op = PushOp | { op: 'note'; seq: number } | { op: 'pop'; now: number };

export interface Trace {
  seed: number;
  seconds: number;
  frameMs?: number;
  clockRate?: number;
  seq0?: number;
  ts0?: number;
  noSsrc?: boolean;
  loss?: number;
  reorder?: number;
  dup?: number;
  jitterMs?: number;
  /** Probability per packet that the network stalls for `stallMs`, releasing a burst. */
  stall?: number;
  stallMs?: number;
  driftPpm?: number;
  /** Probability per frame of a DTX period (1-3 s: a 2-byte packet every 400 ms). */
  dtx?: number;
  /** Probability per frame of a telephone event (placeholders and noteSequence). */
  events?: number;
  /** Seconds into the trace of each incident. */
  ssrcChange?: number[];
  seqJump?: number[];
  stray?: number[];
  tsJump?: number[];
  outage?: number[]; // 500 ms of packets lost
  pause?: number[]; // 600 ms of nothing sent (sequence continues after)
  oversize?: number[];
  /** Pops exactly a frame apart from 0 (ties in the time comparisons), arrivals without jitter. */
  exact?: boolean;
  /** Probability of a quiet (1-2 byte) speech frame. Default 0.02. */
  quiet?: number;
}

/** A sender and a network (see `Trace`), then a playback clock popping once a frame. */
export function trace(o: Trace): Op[] {
  const rnd = mulberry32(o.seed);
  const frameMs = o.frameMs ?? 20;
  const samples = ((o.clockRate ?? 48000) * frameMs) / 1000;
  const frames = Math.round((o.seconds * 1000) / frameMs);
  const at = (list?: number[]) =>
    new Set((list ?? []).map((s) => Math.round((s * 1000) / frameMs)));
  const ssrcAt = at(o.ssrcChange);
  const jumpAt = at(o.seqJump);
  const strayAt = at(o.stray);
  const tsJumpAt = at(o.tsJump);
  const outageAt = at(o.outage);
  const pauseAt = at(o.pause);
  const bigAt = at(o.oversize);
  const sent: Array<{ op: Op; t: number }> = [];
  let ssrc = o.noSsrc ? undefined : 0x1234abcd;
  let seq = o.seq0 ?? Math.floor(rnd() * 65536);
  let tsBase = o.ts0 ?? Math.floor(rnd() * 2 ** 32);
  let lostUntil = -1;
  let skipUntil = -1;
  let dtxUntil = -1;
  let stallUntil = -1;
  let event = { until: -1, ts: 0, k: 0 };
  const send = (op: Op, time: number, lossy = true) => {
    if (lossy && (rnd() < (o.loss ?? 0) || time < lostUntil)) return;
    let arrival = time + (o.exact ? 0 : 5 + rnd() * (o.jitterMs ?? 0));
    if (rnd() < (o.stall ?? 0)) stallUntil = time + (o.stallMs ?? 300);
    if (time < stallUntil) arrival = Math.max(arrival, stallUntil + rnd() * 2);
    if (rnd() < (o.reorder ?? 0)) arrival += frameMs * (1 + rnd());
    sent.push({ op: op.op === 'push' ? { ...op, arrival } : op, t: arrival });
    if (op.op === 'push' && rnd() < (o.dup ?? 0)) {
      sent.push({ op: { ...op, arrival: arrival + rnd() * 30 }, t: arrival + rnd() * 30 });
    }
  };
  const packet = (i: number, payload: Buffer, ts = tsBase + i * samples): PushOp => ({
    op: 'push',
    seq: seq & 0xffff,
    ts: ts >>> 0,
    payload,
    arrival: 0,
    ...(ssrc === undefined ? {} : { ssrc }),
  });
  for (let i = 0; i < frames; i++) {
    const time = i * frameMs * (1 - (o.driftPpm ?? 0) * 1e-6);
    if (ssrcAt.has(i)) {
      ssrc = ssrc === undefined ? undefined : (ssrc + 0x9e3779b9) >>> 0;
      seq = Math.floor(rnd() * 65536);
      tsBase = Math.floor(rnd() * 2 ** 32) - i * samples;
    }
    if (jumpAt.has(i)) seq += 20000;
    if (tsJumpAt.has(i)) tsBase += 500 * samples;
    if (outageAt.has(i)) lostUntil = time + 500;
    if (pauseAt.has(i)) skipUntil = i + Math.round(600 / frameMs);
    if (strayAt.has(i))
      send({ ...packet(i, Buffer.from([0xee, 1, 2])), seq: (seq + 30000) & 0xffff }, time, false);
    if (i < skipUntil) continue;
    if (i >= dtxUntil && i >= event.until) {
      if (rnd() < (o.dtx ?? 0)) dtxUntil = i + Math.round((1000 + rnd() * 2000) / frameMs);
      else if (rnd() < (o.events ?? 0))
        event = { until: i + 5 + Math.floor(rnd() * 10), ts: tsBase + i * samples, k: 0 };
    }
    if (i < dtxUntil) {
      if ((dtxUntil - i) % Math.round(400 / frameMs) === 0) {
        send(packet(i, Buffer.from([0xf8, i & 0xff]).subarray(0, 1 + (i & 1))), time);
        seq++;
      }
      continue;
    }
    if (i < event.until) {
      // An event update covering one more frame: a placeholder; a repeated end: its number only.
      send(packet(i, Buffer.alloc(0), event.ts + event.k++ * samples), time);
      seq++;
      if (i === event.until - 1 || rnd() < 0.1) {
        send({ op: 'note', seq: seq & 0xffff }, time);
        seq++;
      }
      continue;
    }
    const len = bigAt.has(i)
      ? MAX_PAYLOAD + 1 + Math.floor(rnd() * 100)
      : rnd() < (o.quiet ?? 0.02)
        ? 1 + Math.floor(rnd() * 2)
        : 3 + Math.floor(rnd() * 120);
    const payload = Buffer.alloc(len, i & 0xff);
    if (len >= 4) payload.writeUInt32BE(i >>> 0);
    send(packet(i, payload), time);
    seq++;
  }
  sent.sort((a, b) => a.t - b.t);
  // The playback clock: a frame apart, a random phase, a little scheduling jitter.
  const ops: Op[] = [];
  const end = (sent[sent.length - 1]?.t ?? 0) + 1500;
  const phase = o.exact ? 0 : rnd() * frameMs;
  let k = 0;
  for (let n = 0; ; n++) {
    const now = phase + n * frameMs + (o.exact ? 0 : rnd() * 0.3 * frameMs);
    if (now > end) break;
    while (k < sent.length && sent[k]!.t <= now) ops.push(sent[k++]!.op);
    ops.push({ op: 'pop', now });
  }
  return ops;
}

/** Anything near the stream: odd offsets (halves too), strays, SSRCs, pops at odd times. */
export function chaos(seed: number, steps: number, frameMs: number): Op[] {
  const rnd = mulberry32(seed);
  const samples = 48 * frameMs;
  const int = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  const ssrcs = [undefined, 1, 2];
  let seq = int(65000, 65535);
  let ts = 2 ** 32 - int(1, 40) * samples;
  let now = 0;
  let ssrc: number | undefined = 1;
  const ops: Op[] = [];
  for (let i = 0; i < steps; i++) {
    const r = rnd();
    if (r < 0.3) {
      now += frameMs * (0.5 + rnd()) + (rnd() < 0.01 ? int(200, 1500) : 0);
      ops.push({ op: 'pop', now });
      continue;
    }
    if (r < 0.35) {
      ops.push({ op: 'note', seq: (seq + int(-200, 200)) & 0xffff });
      continue;
    }
    if (r < 0.37) ssrc = ssrcs[int(0, 2)];
    seq = (seq + 1) & 0xffff;
    ts = (ts + samples * (rnd() < 0.1 ? int(1, 40) : 1)) >>> 0;
    let s = seq;
    let stamp = ts;
    if (r < 0.5) s = (seq + int(-120, 10)) & 0xffff;
    if (r < 0.45)
      stamp = (ts + int(-30, 5) * samples + [0, samples / 2, int(0, samples)][int(0, 2)]!) >>> 0;
    if (r > 0.5 && r < 0.53) stamp = (ts + int(-140, 140) * samples) >>> 0; // at the ring's edges
    if (r > 0.53 && r < 0.54) s = (seq - 1 + [3000, 3001, -100, -101][int(0, 3)]!) & 0xffff;
    if (r > 0.97) s = int(0, 65535);
    if (r > 0.985) stamp = int(0, 2 ** 32 - 1);
    const payload = Buffer.alloc(int(0, 5), i & 0xff);
    const arrival = now + rnd() * 60 - 20;
    ops.push({
      op: 'push',
      seq: s,
      ts: stamp,
      payload,
      arrival,
      ...(ssrc === undefined ? {} : { ssrc }),
    });
  }
  return ops;
}
