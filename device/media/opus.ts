/**
 * Opus for one call leg [M-1]: 48 kHz mono s16le PCM, 10 or 20 ms frames, over our own
 * N-API addon `babel-opus` (native/opus/), which links the system's libopus (Debian
 * `libopus-dev`; see docs/platforms.md for why not a bundled copy).
 *
 * - The encoder is created in VOIP application mode; bitrate, complexity, in-band FEC and
 *   the expected loss are set once here from `OpusCodecOptions`.
 * - `encode()` takes exactly one frame of this codec and throws `RangeError` otherwise
 *   (the addon would accept any Opus duration; one frame per packet is our RTP rule).
 * - `decode()` returns what the packet carries: one frame for our own packets, another
 *   duration for another sender's (the pipeline fits it to the frame). A corrupt packet
 *   throws an `Error` naming the packet length, with the addon's error (`code`
 *   `OPUS_INVALID_PACKET`) as `cause`; the decoder state is unchanged, so the caller can
 *   `conceal()` that slot instead.
 * - `conceal()` runs libopus' loss concealment for exactly one frame (a lost packet with
 *   an explicit frame size), so the decoder's timeline moves by one frame; repeated losses
 *   fade as libopus intends. Before the first packet it is one frame of silence.
 * - `recover(next)` rebuilds the frame before `next` from the in-band FEC that `next`
 *   carries (libopus conceals instead when it carries none): one frame, for a slot whose
 *   packet is lost while the following one has already arrived.
 */
import opus from 'babel-opus';

const { Encoder, Decoder } = opus;

/** The PCM sample rate of the codec (and the RTP clock of Opus, RFC 7587 §4.1). */
export const OPUS_SAMPLE_RATE = 48000;
const CHANNELS = 1;
const BYTES_PER_SAMPLE = 2;
/** The longest packet duration Opus allows (RFC 6716 §3.2.5): 120 ms. */
const MAX_PACKET_SAMPLES = (OPUS_SAMPLE_RATE * 120) / 1000;

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

/** Encoder and decoder of one call leg; see the file comment. */
export class OpusCodec {
  #encoder: InstanceType<typeof Encoder>;
  #decoder: InstanceType<typeof Decoder>;
  #frameMs: 10 | 20;
  #frameSamples: number;
  #frameBytes: number;

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

    this.#encoder = new Encoder();
    this.#encoder.bitrate = bitrate;
    this.#encoder.complexity = complexity;
    this.#encoder.inbandFec = fec;
    this.#encoder.packetLossPercent = packetLossPercent;
    this.#decoder = new Decoder();
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
    return this.#encoder.bitrate;
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
    return this.#encoder.encode(pcm);
  }

  /**
   * Decodes one packet to s16le mono PCM: one frame for our own packets (a packet of
   * another duration decodes to that duration). An empty packet is concealed as one frame.
   * Throws for a corrupt packet (see the file comment).
   */
  decode(packet: Buffer): Buffer {
    if (packet.length === 0) return this.conceal();
    try {
      return this.#decoder.decode(packet, MAX_PACKET_SAMPLES);
    } catch (err) {
      throw new Error(`opus: cannot decode a ${packet.length}-byte packet`, { cause: err });
    }
  }

  /** Exactly one frame of loss concealment, for a frame slot whose packet is missing. */
  conceal(): Buffer {
    return this.#decoder.decode(null, this.#frameSamples);
  }

  /**
   * Exactly one frame for the slot before `next`, rebuilt from the in-band FEC in `next`
   * (concealed when `next` carries none). Decode `next` itself afterwards as usual.
   * Throws like `decode()` for a corrupt packet.
   */
  recover(next: Buffer): Buffer {
    if (next.length === 0) return this.conceal();
    try {
      return this.#decoder.decode(next, this.#frameSamples, true);
    } catch (err) {
      throw new Error(`opus: cannot recover from a ${next.length}-byte packet`, { cause: err });
    }
  }
}

function checkInt(value: number, min: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`opus: ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}
