import test from 'ava';
import {
  decodeWav,
  encodeWav,
  parseWav,
  stereoToMono,
  WAV_HEADER_BYTES,
  WavError,
  wavHeader,
} from '../../../device/audio/wav.ts';

/** s16le samples as a Buffer. */
function pcm(...samples: number[]): Buffer {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => {
    b.writeInt16LE(s, i * 2);
  });
  return b;
}

/** A fmt chunk body: tag, channels, rate, bits (block align and byte rate derived). */
function fmt(tag: number, channels: number, rate: number, bits: number, extra?: Buffer): Buffer {
  const b = Buffer.alloc(16);
  const align = (channels * bits) / 8;
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE(rate * align, 8);
  b.writeUInt16LE(align, 12);
  b.writeUInt16LE(bits, 14);
  return extra ? Buffer.concat([b, extra]) : b;
}

/** WAVE_FORMAT_EXTENSIBLE tail whose sub-format GUID starts with `tag`. */
function extensible(tag: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16LE(22, 0);
  b.writeUInt16LE(16, 2);
  b.writeUInt32LE(4, 4);
  b.writeUInt16LE(tag, 8);
  return b;
}

/** A RIFF/WAVE file from chunks; `size` overrides a chunk's declared size. */
function riff(...chunks: { id: string; body: Buffer; size?: number }[]): Buffer {
  const parts = chunks.map(({ id, body, size }) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(size ?? body.length, 4);
    return Buffer.concat([h, body, Buffer.alloc(body.length % 2)]);
  });
  const body = Buffer.concat([Buffer.from('WAVE'), ...parts]);
  const h = Buffer.alloc(8);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(body.length, 4);
  return Buffer.concat([h, body]);
}

const mono = fmt(1, 1, 48000, 16);
const samples = pcm(0, 1, -1, 32767, -32768, 1234);

test('encode then decode gives the samples back, for any length', (t) => {
  for (const n of [0, 1, 2, 959, 960, 4801]) {
    const data = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) data.writeInt16LE(((i * 7919) % 65536) - 32768, i * 2);
    const file = encodeWav(data);
    t.is(file.length, WAV_HEADER_BYTES + data.length);
    t.deepEqual(decodeWav(file), data, `${n} samples`);
  }
});

test('the header matches the canonical 44-byte layout', (t) => {
  const h = wavHeader(1920);
  t.is(h.toString('latin1', 0, 4), 'RIFF');
  t.is(h.readUInt32LE(4), 36 + 1920);
  t.is(h.toString('latin1', 8, 16), 'WAVEfmt ');
  t.deepEqual(h.subarray(20, 36), fmt(1, 1, 48000, 16));
  t.is(h.toString('latin1', 36, 40), 'data');
  t.is(h.readUInt32LE(40), 1920);
});

const readable: [name: string, file: Buffer, expected: Buffer][] = [
  ['plain mono', riff({ id: 'fmt ', body: mono }, { id: 'data', body: samples }), samples],
  [
    'extensible PCM',
    riff(
      { id: 'fmt ', body: fmt(0xfffe, 1, 48000, 16, extensible(1)) },
      { id: 'data', body: samples },
    ),
    samples,
  ],
  [
    'chunks before, between and after, odd-sized with a pad byte',
    riff(
      { id: 'JUNK', body: Buffer.from('abc') },
      { id: 'fmt ', body: mono },
      { id: 'LIST', body: Buffer.from('INFOISFT') },
      { id: 'data', body: samples },
      { id: 'id3 ', body: Buffer.from('x') },
    ),
    samples,
  ],
  [
    'streamed: declared size larger than the file',
    riff({ id: 'fmt ', body: mono }, { id: 'data', body: samples, size: 0xffffffff }),
    samples,
  ],
  [
    'truncated mid-sample: the odd byte is dropped',
    riff({ id: 'fmt ', body: mono }, { id: 'data', body: samples }).subarray(0, 44 + 5),
    samples.subarray(0, 4),
  ],
  [
    'stereo is averaged to mono',
    riff({ id: 'fmt ', body: fmt(1, 2, 48000, 16) }, { id: 'data', body: pcm(100, 200, -1, 0) }),
    pcm(150, -1),
  ],
  ['empty data', riff({ id: 'fmt ', body: mono }, { id: 'data', body: Buffer.alloc(0) }), pcm()],
];

