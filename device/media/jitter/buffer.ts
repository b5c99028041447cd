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
 *
 * Parts: the contract's types (jitter-types.ts, re-exported here), the target
 * (target.ts), the level control (level.ts), the packet slots
 * (slots.ts), and the sequence-number bookkeeping with its duplicate history
 * (sequence.ts).
 */

import { seqAdd, tsAdd, tsDiff } from '../seq.ts';
import { LevelControl } from './level.ts';
import { inSequenceWindow, JitterSequence } from './sequence.ts';
import { JitterSlots } from './slots.ts';
import { JitterTarget } from './target.ts';
import type {
  JitterBufferOptions,
  JitterPacket,
  JitterPop,
  JitterStats,
  PushResult,
} from './types.ts';

export type { JitterBufferOptions, JitterPacket, JitterPop, JitterStats, PushResult };

const STATE_IDLE = 0; // no stream yet
const STATE_BUFFERING = 1; // start-up: waiting for the target depth
const STATE_PLAYING = 2;

const CONCEAL: JitterPop = Object.freeze({ kind: 'conceal' });
const EMPTY: JitterPop = Object.freeze({ kind: 'empty' });

/** See the file comment. */
export class JitterBuffer {
  // Configuration.
  #frameMs: number;
  #frameSamples: number;
  #maxFrames: number;
  #maxUnderrunMs: number;
  #isQuiet: (payload: Buffer) => boolean;

  #slots: JitterSlots;
  #sequence = new JitterSequence();
  #target: JitterTarget;
  #control: LevelControl;

  #state = STATE_IDLE;
  #ssrc: number | undefined;
  #playSlot = 0;
  #playTs = 0;
  #highestSlot = 0;
  /** Transit times (sum, count) of the packets held during start-up. */
  #startTransit = 0;
  #startCount = 0;

