/**
 * Opus for one call leg [M-1]: 48 kHz mono s16le PCM, 10 or 20 ms frames, wrapping the
 * native @discordjs/opus 0.10 binding (libopus 1.3.1). What the binding does, and what
 * this wrapper does about it (each point is pinned by test/device/media/opus.test.ts):
 *
 * - Its encoder is created in AUDIO application mode, and libopus refuses
 *   OPUS_SET_APPLICATION once a frame has been encoded. The constructor switches to VOIP
 *   (ctl 4000 = 2048) before anything else, then sets bitrate (4002), complexity (4010),
 *   in-band FEC (4012) and the expected loss (4014).
 * - `encode()` with a buffer that is not a whole number of 2.5 ms frames makes opus_encode
 *   fail, and the binding then aborts the whole process (a fatal N-API error, not a JS
 *   exception). `encode()` therefore accepts exactly one frame and throws otherwise.
 * - Its `decode()` always passes decode_fec = 0 and a 120 ms output buffer. Given an empty
 *   packet, libopus runs its loss concealment for the whole buffer: 5760 samples (120 ms),
 *   and the decoder state moves on by 120 ms. FEC recovery is out of reach.
 * - libopus treats a packet whose frame is 0 or 1 bytes (RFC 6716 §3.2.1; a bare TOC byte)
 *   as lost, and conceals exactly the duration its TOC byte announces. `conceal()` decodes
 *   such a one-byte packet, a TOC with the frame duration of this codec and the mode,
 *   bandwidth and channel count of the last real packet: exactly one frame of concealment,
 *   decoder state advanced by exactly one frame, fading over repeated losses as libopus
 *   intends. Before the first packet libopus returns one frame of silence.
 * - A corrupt packet throws a TypeError from the binding; `decode()` rethrows it as an
 *   `Error` naming the packet length, with the binding's error as `cause`. The decoder
 *   state is unchanged, so the caller can `conceal()` that slot instead.
 */
import opus from '@discordjs/opus';

const { OpusEncoder } = opus;

/** The PCM sample rate of the codec (and the RTP clock of Opus, RFC 7587 §4.1). */
export const OPUS_SAMPLE_RATE = 48000;
const CHANNELS = 1;
const BYTES_PER_SAMPLE = 2;

/** libopus encoder ctl requests (opus_defines.h). */
const CTL = {
  SET_APPLICATION: 4000,
  SET_BITRATE: 4002,
  SET_COMPLEXITY: 4010,
  SET_INBAND_FEC: 4012,
  SET_PACKET_LOSS_PERC: 4014,
} as const;
const APPLICATION_VOIP = 2048;

/** Options of `OpusCodec`. */
export interface OpusCodecOptions {
  /** Target bitrate in bit/s, 6000..510000. Default 24000. */
  bitrate?: number;
  /** Encoder complexity 0..10 (CPU against quality; 5 suits a Raspberry Pi). Default 5. */
  complexity?: number;
  /** Frame duration [M-1]. Default 20. */
  frameMs?: 10 | 20;
  /** In-band FEC in the packets sent, for receivers that can use it. Default true. */
  fec?: boolean;
  /** Loss the encoder should expect, 0..100 %. Default 10. */
  packetLossPercent?: number;
}

/** Encoder and decoder of one call leg; see the file comment for the binding's traps. */
export class OpusCodec {
  #native: InstanceType<typeof OpusEncoder>;
  #frameMs: 10 | 20;
  #frameSamples: number;
  #frameBytes: number;
  /** The one-byte packet `conceal()` decodes; its TOC follows the last real packet. */
  #plcPacket: Buffer;
  /** TOC byte of the last packet decoded; -1 before the first. */
  #lastToc = -1;

