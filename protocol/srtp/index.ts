/**
 * SRTP (RFC 3711) with the one suite of the contract, AES_CM_128_HMAC_SHA1_80 [S-4, S-5]:
 * keys in SDES `inline:` form, a sender and a receiver. Pure: Node's `crypto` only.
 */
export { rtpHeaderLength } from './header.ts';
export {
  newMasterKey,
  parseMasterKey,
  SRTP_MASTER_BYTES,
  SRTP_SUITE,
  SrtpKeyError,
} from './keys.ts';
export { REPLAY_WINDOW } from './replay.ts';
export { SRTP_TAG_BYTES, type SrtpDrop, SrtpReceiver, SrtpSender } from './transform.ts';