  // A sequence jump waiting for the next packet to confirm it.
  #probation = false;
  #probSeq = 0;
  #probPacket: JitterPacket | undefined;

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
    this.#target = new JitterTarget({
      frameMs,
      clockRate,
      minDepthMs: options.minDepthMs ?? frameMs,
      maxDepthMs: options.maxDepthMs ?? 200,
      initialDepthMs: options.initialDepthMs ?? 60,
      marginMs: options.marginMs ?? 10,
      windowMs: options.windowMs ?? 10_000,
    });
    this.#maxFrames = this.#target.maxFrames;
    this.#maxUnderrunMs = options.maxUnderrunMs ?? 200;
    this.#control = new LevelControl(frameMs, options.maxDropWaitMs ?? 1000);
    this.#isQuiet = options.isQuiet ?? ((payload) => payload.length <= 2);

    // Room for twice the largest level the control tolerates, and at least 64 slots.
    let size = 64;
    while (size < 4 * this.#maxFrames) size *= 2;
    this.#slots = new JitterSlots(size);
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
    if (this.#sequence.isDuplicate(seq)) {
      this.#duplicates++;
      return 'duplicate';
    }

    const d = this.#sequence.distance(seq);
    if (!inSequenceWindow(d)) return this.#strayOrRestart(p);
    this.#probation = false;

    const offset = Math.round(tsDiff(p.timestamp, this.#playTs) / this.#frameSamples);
    const size = this.#slots.size;
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

    this.#sequence.count(seq, d);
    const transit = this.#noteTiming(p);

    if (this.#state === STATE_BUFFERING && this.#slots.count === 0) {
      // Start-up after an underrun: the timeline begins at the first packet held.
      this.#playSlot += offset;
      this.#playTs = p.timestamp;
      this.#highestSlot = this.#playSlot;
      this.#startTransit = transit;
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
    } else if (this.#slots.has(slot)) {
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
    if (this.#sequence.isDuplicate(sequence)) return;
    const d = this.#sequence.distance(sequence);
    if (!inSequenceWindow(d)) return;
    this.#sequence.count(sequence, d);
  }

  /** The next frame slot; call once per frame interval with the playback clock's time. */
  pop(now: number): JitterPop {
    if (this.#state !== STATE_PLAYING) {
      if (this.#state !== STATE_BUFFERING || !this.#readyToStart(now)) return EMPTY;
      this.#state = STATE_PLAYING;
      this.#control.start(now, this.#level());
      this.#underrunMs = 0;
    }

    const level = this.#level();
    this.#control.sample(level);

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

    const target = this.#target.frames;
    if (this.#control.insertDue(now, level, target)) {
      this.#inserted++;
      this.#concealed++;
      return CONCEAL;
    }

    const overflow = level > 2 * this.#maxFrames;
    if (this.#control.dropDue(level, target, overflow)) {
      // Preferably a slot whose packet is missing (dropping it costs nothing) or a quiet one.
      const held = this.#slots.has(this.#playSlot);
      if (
        overflow ||
        !held ||
        this.#isQuiet(this.#slots.payload(this.#playSlot)) ||
        this.#control.waitedOut(now, target)
      ) {
        if (held) this.#slots.clear(this.#playSlot);
        this.#advance();
        this.#dropped++;
        this.#control.dropped(now, target);
      }
    }

    const slot = this.#playSlot;
    let out: JitterPop;
    if (this.#slots.has(slot)) {
      out = {
        kind: 'frame',
        payload: this.#slots.payload(slot),
        sequence: this.#slots.sequence(slot),
        timestamp: this.#slots.timestamp(slot),
      };
      this.#slots.clear(slot);
    } else {
      this.#concealed++;
      out = CONCEAL;
    }
    this.#advance();
    return out;
  }

  /** A snapshot of the counters and gauges. */
  stats(): JitterStats {
    return {
      received: this.#received,
      lost: this.#sequence.lost,
      late: this.#late,
      concealed: this.#concealed,
      duplicates: this.#duplicates,
      discarded: this.#discarded,
      dropped: this.#dropped,
      inserted: this.#inserted,
      underruns: this.#underruns,
      resets: this.#resets,
      jitterMs: this.#target.jitterMs,
      depthMs: this.#level() * this.#frameMs,
      targetMs: this.#target.frames * this.#frameMs,
    };
  }

  /** Current level in ms (cheaper than `stats()`). */
  get depthMs(): number {
    return this.#level() * this.#frameMs;
  }

  /** Current target in ms. */
  get targetMs(): number {
    return this.#target.frames * this.#frameMs;
  }

  // --- stream lifecycle -------------------------------------------------------------

  #startStream(p: JitterPacket): void {
    this.#ssrc = p.ssrc;
    this.#state = STATE_BUFFERING;
    this.#sequence.start(p.sequence);
    this.#probation = false;
    this.#probPacket = undefined;
    this.#target.reset(p.timestamp);
    this.#playSlot = 0;
    this.#playTs = p.timestamp;
    this.#highestSlot = 0;
    this.#startTransit = 0;
    this.#startCount = 0;
    this.#noteTiming(p);
    this.#store(p, 0);
  }

  /** A new stream replaces the current one; counters carry on, the target is kept. */
  #restart(p: JitterPacket): void {
    this.#resets++;
    this.#slots.clearAll();
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
    if (this.#slots.count === 0 || this.#startCount === 0) return false;
    if (this.#level() > this.#maxFrames) return true;
    const sentMs = this.#target.sentMs(this.#playTs);
    const transit = this.#startTransit / this.#startCount;
    return now >= sentMs + transit + (this.#target.frames - 1) * this.#frameMs;
  }

  /** The packet's timing for the target, and for start-up its transit; returns the transit. */
  #noteTiming(p: JitterPacket): number {
    const transit = this.#target.note(p.timestamp, p.arrival);
    if (this.#state === STATE_BUFFERING) {
      this.#startTransit += transit;
      this.#startCount++;
    }
    return transit;
  }

  // --- slots --------------------------------------------------------------------------

  #level(): number {
    return this.#slots.count > 0 && this.#highestSlot >= this.#playSlot
      ? this.#highestSlot - this.#playSlot + 1
      : 0;
  }

  #store(p: JitterPacket, slot: number): void {
    this.#slots.store(slot, p.sequence, p.timestamp, p.payload);
    if (slot > this.#highestSlot) this.#highestSlot = slot;
  }

  #advance(): void {
    this.#playSlot++;
    this.#playTs = tsAdd(this.#playTs, this.#frameSamples);
  }
}
