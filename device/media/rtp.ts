/**
 * RTP fixed header codec and a per-call-leg sender [M-1].
 *
 * RFC 3550 §5.1, the fixed header:
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
 *    |            contributing source (CSRC) identifiers             |
 *    |                  (CC of them, 4 bytes each)                   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RFC 3550 §5.3.1, the header extension, present when X=1:
 *
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      defined by profile       |  length (32-bit words)        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                        header extension                       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * When P=1 the last payload octet counts the padding octets, itself included (§5.1).
 */
import { randomInt } from 'node:crypto';
import { seqAdd, tsAdd } from './seq.ts';

/** Opus payload type [M-1], as announced by `a=rtpmap:111 opus/48000/2` [M-3]. */
export const OPUS_PAYLOAD_TYPE = 111;
/** Opus RTP clock rate, always 48 kHz whatever the codec's internal rate (RFC 7587 §4.1). */
export const OPUS_CLOCK_RATE = 48000;
/** RFC 4733 telephone-event payload type, on the Opus clock (48 kHz). */
export const DTMF_PAYLOAD_TYPE = 101;

const RTP_VERSION = 2;
/** Size of the fixed header, up to and including the SSRC. */
export const RTP_HEADER_SIZE = 12;

// Offsets in the fixed header.
const OFF_FLAGS = 0; // V(2) P(1) X(1) CC(4)
const OFF_MARKER_PT = 1; // M(1) PT(7)
const OFF_SEQUENCE = 2;
const OFF_TIMESTAMP = 4;
const OFF_SSRC = 8;
const OFF_CSRC = 12;

// Bits of the first two octets.
const VERSION_SHIFT = 6;
const PADDING_BIT = 0x20;
const EXTENSION_BIT = 0x10;
const CC_MASK = 0x0f;
const MARKER_BIT = 0x80;
const PT_MASK = 0x7f;

const CSRC_SIZE = 4;
const EXT_HEADER_SIZE = 4;
const MAX_CSRCS = 15;

/**
 * RTCP packet types 200..204 (SR, RR, SDES, BYE, APP) read as M=1 with PT 72..76 in an RTP
 * header; RFC 5761 §4 keeps these payload types out of RTP so both can share a port.
 */
const RTCP_CONFLICT_MIN = 72;
const RTCP_CONFLICT_MAX = 76;

/** One RTP packet, as parsed by `parseRtp` and written by `encodeRtp`. */
export interface RtpPacket {
  version: 2;
  /** On parse: the packet carried padding (already stripped from `payload`). */
  padding: boolean;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension?: { profile: number; data: Buffer };
  payload: Buffer;
}

/**
 * Parses one datagram. Returns `null` for anything that is not valid RTP version 2: shorter
 * than the fixed header, another version, CSRC list / extension / padding running past the
 * end, a padding count of 0, or an RTCP-conflicting payload type [M-2]. Never throws.
 * `payload` and `extension.data` are views into `buf` (no copy).
 */
