/**
 * HMAC-SHA1 (RFC 2104) under one key, for SRTP's per-packet tag (RFC 3711 §4.2).
 *
 * Node's `createHmac` builds a native Hmac object per message, which the garbage
 * collector must then finalize: at 100 packets a second between Opus frames that costs
 * more than the hashing. Where Node has one-shot hashing (`crypto.hash`, Node 20.12 and
 * later) the MAC is instead H((K ^ opad) || H((K ^ ipad) || m)) over two scratch buffers
 * with the padded key blocks in front: two native calls, no object. Older Nodes fall
 * back to `createHmac`; both give the same bytes (tested).
 */
import crypto, { createHmac } from 'node:crypto';

const SHA1_BLOCK = 64;
const SHA1_BYTES = 20;
const IPAD = 0x36;
const OPAD = 0x5c;

type OneShot = (algorithm: string, data: Buffer, outputEncoding: 'buffer') => Buffer;

export class HmacSha1 {
  readonly #key: Buffer;
  readonly #hash: OneShot | null;
  /** (K ^ ipad) then room for the message. */
  #inner: Buffer;
  /** (K ^ opad) then the inner hash. */
  readonly #outer = Buffer.alloc(SHA1_BLOCK + SHA1_BYTES);

  /**
   * `key` of at most 64 bytes (SRTP's is 20). `hash` is the one-shot hash to use;
   * `null` (Node before 20.12) takes the `createHmac` path.
   */
  constructor(key: Buffer, hash: OneShot | null = (crypto as { hash?: OneShot }).hash ?? null) {
    if (key.length > SHA1_BLOCK) throw new RangeError('HMAC-SHA1: key longer than a block');
    this.#key = Buffer.from(key);
    this.#hash = hash;
    this.#inner = Buffer.alloc(SHA1_BLOCK + 256);
    for (let i = 0; i < SHA1_BLOCK; i++) {
      const k = i < key.length ? key[i]! : 0;
      this.#inner[i] = k ^ IPAD;
      this.#outer[i] = k ^ OPAD;
    }
  }

  /** The 20-byte HMAC of `data`. */
  digest(data: Buffer): Buffer {
    const hash = this.#hash;
    if (!hash) return createHmac('sha1', this.#key).update(data).digest();
    const need = SHA1_BLOCK + data.length;
    if (this.#inner.length < need) {
      const grown = Buffer.alloc(need);
      this.#inner.copy(grown, 0, 0, SHA1_BLOCK);
      this.#inner = grown;
    }
    this.#inner.set(data, SHA1_BLOCK);
    this.#outer.set(hash('sha1', this.#inner.subarray(0, need), 'buffer'), SHA1_BLOCK);
    return hash('sha1', this.#outer, 'buffer');
  }
}
