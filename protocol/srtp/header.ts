/**
 * The length of an RTP header, all SRTP needs from it (RFC 3711 §3.1: the header, CSRCs
 * and header extension stay in clear and are authenticated; only the payload, padding
 * included, is encrypted).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                           timestamp                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           synchronization source (SSRC) identifier            |
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |       CSRC identifiers (CC of them, 4 bytes each)             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  profile-defined (16 bits)    |  length in 32-bit words (16)  |  <- if X=1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  header extension (length words)              |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

export const RTP_FIXED_HEADER = 12;
export const OFF_SEQ = 2;
export const OFF_SSRC = 8;
const VERSION_MASK = 0xc0;
const VERSION_2 = 0x80;
const EXTENSION_BIT = 0x10;
const CC_MASK = 0x0f;

/**
 * The header length of the RTP packet in `buf[0..end)`, or -1 if it is not RTP version 2
 * or its CSRC list or header extension runs past `end`. The payload may be empty.
 */
export function rtpHeaderLength(buf: Buffer, end: number): number {
  if (end < RTP_FIXED_HEADER || (buf[0]! & VERSION_MASK) !== VERSION_2) return -1;
  let len = RTP_FIXED_HEADER + 4 * (buf[0]! & CC_MASK);
  if (buf[0]! & EXTENSION_BIT) {
    if (len + 4 > end) return -1;
    len += 4 + 4 * buf.readUInt16BE(len + 2);
  }
  return len <= end ? len : -1;
}
