import opus from '@discordjs/opus';
import test from 'ava';
import { OPUS_SAMPLE_RATE, OpusCodec, plcToc } from '../../../device/media/opus.ts';
import { dominantFrequency, generateTone, goertzelPower, rms } from '../../../device/media/tone.ts';

const { OpusEncoder } = opus;

/** `seconds` of a continuous 1 kHz tone, cut into frames. */
function toneFrames(frameMs: 10 | 20, seconds: number, amplitude = 10000): Buffer[] {
  const n = (seconds * 1000) / frameMs;
  return Array.from({ length: n }, (_, i) =>
    generateTone(
      1000,
      frameMs,
      OPUS_SAMPLE_RATE,
      amplitude,
      (2 * Math.PI * 1000 * i * frameMs) / 1000,
    ),
  );
}

// What the binding itself does: pinned here so that an upgrade that changes it is noticed.

test('binding: the application can no longer be set once a frame is encoded', (t) => {
  const raw = new OpusEncoder(OPUS_SAMPLE_RATE, 1);
  raw.encode(Buffer.alloc(1920));
  t.throws(() => raw.applyEncoderCTL(4000, 2048), { message: /Invalid ctl/ });
});

test('binding: decoding an empty packet conceals 120 ms, not one frame', (t) => {
  const raw = new OpusEncoder(OPUS_SAMPLE_RATE, 1);
  const packet = raw.encode(generateTone(1000, 20, OPUS_SAMPLE_RATE, 8000));
  t.is(raw.decode(packet).length / 2, 960);
  t.is(raw.decode(Buffer.alloc(0)).length / 2, 5760);
});

test('binding: a bare TOC byte conceals exactly the duration it announces', (t) => {
  const raw = new OpusEncoder(OPUS_SAMPLE_RATE, 1);
  const packet = raw.encode(generateTone(1000, 20, OPUS_SAMPLE_RATE, 8000));
  raw.decode(packet);
  t.is(raw.decode(Buffer.from([packet[0]! & 0xfc])).length / 2, 960);
  t.is(raw.decode(Buffer.from([plcToc(packet[0], 10)])).length / 2, 480);
});

// OpusCodec.

test('OpusCodec: frame geometry and settings', (t) => {
  const c20 = new OpusCodec();
  t.deepEqual([c20.frameMs, c20.frameSamples, c20.frameBytes, c20.bitrate], [20, 960, 1920, 24000]);
  const c10 = new OpusCodec({ frameMs: 10, bitrate: 32000, complexity: 10, fec: false });
  t.deepEqual([c10.frameMs, c10.frameSamples, c10.frameBytes, c10.bitrate], [10, 480, 960, 32000]);
});

const badOptions: Array<[string, ConstructorParameters<typeof OpusCodec>[0]]> = [
  ['frameMs 40', { frameMs: 40 as 20 }],
  ['bitrate too low', { bitrate: 1000 }],
  ['complexity 11', { complexity: 11 }],
  ['loss 101 %', { packetLossPercent: 101 }],
];
for (const [name, options] of badOptions) {
  test(`OpusCodec rejects ${name}`, (t) => {
    t.throws(() => new OpusCodec(options), { instanceOf: RangeError });
  });
}

// The binding aborts the process on these sizes: the wrapper must stop them first.
for (const bytes of [0, 1, 960, 1918, 1919, 1921, 3840, 5760]) {
  test(`encode refuses ${bytes} bytes at 20 ms with a clear error`, (t) => {
    const c = new OpusCodec();
    t.throws(() => c.encode(Buffer.alloc(bytes)), {
      instanceOf: RangeError,
      message: /exactly one 20 ms frame, 1920 bytes/,
    });
  });
}

