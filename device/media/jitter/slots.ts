/**
 * The jitter buffer's packet store: frame slots (places on the sender's timeline, one
 * frame apart) in a ring indexed by `slot & mask`, each holding one packet's payload,
 * sequence number and timestamp. Preallocated; nothing is allocated per packet.
 */
export class JitterSlots {
  #mask: number;
  #payloads: Array<Buffer | undefined>;
  #slotIds: Float64Array;
  #seqs: Int32Array;
  #tss: Float64Array;
  #count = 0;

  /** `size` must be a power of two; slots `size` apart share a place in the ring. */
  constructor(size: number) {
    this.#mask = size - 1;
    this.#payloads = new Array<Buffer | undefined>(size).fill(undefined);
    this.#slotIds = new Float64Array(size).fill(Number.NaN);
    this.#seqs = new Int32Array(size);
    this.#tss = new Float64Array(size);
  }

  /** Places in the ring. */
  get size(): number {
    return this.#mask + 1;
  }

  /** Packets held. */
  get count(): number {
    return this.#count;
  }

  /** Whether `slot`'s packet is held. */
  has(slot: number): boolean {
    return this.#slotIds[slot & this.#mask] === slot;
  }

  /** Holds a packet in `slot`, replacing whatever shared its place in the ring. */
  store(slot: number, sequence: number, timestamp: number, payload: Buffer): void {
    const idx = slot & this.#mask;
    if (Number.isNaN(this.#slotIds[idx]!)) this.#count++;
    this.#slotIds[idx] = slot;
    this.#payloads[idx] = payload;
    this.#seqs[idx] = sequence;
    this.#tss[idx] = timestamp;
  }

  /** The payload held in `slot`; only when `has(slot)`. */
  payload(slot: number): Buffer {
    return this.#payloads[slot & this.#mask]!;
  }

  /** The sequence number held in `slot`; only when `has(slot)`. */
  sequence(slot: number): number {
    return this.#seqs[slot & this.#mask]!;
  }

  /** The timestamp held in `slot`; only when `has(slot)`. */
  timestamp(slot: number): number {
    return this.#tss[slot & this.#mask]!;
  }

  /** Empties `slot`'s place in the ring. */
  clear(slot: number): void {
    const idx = slot & this.#mask;
    if (!Number.isNaN(this.#slotIds[idx]!)) this.#count--;
    this.#slotIds[idx] = Number.NaN;
    this.#payloads[idx] = undefined;
  }

  /** Empties every place. */
  clearAll(): void {
    for (let i = 0; i <= this.#mask; i++) this.clear(i);
  }
}
