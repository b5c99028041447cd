/**
 * Adaptive jitter buffer: the synchronous core of the device's playback path. No timers,
 * no sockets: `push()` takes a packet with its arrival time, `pop(now)` is called once per
 * frame interval by the playback clock, and every answer is a function of those inputs
 * (werift's jitterBuffer style; a 20-line adapter drives it from dgram and the sound card).
 *
 * Timeline. Frames are slots on the sender's RTP timestamp axis, one `frameSamples` apart.
 * Each `pop()` yields exactly one slot: the packet, or a conceal when its packet is missing
 * (a sequence gap or a silence, e.g. DTX). So the output follows the sender's timeline
 * and a decoder fed "frame -> decode, conceal -> conceal" stays in step. The only
 * deliberate departures are the two level corrections below, each one frame.
 *
 * Depth. The level is the number of slots from the play position up to the newest packet
 * held (holes included: they are still in flight), sampled at every pop. The target level
 * follows the network: `1 + ceil((spread + margin) / frame)` frames, clamped to
 * [minDepthMs, maxDepthMs], where `spread` is the larger of the ~95th percentile of the
 * transit-time variation over a sliding window (transit minus its window minimum) and
 * twice the RFC 3550 interarrival jitter (which reacts within ~16 packets). Until the
 * window holds a second of packets the target is at least `initialDepthMs`.
 *
 * Level control. The level is smoothed (EMA, ~1 s). Persistently above target by about a
 * frame (the sender's sound card is faster, or a delay spike has passed): drop one frame,
 * preferably a slot whose packet is missing (dropping it costs nothing) or a quiet frame,
 * waiting at most `maxDropWaitMs` for one. n frames above target, the wait is divided by
 * n² and the cooldown by n: the excess a delay spike leaves behind is worked off within
 * a few seconds, the last frame of it gently. Persistently below (the sender is slower,
 * or the target rose): insert one conceal, holding the play position. The smoothed level
 * is corrected by the frame at once, and a cooldown spaces the corrections, so the loop
 * cannot oscillate. At ±200 ppm that is one correction every ~100 s. The target itself
 * rises at once but comes down only after 10 s of lower need, half a frame clear of the
 * boundary, so a spread hovering at a frame boundary does not make it flap.
 *
 * Underrun. When nothing at all is held, `pop()` conceals while holding the play position
 * instead of skipping: the missing packet is late, not provably lost, and will still
 * play (the level control takes the added frame back later). A slot is given up as lost
 * only when a later packet is already there. After `maxUnderrunMs` of nothing, the buffer
 * goes back to start-up: `empty` until it holds the target depth again.
 *
 * Packets. Duplicates (same sequence number, seen recently) and late packets (their slot
 * has been played or given up) are counted and dropped. Sequence numbers and timestamps
 * wrap (serial arithmetic). A new SSRC restarts the stream at once; a sequence jump
 * beyond RFC 3550 A.1's limits restarts it when the next packet confirms the new sequence
 * (a lone stray packet is discarded); a timestamp jump past the buffer's span with an
 * ordinary sequence number (a long silence) restarts it too. Statistics survive restarts.
 */
import { seqAdd, seqDiff, tsAdd, tsDiff } from './seq.ts';

/** One received audio packet (already parsed and source-checked [M-2]). */
export interface JitterPacket {
  sequence: number;
  timestamp: number;
  payload: Buffer;
  /** Arrival time in ms, on the same clock as `pop(now)`. */
  arrival: number;
  /** SSRC; a change restarts the stream. */
  ssrc?: number;
}

/** What `pop()` yields for one frame slot. */
export type JitterPop =
  | { kind: 'frame'; payload: Buffer; sequence: number; timestamp: number }
  | { kind: 'conceal' }
  | { kind: 'empty' };

/** What `push()` did with a packet. */
export type PushResult = 'ok' | 'duplicate' | 'late' | 'reset' | 'discarded';

