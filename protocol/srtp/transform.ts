/**
 * The SRTP transform for AES_CM_128_HMAC_SHA1_80 [S-4, S-5] (RFC 3711 §3, §4).
 *
 *    +----------------------------------------------------------------+
 *    | RTP header, CSRCs, header extension        (clear)             |  authenticated
 *    +----------------------------------------------------------------+
 *    | payload, padding           (AES-CM encrypted, §4.1.1)          |  authenticated
 *    +----------------------------------------------------------------+
 *    | authentication tag: first 80 bits of HMAC-SHA1(k_a, packet || ROC) (§4.2)
 *    +----------------------------------------------------------------+
 *
 * The packet index is ROC * 2^16 + SEQ; the IV of a packet is
 * (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16). Keys derive once per master key
 * (key_derivation_rate 0, the same for every SSRC); each SSRC keeps its own rollover
 * counter and, on the receiving side, its own replay window.
 */
import { OFF_SEQ, OFF_SSRC, RTP_FIXED_HEADER, rtpHeaderLength } from './header.ts';
import { HmacSha1 } from './hmac.ts';
import { AesCm, deriveSessionKeys } from './kdf.ts';
import { parseMasterKey } from './keys.ts';
import { estimateRoc, ReplayWindow, SEQ_MOD } from './replay.ts';

/** The 80-bit tag of AES_CM_128_HMAC_SHA1_80 (RFC 4568 §6.2.1). */
export const SRTP_TAG_BYTES = 10;
/** The rollover counter as the MAC covers it (§4.2). */
const ROC_BYTES = 4;
/** SSRCs tracked per sender or receiver; beyond this the oldest is forgotten. */
const MAX_STREAMS = 16;

/** Why an SRTP packet was dropped; 'replay' also covers "older than the window" [S-5]. */
export type SrtpDrop = 'malformed' | 'auth' | 'replay';

/** The session keys of one master key, with the scratch space of the hot path. */
class SessionCrypto {
  readonly #aes: AesCm;
  readonly #salt: Buffer;
  readonly #hmac: HmacSha1;
  readonly #iv = Buffer.alloc(16);

  constructor(masterKeyB64: string) {
    const keys = deriveSessionKeys(parseMasterKey(masterKeyB64));
    this.#aes = new AesCm(keys.encKey);
    this.#salt = keys.salt;
    this.#hmac = new HmacSha1(keys.authKey);
  }

  /**
   * Writes `src[from..end)` XOR the keystream of (ssrc, roc, seq) to `dst[from..end)`:
   * encryption and decryption alike (§4.1.1).
   */
  crypt(
    src: Buffer,
    dst: Buffer,
    from: number,
    end: number,
    ssrc: number,
    roc: number,
    seq: number,
  ) {
    // IV = salt * 2^16 XOR SSRC * 2^64 XOR (ROC * 2^16 + SEQ) * 2^16, byte by byte.
    const iv = this.#iv;
    const salt = this.#salt;
    for (let i = 0; i < 4; i++) iv[i] = salt[i]!;
    iv[4] = salt[4]! ^ (ssrc >>> 24);
    iv[5] = salt[5]! ^ ((ssrc >>> 16) & 0xff);
    iv[6] = salt[6]! ^ ((ssrc >>> 8) & 0xff);
    iv[7] = salt[7]! ^ (ssrc & 0xff);
    iv[8] = salt[8]! ^ (roc >>> 24);
    iv[9] = salt[9]! ^ ((roc >>> 16) & 0xff);
    iv[10] = salt[10]! ^ ((roc >>> 8) & 0xff);
    iv[11] = salt[11]! ^ (roc & 0xff);
    iv[12] = salt[12]! ^ (seq >>> 8);
    iv[13] = salt[13]! ^ (seq & 0xff);
    iv[14] = 0;
    iv[15] = 0;
    const ks = this.#aes.keystream(iv, end - from);
    for (let i = from, k = 0; i < end; i++, k++) dst[i] = src[i]! ^ ks[k]!;
  }

  /**
   * The full HMAC-SHA1 of `buf[0..end) || ROC` (§4.2); the tag is its first 10 bytes.
   * Writes the ROC into `buf[end..end+4)`, which must be scratch space (where the tag
   * goes), so the MAC covers one contiguous range.
   */
  mac(buf: Buffer, end: number, roc: number): Buffer {
    buf.writeUInt32BE(roc >>> 0, end);
    return this.#hmac.digest(buf.subarray(0, end + ROC_BYTES));
  }
}

/** Rollover state of one SSRC (§3.3.1): ROC and the highest sequence number under it. */
interface Stream {
  roc: number;
  seq: number;
}

function remember<T>(streams: Map<number, T>, ssrc: number, stream: T): T {
  if (streams.size >= MAX_STREAMS) streams.delete(streams.keys().next().value!);
  streams.set(ssrc, stream);
  return stream;
}

/** Moves a stream's (ROC, highest SEQ) forward if (roc, seq) lies beyond it. */
function advance(s: Stream, roc: number, seq: number): void {
  if (roc > s.roc || (roc === s.roc && seq > s.seq)) {
    s.roc = roc;
    s.seq = seq;
  }
}

