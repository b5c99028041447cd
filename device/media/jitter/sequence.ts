/**
 * The jitter buffer's sequence-number bookkeeping (RFC 3550 A.1 / A.3): the extended
 * highest sequence number, the packets received, the cumulative loss across streams, and
 * the recent sequence numbers for duplicate detection. Nothing is allocated per packet.
 */
import { seqDiff } from '../seq.ts';

/** RFC 3550 A.1 limits for a sequence number to count as part of the stream. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
/** Sequence numbers remembered for duplicate detection (power of two > MAX_MISORDER). */
const HISTORY = 512;

/** Whether a sequence number `d` past the highest is part of the stream (RFC 3550 A.1). */
export function inSequenceWindow(d: number): boolean {
  return d >= -MAX_MISORDER && d <= MAX_DROPOUT;
}

/** See the file comment. */
export class JitterSequence {
  #history = new Int32Array(HISTORY);
  #started = false;
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #uniqueReceived = 0;
  #lostBefore = 0;

  /** A stream starts with `seq`; the loss of the stream before it is kept. */
  start(seq: number): void {
    if (this.#started) this.#lostBefore += Math.max(0, this.#expected() - this.#uniqueReceived);
    this.#started = true;
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#cycles = 0;
    this.#uniqueReceived = 0;
    this.#history.fill(0);
    this.count(seq, 0);
  }

  /** Whether `seq` has been counted recently. */
  isDuplicate(seq: number): boolean {
    return this.#history[seq & (HISTORY - 1)] === seq + 1;
  }

  /** Signed distance of `seq` past the highest sequence number counted. */
  distance(seq: number): number {
    return seqDiff(seq, this.#maxSeq);
  }

  /** RFC 3550 A.1: extended highest sequence number, received count, duplicate history. */
  count(seq: number, d: number): void {
    if (d > 0) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
    }
    this.#history[seq & (HISTORY - 1)] = seq + 1;
    this.#uniqueReceived++;
  }

  /** RFC 3550 cumulative loss: expected by sequence number minus received (unique). */
  get lost(): number {
    const lostNow = this.#started ? this.#expected() - this.#uniqueReceived : 0;
    return this.#lostBefore + Math.max(0, lostNow);
  }

  #expected(): number {
    return this.#cycles + this.#maxSeq - this.#baseSeq + 1;
  }
}