export function parseRtp(buf: Buffer): RtpPacket | null {
  const len = buf.length;
  if (len < RTP_HEADER_SIZE) return null;
  const b0 = buf[OFF_FLAGS]!;
  if (b0 >> VERSION_SHIFT !== RTP_VERSION) return null;
  const b1 = buf[OFF_MARKER_PT]!;
  const payloadType = b1 & PT_MASK;
  if (payloadType >= RTCP_CONFLICT_MIN && payloadType <= RTCP_CONFLICT_MAX) return null;

  const cc = b0 & CC_MASK;
  let offset = OFF_CSRC + cc * CSRC_SIZE;
  if (offset > len) return null;

  let extension: RtpPacket['extension'];
  if (b0 & EXTENSION_BIT) {
    if (offset + EXT_HEADER_SIZE > len) return null;
    const profile = buf.readUInt16BE(offset);
    const dataLen = buf.readUInt16BE(offset + 2) * 4;
    offset += EXT_HEADER_SIZE;
    if (offset + dataLen > len) return null;
    extension = { profile, data: buf.subarray(offset, offset + dataLen) };
    offset += dataLen;
  }

  let end = len;
  const padding = (b0 & PADDING_BIT) !== 0;
  if (padding) {
    if (end <= offset) return null;
    const count = buf[end - 1]!;
    if (count === 0 || count > end - offset) return null;
    end -= count;
  }

  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++) csrcs.push(buf.readUInt32BE(OFF_CSRC + i * CSRC_SIZE));

  const packet: RtpPacket = {
    version: RTP_VERSION,
    padding,
    marker: (b1 & MARKER_BIT) !== 0,
    payloadType,
    sequence: buf.readUInt16BE(OFF_SEQUENCE),
    timestamp: buf.readUInt32BE(OFF_TIMESTAMP),
    ssrc: buf.readUInt32BE(OFF_SSRC),
    csrcs,
    payload: buf.subarray(offset, end),
  };
  if (extension) packet.extension = extension;
  return packet;
}

/**
 * Writes a packet. With `padding: true` it appends 1..4 padding octets so the datagram is a
 * multiple of 4 bytes long (RFC 3550 §5.1). Throws `RangeError` for fields out of range,
 * an extension not a multiple of 4 bytes, or a payload type reserved for RTCP (RFC 5761).
 */
export function encodeRtp(p: RtpPacket): Buffer {
  checkUint(p.payloadType, 0x7f, 'payloadType');
  if (p.payloadType >= RTCP_CONFLICT_MIN && p.payloadType <= RTCP_CONFLICT_MAX) {
    throw new RangeError(`rtp: payloadType ${p.payloadType} is reserved for RTCP (RFC 5761)`);
  }
  checkUint(p.sequence, 0xffff, 'sequence');
  checkUint(p.timestamp, 0xffffffff, 'timestamp');
  checkUint(p.ssrc, 0xffffffff, 'ssrc');
  const cc = p.csrcs.length;
  if (cc > MAX_CSRCS) throw new RangeError(`rtp: at most ${MAX_CSRCS} CSRCs, got ${cc}`);
  for (const csrc of p.csrcs) checkUint(csrc, 0xffffffff, 'csrc');
  const ext = p.extension;
  if (ext) {
    checkUint(ext.profile, 0xffff, 'extension.profile');
    if (ext.data.length % 4 !== 0 || ext.data.length / 4 > 0xffff) {
      throw new RangeError('rtp: extension data must be a multiple of 4 bytes, at most 262140');
    }
  }

  const headerLen =
    RTP_HEADER_SIZE + cc * CSRC_SIZE + (ext ? EXT_HEADER_SIZE + ext.data.length : 0);
  const unpadded = headerLen + p.payload.length;
  const padLen = p.padding ? 4 - (unpadded % 4) : 0;
  const out = Buffer.allocUnsafe(unpadded + padLen);

  out[OFF_FLAGS] =
    (RTP_VERSION << VERSION_SHIFT) | (p.padding ? PADDING_BIT : 0) | (ext ? EXTENSION_BIT : 0) | cc;
  out[OFF_MARKER_PT] = (p.marker ? MARKER_BIT : 0) | p.payloadType;
  out.writeUInt16BE(p.sequence, OFF_SEQUENCE);
  out.writeUInt32BE(p.timestamp, OFF_TIMESTAMP);
  out.writeUInt32BE(p.ssrc, OFF_SSRC);
  let offset = OFF_CSRC;
  for (const csrc of p.csrcs) {
    out.writeUInt32BE(csrc, offset);
    offset += CSRC_SIZE;
  }
  if (ext) {
    out.writeUInt16BE(ext.profile, offset);
    out.writeUInt16BE(ext.data.length / 4, offset + 2);
    offset += EXT_HEADER_SIZE;
    offset += ext.data.copy(out, offset);
  }
  offset += p.payload.copy(out, offset);
  if (padLen > 0) {
    out.fill(0, offset, offset + padLen - 1);
    out[offset + padLen - 1] = padLen;
  }
  return out;
}