/** Counters and gauges. */
export interface JitterStats {
  /** Every packet pushed, duplicates and late ones included. */
  received: number;
  /** RFC 3550 cumulative loss: expected by sequence number minus received (unique). */
  lost: number;
  /** Arrived after their slot was played or given up. */
  late: number;
  /** Conceal slots yielded (losses, silences, underruns, inserted frames). */
  concealed: number;
  duplicates: number;
  /** Not of this stream: a lone sequence jump never confirmed, or beyond the buffer. */
  discarded: number;
  /** Frames dropped by the level control. */
  dropped: number;
  /** Conceals inserted by the level control. */
  inserted: number;
  /** Pops that found nothing at all held while playing (each a conceal holding position). */
  underruns: number;
  /** Stream restarts (new SSRC, confirmed jump). */
  resets: number;
  /** RFC 3550 interarrival jitter, in ms. */
  jitterMs: number;
  /** Current level, in ms. */
  depthMs: number;
  /** Current target level, in ms. */
  targetMs: number;
}

/** Options of `JitterBuffer`. */
export interface JitterBufferOptions {
  /** Frame (packet) duration; must be the sender's [M-1]. Default 20. */
  frameMs?: number;
  /** RTP clock rate. Default 48000 (Opus). */
  clockRate?: number;
  /** Lowest target. Default one frame. */
  minDepthMs?: number;
  /** Highest target. Default 200. */
  maxDepthMs?: number;
  /** Target until the window has a second of packets. Default 60. */
  initialDepthMs?: number;
  /** Added to the measured spread. Default 10. */
  marginMs?: number;
  /** Window of the transit-time percentile. Default 10000. */
  windowMs?: number;
  /** Underrun after which the buffer starts up again. Default 200. */
  maxUnderrunMs?: number;
  /**
   * How long a due drop may wait for a missing or quiet slot, when the level is one frame
   * too high; n frames too high, it waits 1/n² of that. Default 1000.
   */
  maxDropWaitMs?: number;
  /** A frame that may be dropped unheard. Default: at most 2 bytes (Opus DTX / TOC only). */
  isQuiet?: (payload: Buffer) => boolean;
}

const STATE_IDLE = 0; // no stream yet
const STATE_BUFFERING = 1; // start-up: waiting for the target depth
const STATE_PLAYING = 2;

/** RFC 3550 A.1 limits for a sequence number to count as part of the stream. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
/** Sequence numbers remembered for duplicate detection (power of two > MAX_MISORDER). */
const HISTORY = 512;
/** The percentile of the transit-time variation the target covers. */
const PERCENTILE = 0.95;
/** Recompute the percentile every this many packets. */
const RECOMPUTE_EVERY = 16;
/** Packets (about a second) before the measured target replaces `initialDepthMs`. */
const WARMUP_MS = 1000;
/** RFC 3550 §6.4.1 jitter gain. */
const JITTER_GAIN = 1 / 16;
/** How long a lower target must be measured before the target comes down. */
const TARGET_HOLD_MS = 10_000;
/** Level smoothing time constant. */
const LEVEL_TAU_MS = 1000;
/** Distance from target, in frames, of the smoothed level that triggers a correction. */
const HYSTERESIS = 0.75;
/** Minimum time between two corrections. */
const COOLDOWN_MS = 250;

const CONCEAL: JitterPop = Object.freeze({ kind: 'conceal' });
const EMPTY: JitterPop = Object.freeze({ kind: 'empty' });

/** See the file comment. */
export class JitterBuffer {
  // Configuration.
  #frameMs: number;
  #frameSamples: number;
  #clockRate: number;
  #minFrames: number;
  #maxFrames: number;
  #initialFrames: number;
  #marginMs: number;
  #maxUnderrunMs: number;
  #maxDropWaitMs: number;
  #isQuiet: (payload: Buffer) => boolean;
  #alpha: number;

  // Ring of slots, indexed by `slot & mask`; preallocated, nothing allocated per packet.
  #mask: number;
  #payloads: Array<Buffer | undefined>;
  #slotIds: Float64Array;
  #seqs: Int32Array;
  #tss: Float64Array;
  #count = 0;

  #state = STATE_IDLE;
  #ssrc: number | undefined;
  #playSlot = 0;
  #playTs = 0;
  #highestSlot = 0;
  /** Transit times (sum, count) of the packets held during start-up. */
  #startTransit = 0;
  #startCount = 0;

