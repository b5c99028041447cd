/**
 * [M-4] What each leg of a relayed call carried, for the status page (hub/http/view.ts):
 * the packets and bytes the relay took from the leg's device and forwarded (`in`), and
 * those it sent to that device (`out`). Kept per call while its relay is open and, so the
 * page can show an ended call's totals, for the last `keepEnded` calls after it closed.
 */

export interface RelayLegCounts {
  /** Packets from this leg's device that the relay forwarded, and their bytes as received. */
  packetsIn: number;
  bytesIn: number;
  /** Packets the relay sent to this leg's device, and their bytes as sent. */
  packetsOut: number;
  bytesOut: number;
}

export function newLegCounts(): RelayLegCounts {
  return { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 };
}

/** Leg A is the caller's, leg B the callee's (or the group member's). */
export type CallLegCounts = readonly [RelayLegCounts, RelayLegCounts];

export class LegCountBook {
  readonly #keepEnded: number;
  /** The latest open relay of each call (a ring group opens one per member). */
  readonly #open = new Map<string, CallLegCounts>();
  readonly #ended = new Map<string, CallLegCounts>();

  constructor(keepEnded = 32) {
    this.#keepEnded = keepEnded;
  }

  /** Records a relay opened for `callId`; the function returned marks it closed. */
  open(callId: string, legs: CallLegCounts): () => void {
    this.#open.set(callId, legs);
    return () => {
      if (this.#open.get(callId) !== legs) return; // a later relay of the call is open
      this.#open.delete(callId);
      this.#ended.delete(callId);
      this.#ended.set(callId, legs);
      for (const id of this.#ended.keys()) {
        if (this.#ended.size <= this.#keepEnded) break;
        this.#ended.delete(id);
      }
    };
  }

  /** A copy of the call's leg counts (open, or among the last ended); null if not relayed. */
  get(callId: string): CallLegCounts | null {
    const legs = this.#open.get(callId) ?? this.#ended.get(callId);
    return legs ? [{ ...legs[0] }, { ...legs[1] }] : null;
  }
}