function checkUint(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`rtp: ${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/** Options of `RtpSender`; every start value is random unless given (tests pin them). */
export interface RtpSenderOptions {
  payloadType?: number;
  ssrc?: number;
  sequence?: number;
  timestamp?: number;
}

/**
 * Numbers the packets of one call leg [M-1]: random SSRC, random first sequence number and
 * timestamp (RFC 3550 §5.1), one sequence number per packet, the timestamp advanced by the
 * samples each packet covers, and the marker bit on the first packet of a talkspurt (the
 * first packet, and the first after `silence()`; RFC 3551 §4.1).
 */
export class RtpSender {
  #payloadType: number;
  #ssrc: number;
  #sequence: number;
  #timestamp: number;
  #marker = true;

  constructor(options: RtpSenderOptions = {}) {
    this.#payloadType = options.payloadType ?? OPUS_PAYLOAD_TYPE;
    this.#ssrc = options.ssrc ?? randomInt(0, 0x1_0000_0000);
    this.#sequence = options.sequence ?? randomInt(0, 0x10000);
    this.#timestamp = options.timestamp ?? randomInt(0, 0x1_0000_0000);
    checkUint(this.#payloadType, 0x7f, 'payloadType');
    checkUint(this.#ssrc, 0xffffffff, 'ssrc');
    checkUint(this.#sequence, 0xffff, 'sequence');
    checkUint(this.#timestamp, 0xffffffff, 'timestamp');
  }

  /** The SSRC of this leg. */
  get ssrc(): number {
    return this.#ssrc;
  }

  /** Sequence number the next packet will carry. */
  get sequence(): number {
    return this.#sequence;
  }

  /** RTP timestamp of the next audio frame (the sampling instant of its first sample). */
  get timestamp(): number {
    return this.#timestamp;
  }

  /** The next audio packet: `payload` covers `samplesPerFrame` samples (960 at 20 ms). */
  nextAudio(payload: Buffer, samplesPerFrame: number): Buffer {
    const packet = this.packet(this.#payloadType, payload, this.#timestamp, this.#marker);
    this.#marker = false;
    this.#timestamp = tsAdd(this.#timestamp, samplesPerFrame);
    return packet;
  }

  /**
   * Nothing was sent for `samples` samples (muted, DTX, a DTMF event took the slot): the
   * timestamp moves on, and the next audio packet starts a talkspurt (marker bit).
   */
  silence(samples: number): void {
    this.#timestamp = tsAdd(this.#timestamp, samples);
    this.#marker = true;
  }

  /**
   * A packet of any payload type on this leg's SSRC and sequence space, with an explicit
   * timestamp and marker (RFC 4733 events reuse one timestamp for several packets).
   */
  packet(payloadType: number, payload: Buffer, timestamp: number, marker: boolean): Buffer {
    if (payloadType >= RTCP_CONFLICT_MIN && payloadType <= RTCP_CONFLICT_MAX) {
      throw new RangeError(`rtp: payloadType ${payloadType} is reserved for RTCP (RFC 5761)`);
    }
    // The hot path (50 packets a second): one allocation, no intermediate object.
    const out = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
    out[OFF_FLAGS] = RTP_VERSION << VERSION_SHIFT;
    out[OFF_MARKER_PT] = (marker ? MARKER_BIT : 0) | (payloadType & PT_MASK);
    out.writeUInt16BE(this.#sequence, OFF_SEQUENCE);
    out.writeUInt32BE(timestamp >>> 0, OFF_TIMESTAMP);
    out.writeUInt32BE(this.#ssrc, OFF_SSRC);
    payload.copy(out, RTP_HEADER_SIZE);
    this.#sequence = seqAdd(this.#sequence, 1);
    return out;
  }
}
