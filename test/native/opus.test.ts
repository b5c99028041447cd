// The addon's own contract (native/opus/src/opus_addon.c): every misuse is a JS exception,
// never a process abort, and each ctl reads back what was set.
import test from 'ava';
import opus from 'babel-opus';
import { generateTone } from '../../device/media/tone.ts';

const { Encoder, Decoder } = opus;

const tone = (ms: number): Buffer => generateTone(440, ms, 48000, 8000);

test('libopus is linked and says which version', (t) => {
  t.regex(opus.libopusVersion, /^libopus \d+\.\d+/);
  t.is(opus.SAMPLE_RATE, 48000);
  t.is(opus.APPLICATION_VOIP, 2048);
});

test('the encoder is VOIP and its ctls read back what was set', (t) => {
  const e = new Encoder();
  t.is(e.application, opus.APPLICATION_VOIP);
  e.bitrate = 16000;
  e.complexity = 3;
  e.inbandFec = true;
  e.packetLossPercent = 25;
  t.deepEqual([e.bitrate, e.complexity, e.inbandFec, e.packetLossPercent], [16000, 3, true, 25]);
  e.inbandFec = false;
  t.false(e.inbandFec);
});

const badSettings: Array<[string, (e: InstanceType<typeof Encoder>) => void, new () => Error]> = [
  [
    'bitrate 100',
    (e) => {
      e.bitrate = 100;
    },
    RangeError,
  ],
  [
    'bitrate 1.5',
    (e) => {
      e.bitrate = 24000.5;
    },
    RangeError,
  ],
  [
    'complexity 11',
    (e) => {
      e.complexity = 11;
    },
    RangeError,
  ],
  [
    'packetLossPercent -1',
    (e) => {
      e.packetLossPercent = -1;
    },
    RangeError,
  ],
  [
    'inbandFec 1',
    (e) => {
      e.inbandFec = 1 as unknown as boolean;
    },
    TypeError,
  ],
  [
    'bitrate "24000"',
    (e) => {
      e.bitrate = '24000' as unknown as number;
    },
    TypeError,
  ],
];
for (const [name, set, type] of badSettings) {
  test(`a bad setting throws: ${name}`, (t) => {
    const e = new Encoder();
    t.throws(() => set(e), { instanceOf: type, message: /^opus: / });
    t.is(e.complexity, new Encoder().complexity, 'the encoder keeps its settings');
  });
}

for (const ms of [2.5, 5, 10, 20, 40, 60]) {
  test(`encodes a ${ms} ms frame into one packet of that duration`, (t) => {
    const e = new Encoder();
    const d = new Decoder();
    const packet = e.encode(tone(ms));
    t.is(d.decode(packet, 5760).length, ms * 96);
  });
}

for (const bytes of [0, 2, 239, 241, 1918, 1921, 2000, 7680, 11520]) {
  test(`encode refuses ${bytes} bytes with a RangeError`, (t) => {
    t.throws(() => new Encoder().encode(Buffer.alloc(bytes)), {
      instanceOf: RangeError,
      message: new RegExp(`2.5, 5, 10, 20, 40 or 60 ms .* got ${bytes} bytes`),
    });
  });
}

test('encode reads a Buffer at an odd byte offset correctly', (t) => {
  const pcm = tone(20);
  const odd = Buffer.alloc(1921).subarray(1);
  pcm.copy(odd);
  t.is(odd.byteOffset % 2, 1);
  t.deepEqual(new Encoder().encode(odd), new Encoder().encode(pcm));
});

test('decode: concealment and FEC give exactly frameSize samples', (t) => {
  const e = new Encoder();
  e.inbandFec = true;
  e.packetLossPercent = 20;
  const d = new Decoder();
  const packets = Array.from({ length: 10 }, () => e.encode(tone(20)));
  for (const p of packets.slice(0, 8)) d.decode(p, 960);
  t.is(d.decode(null, 120).length, 240);
  t.is(d.decode(Buffer.alloc(0), 480).length, 960);
  t.is(d.decode(null, 5760).length, 11520);
  t.is(d.decode(packets[9]!, 960, true).length, 1920);
  t.is(d.decode(packets[9]!, 960, false).length, 1920);
});

const badDecodes: Array<[string, (d: InstanceType<typeof Decoder>, p: Buffer) => unknown, RegExp]> =
  [
    [
      'concealment of 100 samples',
      (d) => d.decode(null, 100),
      /multiple of 120 samples .* got 100/,
    ],
    ['FEC of 1000 samples', (d, p) => d.decode(p, 1000, true), /multiple of 120 samples/],
    ['frameSize 0', (d) => d.decode(null, 0), /frameSize must be an integer in 1\.\.5760/],
    ['frameSize 5761', (d) => d.decode(null, 5761), /frameSize must be an integer in 1\.\.5760/],
    ['frameSize 960.5', (d, p) => d.decode(p, 960.5), /frameSize must be an integer/],
  ];
for (const [name, call, message] of badDecodes) {
  test(`decode refuses ${name} with a RangeError`, (t) => {
    const packet = new Encoder().encode(tone(20));
    t.throws(() => call(new Decoder(), packet), { instanceOf: RangeError, message });
  });
}

test('decode: a frame longer than frameSize throws OPUS_BUFFER_TOO_SMALL', (t) => {
  const packet = new Encoder().encode(tone(20));
  const err = t.throws(() => new Decoder().decode(packet, 480));
  t.is((err as NodeJS.ErrnoException).code, 'OPUS_BUFFER_TOO_SMALL');
  t.regex(err!.message, /^opus: cannot decode a \d+-byte packet into 480 samples: /);
});

test('decode: corrupt packets throw OPUS_INVALID_PACKET and the decoder goes on', (t) => {
  const d = new Decoder();
  for (const bad of [[0xff, 0xff, 0xff], [0x03], [0x0b, 0xff]]) {
    const err = t.throws(() => d.decode(Buffer.from(bad), 5760));
    t.is((err as NodeJS.ErrnoException).code, 'OPUS_INVALID_PACKET', `${bad}`);
  }
  t.is(d.decode(new Encoder().encode(tone(20)), 960).length, 1920);
});

test('random bytes never abort the process: decoded or refused with an Error', (t) => {
  const d = new Decoder();
  let seed = 1;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const packet = Buffer.alloc(1 + (next() % 300));
    for (let j = 0; j < packet.length; j++) packet[j] = (next() >> 16) & 0xff;
    try {
      t.true(d.decode(packet, 5760).length % 2 === 0);
    } catch (err) {
      t.true(err instanceof Error);
      refused++;
    }
  }
  t.true(refused > 0);
});

test('wrong arguments and receivers are TypeErrors', (t) => {
  const e = new Encoder();
  const d = new Decoder();
  t.throws(() => e.encode('pcm' as unknown as Buffer), { instanceOf: TypeError });
  t.throws(() => e.encode(new Int16Array(960) as unknown as Buffer), { instanceOf: TypeError });
  t.throws(() => d.decode('packet' as unknown as Buffer, 960), { instanceOf: TypeError });
  t.throws(() => d.decode(null, '960' as unknown as number), { instanceOf: TypeError });
  t.throws(() => d.decode(null, 960, 1 as unknown as boolean), { instanceOf: TypeError });
  t.throws(() => Encoder.prototype.encode.call({}, tone(20)), { instanceOf: TypeError });
  t.throws(() => (Encoder as unknown as () => void)(), { instanceOf: TypeError });
});