for (const [name, file, expected] of readable) {
  test(`decodes: ${name}`, (t) => {
    t.deepEqual(decodeWav(file), expected);
  });
}

const refused: [name: string, file: Buffer, message: RegExp][] = [
  ['empty file', Buffer.alloc(0), /not a WAV file/],
  ['RIFF but not WAVE', Buffer.from('RIFF\x04\x00\x00\x00AVI '), /not a WAV file/],
  ['raw PCM', samples, /not a WAV file/],
  ['no fmt', riff({ id: 'data', body: samples }), /data chunk before fmt/],
  ['no chunks at all', riff(), /no fmt chunk/],
  ['no data', riff({ id: 'fmt ', body: mono }), /no data chunk/],
  ['short fmt', riff({ id: 'fmt ', body: Buffer.alloc(8) }), /truncated fmt/],
  ['fmt beyond the end', riff({ id: 'fmt ', body: mono, size: 400 }), /truncated fmt/],
  [
    'float',
    riff({ id: 'fmt ', body: fmt(3, 1, 48000, 32) }, { id: 'data', body: samples }),
    /format tag 3/,
  ],
  [
    'extensible float',
    riff(
      { id: 'fmt ', body: fmt(0xfffe, 1, 48000, 32, extensible(3)) },
      { id: 'data', body: samples },
    ),
    /format tag 3/,
  ],
  [
    '24-bit',
    riff({ id: 'fmt ', body: fmt(1, 1, 48000, 24) }, { id: 'data', body: samples }),
    /24-bit samples; need 16-bit/,
  ],
  [
    '8-bit',
    riff({ id: 'fmt ', body: fmt(1, 1, 48000, 8) }, { id: 'data', body: samples }),
    /8-bit samples/,
  ],
  [
    '44.1 kHz',
    riff({ id: 'fmt ', body: fmt(1, 1, 44100, 16) }, { id: 'data', body: samples }),
    /44100 Hz; need 48000 Hz \(convert: sox/,
  ],
  [
    '16 kHz stereo',
    riff({ id: 'fmt ', body: fmt(1, 2, 16000, 16) }, { id: 'data', body: samples }),
    /16000 Hz/,
  ],
  [
    'six channels',
    riff({ id: 'fmt ', body: fmt(1, 6, 48000, 16) }, { id: 'data', body: samples }),
    /6 channels; need mono or stereo/,
  ],
];

for (const [name, file, message] of refused) {
  test(`refuses: ${name}`, (t) => {
    const err = t.throws(() => decodeWav(file), { instanceOf: WavError });
    t.regex(err?.message ?? '', message);
  });
}

test('parseWav reports the header as written', (t) => {
  const info = parseWav(
    riff({ id: 'fmt ', body: fmt(1, 2, 44100, 16) }, { id: 'data', body: samples }),
  );
  t.like(info, { format: 1, channels: 2, sampleRate: 44100, bitsPerSample: 16, blockAlign: 4 });
  t.is(info.data.length, 12);
});

test('stereo averaging rounds down and cannot overflow', (t) => {
  t.deepEqual(
    stereoToMono(pcm(32767, 32767, -32768, -32768, 32767, -32768, 3, 4, -3, -4)),
    pcm(32767, -32768, -1, 3, -4),
  );
});

test('random bytes never throw anything but WavError', (t) => {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const valid = riff({ id: 'fmt ', body: mono }, { id: 'data', body: samples });
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(valid);
    // Corrupt a few bytes past the RIFF/WAVE magic, or truncate.
    for (let k = 0; k < 3; k++)
      buf[12 + Math.floor(rand() * (buf.length - 12))] = Math.floor(rand() * 256);
    const cut = buf.subarray(0, Math.floor(rand() * (buf.length + 1)));
    try {
      decodeWav(rand() < 0.5 ? buf : cut);
    } catch (err) {
      if (!(err instanceof WavError)) t.fail(`threw ${String(err)}`);
    }
  }
  t.pass();
});