/** Protects outgoing RTP with one master key [S-4]. */
export class SrtpSender {
  readonly #crypto: SessionCrypto;
  readonly #streams = new Map<number, Stream>();

  /** Throws `SrtpKeyError` unless the key is base64 of exactly 30 bytes. */
  constructor(masterKeyB64: string) {
    this.#crypto = new SessionCrypto(masterKeyB64);
  }

  /**
   * The SRTP packet for one RTP packet. The ROC follows the sequence numbers it sees,
   * so a wrap past 65,535 moves it on (also if packets come a little out of order).
   * Throws a TypeError if `rtp` is not an RTP version 2 packet whose CSRC list and
   * header extension fit: callers hand it their own packets, or check with
   * `rtpHeaderLength` first.
   */
  protect(rtp: Buffer): Buffer {
    const end = rtp.length;
    const header = rtpHeaderLength(rtp, end);
    if (header < 0) throw new TypeError('SRTP protect: not an RTP version 2 packet');
    const seq = rtp.readUInt16BE(OFF_SEQ);
    const ssrc = rtp.readUInt32BE(OFF_SSRC);
    let s = this.#streams.get(ssrc);
    if (!s) s = remember(this.#streams, ssrc, { roc: 0, seq });
    // A sequence number that reads as "just before the stream began" stays under ROC 0.
    const roc = Math.max(0, estimateRoc(s.roc, s.seq, seq));
    advance(s, roc, seq);
    const out = Buffer.allocUnsafe(end + SRTP_TAG_BYTES);
    for (let i = 0; i < header; i++) out[i] = rtp[i]!;
    this.#crypto.crypt(rtp, out, header, end, ssrc, roc, seq);
    const mac = this.#crypto.mac(out, end, roc);
    for (let i = 0; i < SRTP_TAG_BYTES; i++) out[end + i] = mac[i]!;
    return out;
  }
}

/** A receiving SSRC: its rollover state and replay window [S-5]. */
interface RecvStream extends Stream {
  readonly window: ReplayWindow;
}

interface RecvStats {
  ok: number;
  auth: number;
  replay: number;
  malformed: number;
}

/** Authenticates, replay-checks and decrypts incoming SRTP with one master key [S-5]. */
export class SrtpReceiver {
  readonly #crypto: SessionCrypto;
  readonly #streams = new Map<number, RecvStream>();
  readonly #stats: RecvStats = { ok: 0, auth: 0, replay: 0, malformed: 0 };

  /** Throws `SrtpKeyError` unless the key is base64 of exactly 30 bytes. */
  constructor(masterKeyB64: string) {
    this.#crypto = new SessionCrypto(masterKeyB64);
  }

  /** Packets accepted and dropped, by reason. */
  get stats(): {
    readonly ok: number;
    readonly auth: number;
    readonly replay: number;
    readonly malformed: number;
  } {
    return this.#stats;
  }

  /**
   * The RTP packet inside `srtp`, or why it was dropped (counted in `stats`). Never
   * throws. The replay check comes before authentication (cheap, §3.3.2), but only an
   * authenticated packet moves the window or the rollover counter, so forged packets
   * cannot shift a stream's state. A new SSRC starts under ROC 0, from whatever
   * sequence number it first shows (a receiver may join mid-stream, RFC 3711 §3.3.1).
   */
  unprotect(srtp: Buffer): Buffer | SrtpDrop {
    const end = srtp.length - SRTP_TAG_BYTES;
    const header = end >= RTP_FIXED_HEADER ? rtpHeaderLength(srtp, end) : -1;
    if (header < 0) {
      this.#stats.malformed++;
      return 'malformed';
    }
    const seq = srtp.readUInt16BE(OFF_SEQ);
    const ssrc = srtp.readUInt32BE(OFF_SSRC);
    const s = this.#streams.get(ssrc);
    const roc = s ? estimateRoc(s.roc, s.seq, seq) : 0;
    const index = roc * SEQ_MOD + seq;
    if (roc < 0 || s?.window.rejects(index)) {
      this.#stats.replay++;
      return 'replay';
    }
    // The packet is copied first, with room for the ROC after it, so the MAC is one update
    // and decryption happens in place; the input buffer is never written to.
    const copy = Buffer.allocUnsafe(srtp.length); // the tag's bytes are room for the ROC
    copy.set(srtp);
    const mac = this.#crypto.mac(copy, end, roc);
    // Constant time: every byte compared, no early exit.
    let diff = 0;
    for (let i = 0; i < SRTP_TAG_BYTES; i++) diff |= mac[i]! ^ srtp[end + i]!;
    if (diff !== 0) {
      this.#stats.auth++;
      return 'auth';
    }
    this.#crypto.crypt(copy, copy, header, end, ssrc, roc, seq);
    const out = copy.subarray(0, end);
    const stream = s ?? remember(this.#streams, ssrc, { roc, seq, window: new ReplayWindow() });
    advance(stream, roc, seq);
    stream.window.accept(index);
    this.#stats.ok++;
    return out;
  }
}
