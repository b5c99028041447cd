/**
 * AES in counter mode as SRTP uses it (RFC 3711 §4.1.1) and the SRTP key derivation
 * (§4.3) for AES_CM_128_HMAC_SHA1_80 with key_derivation_rate 0.
 */
import { type Cipher, createCipheriv } from 'node:crypto';
import { SRTP_KEY_BYTES, SRTP_SALT_BYTES } from './keys.ts';

const BLOCK = 16;
/** The counter occupies the IV's low 16 bits (§4.1.1), so one IV covers 2^16 blocks. */
const MAX_BLOCKS = 0x10000;

/**
 * AES-CM keystream under one key. One AES-ECB cipher object is kept for the key's life
 * and encrypts the counter blocks (IV + j, j = 0, 1, ...), so a packet costs one OpenSSL
 * call instead of a new CTR context per IV.
 */
export class AesCm {
  readonly #ecb: Cipher;
  #counters: Buffer = Buffer.alloc(BLOCK * 8);

  constructor(key: Buffer) {
    this.#ecb = createCipheriv('aes-128-ecb', key, null);
    this.#ecb.setAutoPadding(false);
  }

  /**
   * The first `length` bytes of keystream for `iv`, a 16-byte block whose low 16 bits are
   * zero (every SRTP IV is a multiple of 2^16).
   */
  keystream(iv: Buffer, length: number): Buffer {
    const blocks = Math.ceil(length / BLOCK);
    if (blocks > MAX_BLOCKS) throw new RangeError(`AES-CM: ${length} bytes exceed one IV's range`);
    const bytes = blocks * BLOCK;
    if (this.#counters.length < bytes) this.#counters = Buffer.alloc(bytes);
    const counters = this.#counters;
    // Plain element writes and copyWithin: no call into Node's C++ for a few bytes.
    for (let i = 0; i < BLOCK - 2; i++) counters[i] = iv[i]!;
    for (let j = 0, at = 0; j < blocks; j++, at += BLOCK) {
      if (j > 0) counters.copyWithin(at, 0, BLOCK - 2);
      counters[at + BLOCK - 2] = j >>> 8;
      counters[at + BLOCK - 1] = j & 0xff;
    }
    return this.#ecb.update(counters.subarray(0, bytes)).subarray(0, length);
  }
}

/** SRTP key derivation labels (RFC 3711 §4.3.2). */
export const Label = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
} as const;

/** The session keys of one master key for SRTP (not SRTCP, which Babel does not use). */
export interface SessionKeys {
  /** k_e, the 128-bit AES key. */
  readonly encKey: Buffer;
  /** k_s, the 112-bit session salt. */
  readonly salt: Buffer;
  /** k_a, the 160-bit HMAC-SHA1 key. */
  readonly authKey: Buffer;
}

/**
 * One session key (§4.3.1): with key_derivation_rate 0, r = 0, so
 * x = (label << 48) XOR master_salt, and the key is AES-CM under the master key with
 * IV = x * 2^16. The label lands on octet 7 of the 14-octet salt.
 */
export function deriveKey(masterKey: AesCm, masterSalt: Buffer, label: number, length: number) {
  const iv = Buffer.alloc(BLOCK);
  masterSalt.copy(iv, 0, 0, SRTP_SALT_BYTES);
  iv[7]! ^= label;
  return masterKey.keystream(iv, length);
}

/** The SRTP session keys of a 30-byte master key (16-byte key, then 14-byte salt). */
export function deriveSessionKeys(master: Buffer): SessionKeys {
  const aes = new AesCm(master.subarray(0, SRTP_KEY_BYTES));
  const salt = master.subarray(SRTP_KEY_BYTES, SRTP_KEY_BYTES + SRTP_SALT_BYTES);
  return {
    encKey: deriveKey(aes, salt, Label.rtpEncryption, 16),
    salt: deriveKey(aes, salt, Label.rtpSalt, SRTP_SALT_BYTES),
    authKey: deriveKey(aes, salt, Label.rtpAuthentication, 20),
  };
}
