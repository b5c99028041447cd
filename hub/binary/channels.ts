/**
 * [B-8] Call channels: the connections opened with `/connect_call` for a call, one per
 * party. `/send` on one is forwarded as a `packets` event on the other party's.
 */
export interface ChannelEnd {
  /** Writes a `packets` event; false if the connection is gone. */
  deliverPackets(fields: Record<string, string>): boolean;
}

export class CallChannels {
  readonly #byCall = new Map<string, Map<string, ChannelEnd>>();

  /** Registers `end` as `userId`'s channel for `callId`, replacing an older one. */
  open(callId: string, userId: string, end: ChannelEnd): void {
    let ends = this.#byCall.get(callId);
    if (!ends) {
      ends = new Map();
      this.#byCall.set(callId, ends);
    }
    ends.set(userId, end);
  }

  /** Forgets `end` (its connection closed). */
  close(callId: string, userId: string, end: ChannelEnd): void {
    const ends = this.#byCall.get(callId);
    if (!ends || ends.get(userId) !== end) return;
    ends.delete(userId);
    if (ends.size === 0) this.#byCall.delete(callId);
  }

  /** The channel of the party of `callId` other than `userId`, if it connected one. */
  peerOf(callId: string, userId: string): ChannelEnd | undefined {
    const ends = this.#byCall.get(callId);
    if (!ends) return undefined;
    for (const [id, end] of ends) if (id !== userId) return end;
    return undefined;
  }

  /** Drops every channel of a call that is over. */
  endCall(callId: string): void {
    this.#byCall.delete(callId);
  }
}
