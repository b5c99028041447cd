/**
 * SRTP master keys as they travel in signaling [S-4]: the suite name and the SDES `inline:`
 * form (RFC 4568 §6.1), base64 of the 16-byte master key followed by the 14-byte master
 * salt. No lifetime or MKI suffix: the hub draws fresh keys per call and direction.
 */
import { randomBytes } from 'node:crypto';

/** The one suite the contract allows [S-4] (RFC 4568 §6.2.1, RFC 3711 §5). */
export const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';
/** Master key and master salt, concatenated: 16 + 14 bytes. */
export const SRTP_MASTER_BYTES = 30;
export const SRTP_KEY_BYTES = 16;
export const SRTP_SALT_BYTES = 14;

/** 30 bytes are exactly 40 base64 characters, never padded. */
const CANONICAL_B64 = /^[A-Za-z0-9+/]{40}$/;

/** A master key that is not base64 of exactly 30 bytes. The message never repeats the key. */
export class SrtpKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrtpKeyError';
  }
}

/** A fresh random master key and salt, in the SDES `inline:` form [S-4]. */
export function newMasterKey(): string {
  return randomBytes(SRTP_MASTER_BYTES).toString('base64');
}

/**
 * The 30 bytes of a master key in SDES `inline:` form. Throws `SrtpKeyError` unless the
 * input is canonical base64 (40 characters of the standard alphabet, which 30 bytes
 * fill exactly, so there is no padding and no spare bit).
 */
export function parseMasterKey(b64: string): Buffer {
  if (typeof b64 !== 'string' || !CANONICAL_B64.test(b64)) {
    const what =
      typeof b64 !== 'string'
        ? `a ${typeof b64}`
        : `${b64.length} characters${/^[A-Za-z0-9+/]*={0,2}$/.test(b64) ? '' : ' with characters outside the base64 alphabet'}`;
    throw new SrtpKeyError(
      `SRTP master key must be base64 of exactly ${SRTP_MASTER_BYTES} bytes (40 characters, ${SRTP_SUITE}); got ${what}`,
    );
  }
  return Buffer.from(b64, 'base64');
}
