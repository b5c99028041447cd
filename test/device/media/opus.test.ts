import test from 'ava';
import { OPUS_SAMPLE_RATE, OpusCodec } from '../../../device/media/opus.ts';
import { dominantFrequency, generateTone, goertzelPower, rms } from '../../../device/media/tone.ts';

const AMPLITUDE = 10000;

/** `seconds` of a continuous tone of `hz`, cut into frames. */
function toneFrames(hz: number, frameMs: 10 | 20, seconds: number): Buffer[] {
  const n = (seconds * 1000) / frameMs;
  return Array.from({ length: n }, (_, i) =>
    generateTone(hz, frameMs, OPUS_SAMPLE_RATE, AMPLITUDE, (2 * Math.PI * hz * i * frameMs) / 1000),
  );
}

// Geometry and options.

test('frame geometry and the bitrate libopus reports', (t) => {
  const c20 = new OpusCodec();
  t.deepEqual([c20.frameMs, c20.frameSamples, c20.frameBytes, c20.bitrate], [20, 960, 1920, 24000]);
  const c10 = new OpusCodec({ frameMs: 10, bitrate: 32000, complexity: 10, fec: false });
  t.deepEqual([c10.frameMs, c10.frameSamples, c10.frameBytes, c10.bitrate], [10, 480, 960, 32000]);
});

const badOptions: Array<[string, ConstructorParameters<typeof OpusCodec>[0]]> = [
  ['frameMs 40', { frameMs: 40 as 20 }],
  ['bitrate too low', { bitrate: 1000 }],
  ['bitrate not an integer', { bitrate: 24000.5 }],
  ['complexity 11', { complexity: 11 }],
  ['complexity -1', { complexity: -1 }],
  ['loss 101 %', { packetLossPercent: 101 }],
];
for (const [name, options] of badOptions) {
  test(`rejects ${name}`, (t) => {
    t.throws(() => new OpusCodec(options), { instanceOf: RangeError, message: /^opus: / });
  });
}

test('the bitrate option sets the packet size: bytes per frame follow bit/s', (t) => {
  for (const bitrate of [12000, 24000, 48000]) {
    const c = new OpusCodec({ bitrate });
    const sizes = toneFrames(440, 20, 2).map((f) => c.encode(f).length);
    const steady = sizes.slice(10);
    const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
    const expected = (bitrate * 0.02) / 8;
    t.true(mean > 0.75 * expected && mean < 1.15 * expected, `${bitrate}: ${mean} bytes/frame`);
  }
});

test('the fec option: recover() rebuilds a lost frame from the next packet only with FEC', (t) => {
  const level = (fec: boolean): number => {
    const tx = new OpusCodec({ fec, packetLossPercent: 20 });
    const rx = new OpusCodec();
    const packets = toneFrames(440, 20, 1).map((f) => tx.encode(f));
    for (let i = 0; i < 30; i++) rx.decode(packets[i]!);
    // Packet 30 is lost; packet 31 has arrived.
    const rebuilt = rx.recover(packets[31]!);
    t.is(rebuilt.length, 1920);
    t.is(rx.decode(packets[31]!).length, 1920);
    t.true(Math.abs(dominantFrequency(rebuilt, OPUS_SAMPLE_RATE) - 440) < 15);
    return rms(rebuilt) / (AMPLITUDE / Math.SQRT2);
  };
  const withFec = level(true);
  const withoutFec = level(false);
  // The FEC copy is the tone at full level; without it libopus conceals, already fading.
  t.true(withFec > 0.85, `with FEC: ${withFec}`);
  t.true(withoutFec < 0.75, `without FEC (concealment): ${withoutFec}`);
});

// Encoding and decoding.

for (const bytes of [0, 1, 240, 960, 1918, 1919, 1921, 3840, 5760]) {
  test(`encode refuses ${bytes} bytes at 20 ms with a clear error`, (t) => {
    const c = new OpusCodec();
    t.throws(() => c.encode(Buffer.alloc(bytes)), {
      instanceOf: RangeError,
      message: /exactly one 20 ms frame, 1920 bytes/,
    });
  });
}

test('encode refuses what is not a Buffer', (t) => {
  const c = new OpusCodec();
  t.throws(() => c.encode('x'.repeat(1920) as unknown as Buffer), { instanceOf: RangeError });
});

