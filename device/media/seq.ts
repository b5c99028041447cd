/**
 * Wrap-around ("serial number") arithmetic for RTP's 16-bit sequence numbers and 32-bit
 * timestamps (RFC 3550 §5.1, RFC 1982). Every helper is branch-light and allocation-free:
 * they run for every packet.
 */

/** Signed distance `a - b` between two 16-bit sequence numbers, in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** `seq + n` modulo 2^16. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) & 0xffff;
}

/** Signed distance `a - b` between two 32-bit timestamps, in [-2^31, 2^31). */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `ts + n` modulo 2^32 (as an unsigned number). */
export function tsAdd(ts: number, n: number): number {
  return (ts + n) >>> 0;
}