  // Sequence tracking (RFC 3550 A.1 / A.3) and duplicate history.
  #history = new Int32Array(HISTORY);
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #uniqueReceived = 0;
  #lostBefore = 0;
  #probation = false;
  #probSeq = 0;
  #probPacket: JitterPacket | undefined;

  // Timing statistics.
  #refTs = 0;
  #refExt = 0;
  #hasTransit = false;
  #lastTransit = 0;
  #jitterMs = 0;
  #window: Float64Array;
  #scratch: Float64Array;
  #winLen = 0;
  #winPos = 0;
  #sinceRecompute = 0;
  #warmupPackets: number;
  #targetFrames: number;
  #lowerSince = -1;

  // Level control.
  #ema = 0;
  #cooldownUntil = 0;
  #dropSince = -1;
  #underrunMs = 0;

  // Counters.
  #received = 0;
  #late = 0;
  #concealed = 0;
  #duplicates = 0;
  #discarded = 0;
  #dropped = 0;
  #inserted = 0;
  #underruns = 0;
  #resets = 0;

  constructor(options: JitterBufferOptions = {}) {
    const frameMs = options.frameMs ?? 20;
    const clockRate = options.clockRate ?? 48000;
    if (!(frameMs > 0) || !(clockRate > 0) || !Number.isInteger((clockRate * frameMs) / 1000)) {
      throw new RangeError('jitter: frameMs and clockRate must give a whole number of samples');
    }
    this.#frameMs = frameMs;
    this.#frameSamples = (clockRate * frameMs) / 1000;
    this.#clockRate = clockRate;
    const maxDepthMs = options.maxDepthMs ?? 200;
    this.#minFrames = Math.max(1, Math.round((options.minDepthMs ?? frameMs) / frameMs));
    this.#maxFrames = Math.max(this.#minFrames, Math.floor(maxDepthMs / frameMs));
    this.#initialFrames = this.#clampFrames(Math.round((options.initialDepthMs ?? 60) / frameMs));
    this.#targetFrames = this.#initialFrames;
    this.#marginMs = options.marginMs ?? 10;
    this.#maxUnderrunMs = options.maxUnderrunMs ?? 200;
    this.#maxDropWaitMs = options.maxDropWaitMs ?? 1000;
    this.#isQuiet = options.isQuiet ?? ((payload) => payload.length <= 2);
    this.#alpha = Math.min(1, frameMs / LEVEL_TAU_MS);

    // Room for twice the largest level the control tolerates, and at least 64 slots.
    let size = 64;
    while (size < 4 * this.#maxFrames) size *= 2;
    this.#mask = size - 1;
    this.#payloads = new Array<Buffer | undefined>(size).fill(undefined);
    this.#slotIds = new Float64Array(size).fill(Number.NaN);
    this.#seqs = new Int32Array(size);
    this.#tss = new Float64Array(size);

    const windowLen = Math.max(16, Math.round((options.windowMs ?? 10_000) / frameMs));
    this.#window = new Float64Array(windowLen);
    this.#scratch = new Float64Array(windowLen);
    this.#warmupPackets = Math.min(windowLen, Math.ceil(WARMUP_MS / frameMs));
  }

  /** Takes one received packet; see `PushResult`. */
  push(p: JitterPacket): PushResult {
    this.#received++;
    if (this.#state === STATE_IDLE) {
      this.#startStream(p);
      return 'ok';
    }
    if (p.ssrc !== undefined && this.#ssrc !== undefined && p.ssrc !== this.#ssrc) {
      this.#restart(p);
      return 'reset';
    }
    const seq = p.sequence;
    if (this.#history[seq & (HISTORY - 1)] === seq + 1) {
      this.#duplicates++;
      return 'duplicate';
    }

    const d = seqDiff(seq, this.#maxSeq);
    if (d < -MAX_MISORDER || d > MAX_DROPOUT) return this.#strayOrRestart(p);
    this.#probation = false;

    const offset = Math.round(tsDiff(p.timestamp, this.#playTs) / this.#frameSamples);
    const size = this.#mask + 1;
    if (offset >= size || (offset <= -size && d > 0)) {
      // The timestamp left the buffer's span while the sequence number did not: the sender
      // restarted its timeline or paused for long (DTX). Start again from this packet.
      if (d > 0) {
        this.#restart(p);
        return 'reset';
      }
      this.#discarded++;
      return 'discarded';
    }

    this.#countSequence(seq, d);
    this.#noteTiming(p);

    if (this.#state === STATE_BUFFERING && this.#count === 0) {
      // Start-up after an underrun: the timeline begins at the first packet held.
      this.#playSlot += offset;
      this.#playTs = p.timestamp;
      this.#highestSlot = this.#playSlot;
      this.#startTransit = this.#lastTransit;
      this.#startCount = 1;
      this.#store(p, this.#playSlot);
      return 'ok';
    }
    const slot = this.#playSlot + offset;
    if (offset < 0) {
      if (this.#state !== STATE_BUFFERING || this.#highestSlot - slot >= size) {
        this.#late++;
        return 'late';
      }
      // Still starting up: an earlier packet moves the start back.
      this.#playSlot = slot;
      this.#playTs = tsAdd(this.#playTs, offset * this.#frameSamples);
    } else if (this.#slotIds[slot & this.#mask] === slot) {
      // Another sequence number for a slot already held: keep the first.
      this.#duplicates++;
      return 'duplicate';
    }
    this.#store(p, slot);
    return 'ok';
  }

  /**
   * Counts a packet of this stream that carries no audio (an RFC 4733 event shares the
   * sequence space), so that `lost` stays RFC 3550's.
   */
  noteSequence(sequence: number): void {
    if (this.#state === STATE_IDLE) return;
    if (this.#history[sequence & (HISTORY - 1)] === sequence + 1) return;
    const d = seqDiff(sequence, this.#maxSeq);
    if (d < -MAX_MISORDER || d > MAX_DROPOUT) return;
    this.#countSequence(sequence, d);
  }

  /** The next frame slot; call once per frame interval with the playback clock's time. */
  pop(now: number): JitterPop {
    if (this.#state !== STATE_PLAYING) {
      if (this.#state !== STATE_BUFFERING || !this.#readyToStart(now)) return EMPTY;
      this.#state = STATE_PLAYING;
      this.#ema = this.#level();
      this.#cooldownUntil = now + COOLDOWN_MS;
      this.#dropSince = -1;
      this.#underrunMs = 0;
    }

    const level = this.#level();
    this.#ema += (level - this.#ema) * this.#alpha;

    if (level === 0) {
      // Underrun: hold the position, the packet may still come.
      this.#underrunMs += this.#frameMs;
      if (this.#underrunMs > this.#maxUnderrunMs) {
        this.#state = STATE_BUFFERING;
        return EMPTY;
      }
      this.#underruns++;
      this.#concealed++;
      return CONCEAL;
    }
    this.#underrunMs = 0;

    const target = this.#targetFrames;
    if (now >= this.#cooldownUntil && this.#dropSince < 0) {
      if (this.#ema >= target + HYSTERESIS && level >= 2) {
        this.#dropSince = now;
      } else if (this.#ema <= target - HYSTERESIS) {
        this.#ema += 1;
        this.#cooldownUntil = now + COOLDOWN_MS;
        this.#inserted++;
        this.#concealed++;
        return CONCEAL;
      }
    }

    const overflow = level > 2 * this.#maxFrames;
    // Frames too many: the further above target, the less a drop waits.
    const excess = Math.max(1, Math.floor(this.#ema - target));
    if (this.#dropSince >= 0 || overflow) {
      if (!overflow && (level < 2 || this.#ema < target + HYSTERESIS - 0.5)) {
        // No longer above target (or nothing to drop to): the drop is off.
        this.#dropSince = -1;
      } else {
        const idx = this.#playSlot & this.#mask;
        const held = this.#slotIds[idx] === this.#playSlot;
        if (
          overflow ||
          !held ||
          this.#isQuiet(this.#payloads[idx]!) ||
          now - this.#dropSince >= this.#maxDropWaitMs / (excess * excess)
        ) {
          if (held) this.#clear(idx);
          this.#advance();
          this.#dropped++;
          this.#ema -= 1;
          this.#dropSince = -1;
          this.#cooldownUntil = now + COOLDOWN_MS / excess;
        }
      }
    }

    const idx = this.#playSlot & this.#mask;
    let out: JitterPop;
    if (this.#slotIds[idx] === this.#playSlot) {
      out = {
        kind: 'frame',
        payload: this.#payloads[idx]!,
        sequence: this.#seqs[idx]!,
        timestamp: this.#tss[idx]!,
      };
      this.#clear(idx);
    } else {
      this.#concealed++;
      out = CONCEAL;
    }
    this.#advance();
    return out;
  }

  /** A snapshot of the counters and gauges. */
  stats(): JitterStats {
    const expected = this.#cycles + this.#maxSeq - this.#baseSeq + 1;
    const lostNow = this.#state === STATE_IDLE ? 0 : expected - this.#uniqueReceived;
    return {
      received: this.#received,
      lost: this.#lostBefore + Math.max(0, lostNow),
      late: this.#late,
      concealed: this.#concealed,
      duplicates: this.#duplicates,
      discarded: this.#discarded,
      dropped: this.#dropped,
      inserted: this.#inserted,
      underruns: this.#underruns,
      resets: this.#resets,
      jitterMs: this.#jitterMs,
      depthMs: this.#level() * this.#frameMs,
      targetMs: this.#targetFrames * this.#frameMs,
    };
  }

  /** Current level in ms (cheaper than `stats()`). */
  get depthMs(): number {
    return this.#level() * this.#frameMs;
  }

  /** Current target in ms. */
  get targetMs(): number {
    return this.#targetFrames * this.#frameMs;
  }

  // --- stream lifecycle -------------------------------------------------------------

  #startStream(p: JitterPacket): void {
    this.#ssrc = p.ssrc;
    this.#state = STATE_BUFFERING;
    this.#baseSeq = p.sequence;
    this.#maxSeq = p.sequence;
    this.#cycles = 0;
    this.#uniqueReceived = 0;
    this.#history.fill(0);
    this.#probation = false;
    this.#probPacket = undefined;
    this.#refTs = p.timestamp;
    this.#refExt = 0;
    this.#hasTransit = false;
    this.#winLen = 0;
    this.#winPos = 0;
    this.#sinceRecompute = 0;
    this.#playSlot = 0;
    this.#playTs = p.timestamp;
    this.#highestSlot = 0;
    this.#startTransit = 0;
    this.#startCount = 0;
    this.#countSequence(p.sequence, 0);
    this.#noteTiming(p);
    this.#store(p, 0);
  }

  /** A new stream replaces the current one; counters carry on, the target is kept. */
  #restart(p: JitterPacket): void {
    this.#resets++;
    const expected = this.#cycles + this.#maxSeq - this.#baseSeq + 1;
    this.#lostBefore += Math.max(0, expected - this.#uniqueReceived);
    for (let i = 0; i <= this.#mask; i++) this.#clear(i);
    this.#startStream(p);
  }

  /** A sequence number outside RFC 3550 A.1's window: a stray, or a restart if confirmed. */
  #strayOrRestart(p: JitterPacket): PushResult {
    const first = this.#probPacket;
    if (this.#probation && first && p.sequence === seqAdd(this.#probSeq, 1)) {
      this.#discarded--; // the first packet of the new stream was counted as discarded
      this.#restart(first);
      this.#received--; // `p` is counted again by this push
      this.push(p);
      return 'reset';
    }
    this.#probation = true;
    this.#probSeq = p.sequence;
    this.#probPacket = p;
    this.#discarded++;
    return 'discarded';
  }

  /**
   * Start-up ends at the first pop at which the first slot, had its packet taken the mean
   * transit time of those held so far, would have waited `target - 1` frames: the level
   * then sits at the target on average, so the level control has nothing to correct. (Waiting
   * for the level alone would tie the start to the jitter of one packet.)
   */
  #readyToStart(now: number): boolean {
    if (this.#count === 0 || this.#startCount === 0) return false;
    if (this.#level() > this.#maxFrames) return true;
    const sentMs = ((this.#refExt + tsDiff(this.#playTs, this.#refTs)) * 1000) / this.#clockRate;
    const transit = this.#startTransit / this.#startCount;
    return now >= sentMs + transit + (this.#targetFrames - 1) * this.#frameMs;
  }

  // --- slots --------------------------------------------------------------------------

  #level(): number {
    return this.#count > 0 && this.#highestSlot >= this.#playSlot
      ? this.#highestSlot - this.#playSlot + 1
      : 0;
  }

  #store(p: JitterPacket, slot: number): void {
    const idx = slot & this.#mask;
    if (Number.isNaN(this.#slotIds[idx]!)) this.#count++;
    this.#slotIds[idx] = slot;
    this.#payloads[idx] = p.payload;
    this.#seqs[idx] = p.sequence;
    this.#tss[idx] = p.timestamp;
    if (slot > this.#highestSlot) this.#highestSlot = slot;
  }

  #clear(idx: number): void {
    if (!Number.isNaN(this.#slotIds[idx]!)) this.#count--;
    this.#slotIds[idx] = Number.NaN;
    this.#payloads[idx] = undefined;
  }

  #advance(): void {
    this.#playSlot++;
    this.#playTs = tsAdd(this.#playTs, this.#frameSamples);
  }

  // --- statistics ---------------------------------------------------------------------

  /** RFC 3550 A.1: extended highest sequence number, received count, duplicate history. */
  #countSequence(seq: number, d: number): void {
    if (d > 0) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
    }
    this.#history[seq & (HISTORY - 1)] = seq + 1;
    this.#uniqueReceived++;
  }

  /** RFC 3550 §6.4.1 interarrival jitter, and the transit window for the target. */
  #noteTiming(p: JitterPacket): void {
    const ext = this.#refExt + tsDiff(p.timestamp, this.#refTs);
    if (ext > this.#refExt) {
      this.#refExt = ext;
      this.#refTs = p.timestamp;
    }
    const transit = p.arrival - (ext * 1000) / this.#clockRate;
    if (this.#hasTransit) {
      const delta = Math.abs(transit - this.#lastTransit);
      this.#jitterMs += (delta - this.#jitterMs) * JITTER_GAIN;
    }
    this.#hasTransit = true;
    this.#lastTransit = transit;
    if (this.#state === STATE_BUFFERING) {
      this.#startTransit += transit;
      this.#startCount++;
    }

    this.#window[this.#winPos] = transit;
    this.#winPos = this.#winPos + 1 === this.#window.length ? 0 : this.#winPos + 1;
    if (this.#winLen < this.#window.length) this.#winLen++;
    if (++this.#sinceRecompute >= RECOMPUTE_EVERY) {
      this.#sinceRecompute = 0;
      this.#recomputeTarget(p.arrival);
    }
  }

  #recomputeTarget(now: number): void {
    const n = this.#winLen;
    const sorted = this.#scratch.subarray(0, n);
    sorted.set(this.#window.subarray(0, n));
    sorted.sort();
    const min = sorted[0]!;
    const p95 = sorted[Math.floor(PERCENTILE * (n - 1))]!;
    const need = Math.max(p95 - min, 2 * this.#jitterMs) + this.#marginMs;
    const frames = this.#framesFor(need, n);
    if (frames >= this.#targetFrames) {
      this.#targetFrames = frames;
      this.#lowerSince = -1;
      return;
    }
    // Lower the target only when the need is half a frame clear of the current one (less
    // for a need under half a frame, so one frame stays reachable), and has stayed lower
    // for a while: a need hovering at a frame boundary, or a rare burst
    // passing through the window, must not make it flap (each flap costs an insert and a
    // drop).
    if (this.#framesFor(need + Math.min(need, this.#frameMs / 2), n) >= this.#targetFrames) {
      this.#lowerSince = -1;
    } else if (this.#lowerSince < 0) {
      this.#lowerSince = now;
    } else if (now - this.#lowerSince >= TARGET_HOLD_MS) {
      this.#targetFrames = frames;
      this.#lowerSince = -1;
    }
  }

  /** Target frames covering `needMs` of spread and margin (window of `n` packets). */
  #framesFor(needMs: number, n: number): number {
    // The epsilon keeps float noise in a zero spread from costing a whole frame.
    const frames = this.#clampFrames(1 + Math.ceil(needMs / this.#frameMs - 1e-9));
    return n < this.#warmupPackets ? Math.max(frames, this.#initialFrames) : frames;
  }

  #clampFrames(frames: number): number {
    return Math.min(this.#maxFrames, Math.max(this.#minFrames, frames));
  }
}