for (const frameMs of [20, 10] as const) {
  test(`a 440 Hz tone comes back as 440 Hz at its level (${frameMs} ms frames)`, (t) => {
    const c = new OpusCodec({ frameMs });
    const decoded: Buffer[] = [];
    for (const frame of toneFrames(440, frameMs, 1)) {
      const packet = c.encode(frame);
      t.true(packet.length > 0 && packet.length < 200);
      const pcm = c.decode(packet);
      t.is(pcm.length, c.frameBytes);
      decoded.push(pcm);
    }
    // Skip the codec's start-up (look-ahead and the encoder's first frames).
    const steady = Buffer.concat(decoded.slice(100 / frameMs));
    t.true(Math.abs(dominantFrequency(steady, OPUS_SAMPLE_RATE) - 440) <= 2);
    const on = goertzelPower(steady, 440, OPUS_SAMPLE_RATE);
    t.true(on > 1000 * goertzelPower(steady, 220, OPUS_SAMPLE_RATE));
    t.true(on > 1000 * goertzelPower(steady, 880, OPUS_SAMPLE_RATE));
    const level = rms(steady) / (AMPLITUDE / Math.SQRT2);
    t.true(level > 0.8 && level < 1.2, `level ${level}`);
  });

  test(`conceal() gives exactly one frame, before and after packets (${frameMs} ms)`, (t) => {
    const c = new OpusCodec({ frameMs });
    const first = c.conceal();
    t.is(first.length, c.frameBytes);
    t.true(first.equals(Buffer.alloc(c.frameBytes)), 'silence before the first packet');
    for (const frame of toneFrames(440, frameMs, 0.2)) c.decode(c.encode(frame));
    for (let i = 0; i < 10; i++) t.is(c.conceal().length, c.frameBytes);
    t.is(c.decode(Buffer.alloc(0)).length, c.frameBytes, 'an empty packet is one frame too');
  });
}

test('concealment continues the tone, then fades', (t) => {
  const c = new OpusCodec();
  for (const frame of toneFrames(440, 20, 0.5)) c.decode(c.encode(frame));
  const first = c.conceal();
  t.true(Math.abs(dominantFrequency(first, OPUS_SAMPLE_RATE) - 440) < 15);
  t.true(rms(first) > 1000);
  let last = first;
  for (let i = 0; i < 8; i++) last = c.conceal();
  t.true(rms(last) < rms(first) / 10);
});

test('a stream with every fifth packet lost keeps its length and its tone', (t) => {
  const tx = new OpusCodec();
  const rx = new OpusCodec();
  const frames = toneFrames(440, 20, 2);
  const out = frames.map((frame, i) => {
    const packet = tx.encode(frame);
    return i % 5 === 4 ? rx.conceal() : rx.decode(packet);
  });
  const pcm = Buffer.concat(out);
  t.is(pcm.length, frames.length * 1920);
  t.true(Math.abs(dominantFrequency(pcm.subarray(1920 * 5), OPUS_SAMPLE_RATE) - 440) <= 2);
});

test('a packet of another duration decodes to that duration', (t) => {
  const c10 = new OpusCodec({ frameMs: 10 });
  const c20 = new OpusCodec({ frameMs: 20 });
  t.is(c20.decode(c10.encode(toneFrames(440, 10, 0.01)[0]!)).length, 960);
  t.is(c10.decode(c20.encode(toneFrames(440, 20, 0.02)[0]!)).length, 1920);
});

test('a corrupt packet throws an Error naming it, with the cause, and the codec carries on', (t) => {
  const c = new OpusCodec();
  const err = t.throws(() => c.decode(Buffer.from([0xff, 0xff, 0xff])), { instanceOf: Error });
  t.is(err?.message, 'opus: cannot decode a 3-byte packet');
  t.is((err?.cause as NodeJS.ErrnoException | undefined)?.code, 'OPUS_INVALID_PACKET');
  t.regex(String((err?.cause as Error | undefined)?.message), /corrupted stream/);
  t.throws(() => c.recover(Buffer.from([0xff, 0xff, 0xff])), {
    message: 'opus: cannot recover from a 3-byte packet',
  });
  const frame = toneFrames(440, 20, 0.02)[0]!;
  t.is(c.decode(c.encode(frame)).length, 1920);
  t.is(c.conceal().length, 1920);
});
