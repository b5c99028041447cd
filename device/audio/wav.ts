/**
 * RIFF/WAVE PCM, pure functions over Buffers: enough to read a test message or a recorded
 * greeting for `--capture file:` and to write `--playback file:`.
 *
 * ```
 *  0  "RIFF"  4  riffSize (= file size - 8)  8  "WAVE"
 * 12  chunks: id (4 ASCII) | size (u32le) | body (size bytes, + 1 pad byte when odd)
 *     "fmt " body:  0 formatTag u16 | 2 channels u16 | 4 sampleRate u32 | 8 byteRate u32
 *                  12 blockAlign u16 | 14 bitsPerSample u16
 *                  [16 cbSize u16 | 18 validBits u16 | 20 channelMask u32 | 24 subFormat GUID,
 *                   whose first u16 is the real format tag]   (WAVE_FORMAT_EXTENSIBLE)
 *     "data" body:  interleaved samples
 * ```
 * No resampling: input must be 48 kHz 16-bit, mono or stereo (averaged to mono).
 */
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from './types.ts';

const RIFF_SIZE_OFFSET = 4;
const CHUNKS_OFFSET = 12;
const FMT_MIN_BYTES = 16;
const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;
const EXTENSIBLE_SUBFORMAT_OFFSET = 24;

/** Size of the header `wavHeader` writes: RIFF + fmt (16) + data chunk header. */
export const WAV_HEADER_BYTES = 44;
/** Offset of the data chunk's size field in a `wavHeader`. */
export const WAV_DATA_SIZE_OFFSET = 40;
/** Most PCM bytes a RIFF file can describe (its sizes are 32-bit). */
export const WAV_MAX_DATA_BYTES = 0xffff_ffff - (WAV_HEADER_BYTES - 8);

/** A file that is not WAV, or not a WAV the agent can use; the message says which. */
export class WavError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

/** What the header says, plus the sample bytes (a view of the input). */
export interface WavInfo {
  /** 1 for PCM (also when declared through WAVE_FORMAT_EXTENSIBLE). */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  /** Whole sample frames only; a truncated or streamed file is read to its end. */
  data: Buffer;
}

/** Parses the RIFF structure. Throws `WavError` for anything but a well-formed WAVE file. */
export function parseWav(buf: Buffer): WavInfo {
  if (
    buf.length < CHUNKS_OFFSET ||
    buf.toString('latin1', 0, 4) !== 'RIFF' ||
    buf.toString('latin1', 8, 12) !== 'WAVE'
  ) {
    throw new WavError('not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: Omit<WavInfo, 'data'> | undefined;
  let offset = CHUNKS_OFFSET;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < FMT_MIN_BYTES || body + size > buf.length) {
        throw new WavError('truncated fmt chunk');
      }
      fmt = readFmt(buf.subarray(body, body + size));
    } else if (id === 'data') {
      if (!fmt) throw new WavError('data chunk before fmt chunk');
      // A streamed file declares a huge size (0x7fffffff, 0xffffffff): read to the end.
      const available = Math.min(size, buf.length - body);
      const whole = available - (available % Math.max(1, fmt.blockAlign));
      return { ...fmt, data: buf.subarray(body, body + whole) };
    }
    offset = body + size + (size % 2);
  }
  throw new WavError(fmt ? 'no data chunk' : 'no fmt chunk');
}

function readFmt(body: Buffer): Omit<WavInfo, 'data'> {
  let format = body.readUInt16LE(0);
  if (format === FORMAT_EXTENSIBLE && body.length >= EXTENSIBLE_SUBFORMAT_OFFSET + 2) {
    format = body.readUInt16LE(EXTENSIBLE_SUBFORMAT_OFFSET);
  }
  return {
    format,
    channels: body.readUInt16LE(2),
    sampleRate: body.readUInt32LE(4),
    blockAlign: body.readUInt16LE(12),
    bitsPerSample: body.readUInt16LE(14),
  };
}

/**
 * The file's audio as 48 kHz mono s16le: mono as is, stereo averaged. Throws `WavError`
 * naming the problem for other encodings, sample sizes, channel counts or rates.
 */
export function decodeWav(buf: Buffer): Buffer {
  const info = parseWav(buf);
  checkAgentFormat(info);
  return info.channels === 1 ? Buffer.from(info.data) : stereoToMono(info.data);
}

/**
 * Throws `WavError` naming the problem unless `info` is 48 kHz 16-bit PCM, mono or stereo:
 * what `decodeWav` accepts.
 */
export function checkAgentFormat(info: Omit<WavInfo, 'data'>): void {
  if (info.format !== FORMAT_PCM) {
    throw new WavError(`unsupported encoding (format tag ${info.format}); need 16-bit PCM`);
  }
  if (info.bitsPerSample !== 16) {
    throw new WavError(`${info.bitsPerSample}-bit samples; need 16-bit PCM`);
  }
  if (info.channels !== 1 && info.channels !== 2) {
    throw new WavError(`${info.channels} channels; need mono or stereo`);
  }
  if (info.blockAlign !== info.channels * BYTES_PER_SAMPLE) {
    throw new WavError(`block align ${info.blockAlign} does not match ${info.channels} channels`);
  }
  if (info.sampleRate !== SAMPLE_RATE) {
    throw new WavError(
      `${info.sampleRate} Hz; need ${SAMPLE_RATE} Hz (convert: sox IN.wav -r 48000 -c 1 -b 16 OUT.wav)`,
    );
  }
}

/** Averages interleaved s16le stereo to mono (rounding toward negative infinity). */
export function stereoToMono(stereo: Buffer): Buffer {
  const n = stereo.length >> 2;
  const out = Buffer.allocUnsafe(n * 2);
  for (let i = 0; i < n; i++) {
    out.writeInt16LE((stereo.readInt16LE(i * 4) + stereo.readInt16LE(i * 4 + 2)) >> 1, i * 2);
  }
  return out;
}

/** A 44-byte header for `dataBytes` of s16le PCM (48 kHz mono unless told). */
export function wavHeader(dataBytes: number, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const blockAlign = channels * BYTES_PER_SAMPLE;
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataBytes, RIFF_SIZE_OFFSET);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(FMT_MIN_BYTES, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, WAV_DATA_SIZE_OFFSET);
  return h;
}

/** A complete WAV file holding `pcm` (s16le; 48 kHz mono unless told). */
export function encodeWav(pcm: Buffer, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  return Buffer.concat([wavHeader(pcm.length, sampleRate, channels), pcm]);
}