for (const frameMs of [20, 10] as const) {
  test(`a 1 kHz tone survives encode and decode (${frameMs} ms frames)`, (t) => {
    const c = new OpusCodec({ frameMs });
    const decoded: Buffer[] = [];
    for (const frame of toneFrames(frameMs, 1)) {
      const packet = c.encode(frame);
      t.true(packet.length > 0 && packet.length < 200);
      const pcm = c.decode(packet);
      t.is(pcm.length, c.frameBytes);
      decoded.push(pcm);
    }
    // Skip the codec's start-up (look-ahead and the encoder's first frames).
    const steady = Buffer.concat(decoded.slice(100 / frameMs));
    t.is(dominantFrequency(steady, OPUS_SAMPLE_RATE), 1000);
    const on = goertzelPower(steady, 1000, OPUS_SAMPLE_RATE);
    t.true(on > 1000 * goertzelPower(steady, 500, OPUS_SAMPLE_RATE));
    t.true(on > 1000 * goertzelPower(steady, 2000, OPUS_SAMPLE_RATE));
    const level = rms(steady) / (10000 / Math.SQRT2);
    t.true(level > 0.8 && level < 1.2, `level ${level}`);
  });

  test(`conceal() gives exactly one frame, before and after packets (${frameMs} ms)`, (t) => {
    const c = new OpusCodec({ frameMs });
    const first = c.conceal();
    t.is(first.length, c.frameBytes);
    t.true(first.equals(Buffer.alloc(c.frameBytes)), 'silence before the first packet');
    for (const frame of toneFrames(frameMs, 0.2)) c.decode(c.encode(frame));
    for (let i = 0; i < 10; i++) t.is(c.conceal().length, c.frameBytes);
    t.is(c.decode(Buffer.alloc(0)).length, c.frameBytes, 'an empty packet is one frame too');
  });
}

test('concealment continues the tone, then fades', (t) => {
  const c = new OpusCodec();
  for (const frame of toneFrames(20, 0.5)) c.decode(c.encode(frame));
  const first = c.conceal();
  t.true(Math.abs(dominantFrequency(first, OPUS_SAMPLE_RATE) - 1000) < 50);
  t.true(rms(first) > 1000);
  let last = first;
  for (let i = 0; i < 8; i++) last = c.conceal();
  t.true(rms(last) < rms(first) / 10);
});

test('a stream with every fifth packet lost keeps its length and its tone', (t) => {
  const tx = new OpusCodec();
  const rx = new OpusCodec();
  const frames = toneFrames(20, 2);
  const out = frames.map((frame, i) => {
    const packet = tx.encode(frame);
    return i % 5 === 4 ? rx.conceal() : rx.decode(packet);
  });
  const pcm = Buffer.concat(out);
  t.is(pcm.length, frames.length * 1920);
  t.is(dominantFrequency(pcm.subarray(1920 * 5), OPUS_SAMPLE_RATE), 1000);
});

test('a corrupt packet throws an Error with the cause, and the codec carries on', (t) => {
  const c = new OpusCodec();
  const err = t.throws(() => c.decode(Buffer.from([0xff, 0xff, 0xff])));
  t.regex(err!.message, /cannot decode a 3-byte packet/);
  t.truthy(err!.cause);
  const frame = toneFrames(20, 0.02)[0]!;
  t.is(c.decode(c.encode(frame)).length, 1920);
  t.is(c.conceal().length, 1920);
});

// plcToc: the one-byte packet conceal() decodes (RFC 6716 §3.1 TOC byte).
const tocs: Array<[string, number | undefined, 10 | 20, number]> = [
  ['before any packet, 20 ms: CELT FB 20 ms', undefined, 20, 31 << 3],
  ['before any packet, 10 ms: CELT FB 10 ms', undefined, 10, 30 << 3],
  ['SILK WB 20 ms stays', 9 << 3, 20, 9 << 3],
  ['SILK WB 60 ms -> 20 ms', 11 << 3, 20, 9 << 3],
  ['SILK NB 20 ms -> 10 ms', 1 << 3, 10, 0],
  ['Hybrid FB 10 ms -> 20 ms', 14 << 3, 20, 15 << 3],
  ['CELT SWB 2.5 ms -> 10 ms', 24 << 3, 10, 26 << 3],
  ['stereo flag kept', (9 << 3) | 0x04, 20, (9 << 3) | 0x04],
  ['frame-count code cleared', (9 << 3) | 0x03, 20, 9 << 3],
];
for (const [name, last, frameMs, toc] of tocs) {
  test(`plcToc: ${name}`, (t) => {
    t.is(plcToc(last, frameMs), toc);
  });
}
