/**
 * [S-10] Who may open the door with the DTMF door key, as a pure function of the call.
 *
 * A door station opens for the key only in a call it placed itself (a visitor pressed
 * the door's button and a flat answered: the flat may let them in), or when the peer is
 * listed in `door.from`. `door.from: any` restores the old rule, any peer in a call, and
 * is warned about at start [S-11].
 */

/** `door.from`: the users whose key opens the door in any call, or `any`. */
export type DoorFrom = readonly string[] | 'any';

export interface DtmfDoorContext {
  readonly from: DoorFrom;
  /** The peer of the call in progress; null when there is no call. */
  readonly peer: string | null;
  /** Whether this station placed the call (it called the peer, not the other way). */
  readonly placedHere: boolean;
}

export type DoorVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'no_call' | 'not_allowed' };

export function dtmfDoorVerdict(ctx: DtmfDoorContext): DoorVerdict {
  if (ctx.peer === null) return { allowed: false, reason: 'no_call' };
  if (ctx.from === 'any' || ctx.placedHere || ctx.from.includes(ctx.peer)) return { allowed: true };
  return { allowed: false, reason: 'not_allowed' };
}
