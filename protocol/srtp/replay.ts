/**
 * Packet index estimation and the replay window of an SRTP receiver [S-5]
 * (RFC 3711 §3.3.1, §3.3.2, Appendix A).
 */

/** Packets per rollover-counter step: the 16-bit RTP sequence number's range. */
export const SEQ_MOD = 0x10000;
const HALF = 0x8000;

/** How many packets behind the highest one a packet may arrive (RFC 3711 asks for 64). */
export const REPLAY_WINDOW = 128;

/**
 * The rollover counter a packet with sequence `seq` most likely carries, given the
 * highest sequence `sl` seen so far under rollover counter `roc` (Appendix A): the
 * candidate index closest to the highest one. May return -1 (a packet from before the
 * stream began), which no sender can produce.
 */
export function estimateRoc(roc: number, sl: number, seq: number): number {
  if (sl < HALF) return seq - sl > HALF ? roc - 1 : roc;
  return sl - HALF > seq ? roc + 1 : roc;
}

/**
 * The indices seen among the last `REPLAY_WINDOW` below the highest one. A ring of the
 * indices themselves, so moving the window forward needs no clearing: a slot counts
 * only if it holds exactly the index asked about.
 */
export class ReplayWindow {
  readonly #slots = new Float64Array(REPLAY_WINDOW).fill(-1);
  /** The highest index accepted, or -1 before the first. */
  #highest = -1;

  get highest(): number {
    return this.#highest;
  }

  /** True if `index` was seen already or lies behind the window (RFC 3711 §3.3.2). */
  rejects(index: number): boolean {
    if (this.#highest < 0 || index > this.#highest) return false;
    if (this.#highest - index >= REPLAY_WINDOW) return true;
    return this.#slots[index % REPLAY_WINDOW] === index;
  }

  /** Records an authenticated `index`; call only after `rejects(index)` returned false. */
  accept(index: number): void {
    this.#slots[index % REPLAY_WINDOW] = index;
    if (index > this.#highest) this.#highest = index;
  }
}