  constructor(options: OpusCodecOptions = {}) {
    const {
      bitrate = 24000,
      complexity = 5,
      frameMs = 20,
      fec = true,
      packetLossPercent = 10,
    } = options;
    if (frameMs !== 10 && frameMs !== 20) {
      throw new RangeError(`opus: frameMs must be 10 or 20, got ${frameMs}`);
    }
    checkInt(bitrate, 6000, 510000, 'bitrate');
    checkInt(complexity, 0, 10, 'complexity');
    checkInt(packetLossPercent, 0, 100, 'packetLossPercent');
    this.#frameMs = frameMs;
    this.#frameSamples = (OPUS_SAMPLE_RATE * frameMs) / 1000;
    this.#frameBytes = this.#frameSamples * CHANNELS * BYTES_PER_SAMPLE;
    this.#plcPacket = Buffer.from([plcToc(undefined, frameMs)]);

    this.#native = new OpusEncoder(OPUS_SAMPLE_RATE, CHANNELS);
    // Must come first: libopus rejects an application change after the first encode.
    this.#native.applyEncoderCTL(CTL.SET_APPLICATION, APPLICATION_VOIP);
    this.#native.applyEncoderCTL(CTL.SET_BITRATE, bitrate);
    this.#native.applyEncoderCTL(CTL.SET_COMPLEXITY, complexity);
    this.#native.applyEncoderCTL(CTL.SET_INBAND_FEC, fec ? 1 : 0);
    this.#native.applyEncoderCTL(CTL.SET_PACKET_LOSS_PERC, packetLossPercent);
  }

  /** Frame duration in ms. */
  get frameMs(): 10 | 20 {
    return this.#frameMs;
  }

  /** Samples in one frame (960 at 20 ms); also the RTP timestamp step per packet. */
  get frameSamples(): number {
    return this.#frameSamples;
  }

  /** Bytes of PCM in one frame (1920 at 20 ms). */
  get frameBytes(): number {
    return this.#frameBytes;
  }

  /** The encoder's bitrate as libopus reports it. */
  get bitrate(): number {
    return this.#native.getBitrate();
  }

  /** Encodes exactly one frame of s16le mono PCM; throws `RangeError` for any other size. */
  encode(pcm: Buffer): Buffer {
    if (!Buffer.isBuffer(pcm) || pcm.length !== this.#frameBytes) {
      const got = Buffer.isBuffer(pcm) ? `${pcm.length} bytes` : typeof pcm;
      throw new RangeError(
        `opus: encode takes exactly one ${this.#frameMs} ms frame, ${this.#frameBytes} bytes ` +
          `(${this.#frameSamples} samples s16le mono), got ${got}`,
      );
    }
    return this.#native.encode(pcm);
  }

  /**
   * Decodes one packet to s16le mono PCM: one frame for our own packets (a packet of
   * another duration decodes to that duration). An empty packet is concealed as one frame.
   * Throws for a corrupt packet (see the file comment).
   */
  decode(packet: Buffer): Buffer {
    if (packet.length === 0) return this.conceal();
    let pcm: Buffer;
    try {
      pcm = this.#native.decode(packet);
    } catch (err) {
      throw new Error(`opus: cannot decode a ${packet.length}-byte packet`, { cause: err });
    }
    const toc = packet[0]!;
    if (toc !== this.#lastToc) {
      this.#lastToc = toc;
      this.#plcPacket[0] = plcToc(toc, this.#frameMs);
    }
    return pcm;
  }

  /** Exactly one frame of loss concealment, for a frame slot whose packet is missing. */
  conceal(): Buffer {
    const pcm = this.#native.decode(this.#plcPacket);
    if (pcm.length === this.#frameBytes) return pcm;
    // Not reached with libopus 1.3.1; kept so a binding change cannot break the timeline.
    const out = Buffer.alloc(this.#frameBytes);
    pcm.copy(out, 0, 0, Math.min(pcm.length, this.#frameBytes));
    return out;
  }
}

/**
 * A code-0 TOC byte (RFC 6716 §3.1) announcing one frame of `frameMs`, keeping the mode,
 * bandwidth and stereo flag of `lastToc` (CELT fullband mono before any packet). libopus
 * conceals with the mode of the last decoded frame; the TOC only sets the duration and the
 * channel count the concealment runs with.
 */
export function plcToc(lastToc: number | undefined, frameMs: 10 | 20): number {
  const idx20 = frameMs === 20 ? 1 : 0;
  if (lastToc === undefined || lastToc < 0) return (30 + idx20) << 3;
  const config = lastToc >> 3;
  const stereo = lastToc & 0x04;
  let base: number;
  let index: number;
  if (config < 12) {
    // SILK-only: NB, MB, WB x 10, 20, 40, 60 ms.
    base = config & ~3;
    index = idx20;
  } else if (config < 16) {
    // Hybrid: SWB, FB x 10, 20 ms.
    base = config & ~1;
    index = idx20;
  } else {
    // CELT-only: NB, WB, SWB, FB x 2.5, 5, 10, 20 ms.
    base = config & ~3;
    index = 2 + idx20;
  }
  return ((base + index) << 3) | stereo;
}

function checkInt(value: number, min: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`opus: ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}
