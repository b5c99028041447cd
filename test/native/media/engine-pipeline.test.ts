/**
 * pipeline.c against device/media/pipeline.ts, step by step on the same inputs: a TS
 * sender's datagrams through a seeded impaired network (jitter with spikes, loss,
 * duplicates, reordering, garbage, a stranger) and DTMF both ways, into a TS MediaPipeline
 * and the C one side by side. Every datagram they send is byte for byte the same (same
 * libopus, same settings), every played frame the same PCM, every playout tick at the same
 * time, and the statistics equal after every step.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { MediaPipeline, type MediaPipelineOptions } from '../../../device/media/pipeline.ts';
import { generateTone } from '../../../device/media/tone.ts';
import { newMasterKey } from '../../../protocol/srtp/index.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { media } from './engine-harness.ts';

interface CPipeline {
  captureFrame(pcm: Buffer, now: number): Buffer | null;
  receive(datagram: Buffer, address: string, port: number, now: number): string | null;
  playoutFrame(now: number): { kind: string; pcm: Buffer };
  nextPlayoutAt(previous: number): number;
  pressKey(key: string): boolean;
  stats(): Record<string, number | boolean>;
}
const { Pipeline } = media._test as {
  Pipeline: new (options: object, leg: object) => CPipeline;
};

const SENDER = { address: '10.0.0.2', port: 5004 };
const STRANGER = { address: '10.0.0.3', port: 5004 };

interface Trace {
  seed: number;
  frameMs: 10 | 20;
  seconds: number;
  srtp: boolean;
  loss: number;
  jitterMs: number;
  jitter?: MediaPipelineOptions['jitter'];
}

function run(t: import('ava').ExecutionContext, trace: Trace) {
  const rand = mulberry32(trace.seed);
  const F = trace.frameMs;
  const keys = { toRx: newMasterKey(), toTx: newMasterKey() };
  const rtp = { ssrc: 0x1234, sequence: 65500, timestamp: 4294960000 };
  const codec = { complexity: 5 };
  const sender = new MediaPipeline({
    remote: { address: '10.0.0.1', port: 4000 },
    frameMs: F,
    codec,
    rtp: { ssrc: 99, sequence: 65000, timestamp: 1 },
    srtp: trace.srtp ? { send: keys.toRx, recv: keys.toTx } : null,
  });
  const ts = new MediaPipeline({
    remote: SENDER,
    frameMs: F,
    codec,
    rtp,
    ...(trace.jitter ? { jitter: trace.jitter } : {}),
    srtp: trace.srtp ? { send: keys.toTx, recv: keys.toRx } : null,
  });
  const c = new Pipeline(
    { frameMs: F, complexity: 5, ...(trace.jitter ? { jitter: trace.jitter } : {}) },
    {
      ip: SENDER.address,
      port: SENDER.port,
      ...rtp,
      srtp: trace.srtp
        ? { send: Buffer.from(keys.toTx, 'base64'), recv: Buffer.from(keys.toRx, 'base64') }
        : null,
    },
  );
  const step = (what: string, a: unknown, b: unknown) => {
    // One assertion per step would swamp the report: fail loudly on the first difference.
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      t.fail(`${what}: TS ${JSON.stringify(a)} / C ${JSON.stringify(b)}`);
      throw new Error('stop');
    }
  };
  // The network: datagrams in flight, by arrival time.
  const flight: Array<{ at: number; datagram: Buffer; from: typeof SENDER }> = [];
  const post = (at: number, datagram: Buffer, from = SENDER) => {
    flight.push({ at, datagram, from });
    flight.sort((x, y) => x.at - y.at);
  };
  const end = trace.seconds * 1000;
  const t0 = 1000.5;
  let due = t0 + F;
  let frames = 0;
  let played = 0;
  for (let now = t0; now < t0 + end; now += 0.5) {
    const k = Math.round((now - t0) / F);
    if (Math.abs(now - t0 - k * F) < 1e-9) {
      // The sender's frame k, and both receivers' own frame k (their captureFrame).
      const pcm = generateTone(440, F, 48000, 8000, (2 * Math.PI * 440 * k * F) / 1000);
      if (k % 150 === 40) sender.pressKey('5');
      if (k % 170 === 60) {
        ts.pressKey('#');
        step('pressKey', true, c.pressKey('#'));
      }
      for (const d of sender.captureFrame(pcm, now)) {
        if (rand() < trace.loss) continue;
        const spike = rand() < 0.01 ? 60 + rand() * 100 : 0;
        post(now + 2 + rand() * trace.jitterMs + spike, d);
        if (rand() < 0.01) post(now + 3 + rand() * trace.jitterMs, d); // duplicate
      }
      if (rand() < 0.005) post(now + 1, randomBytes(Math.floor(rand() * 40)));
      if (rand() < 0.005) post(now + 1, Buffer.from(sender.captureFrame(pcm, now)[0]!), STRANGER);
      const a = ts.captureFrame(pcm, now)[0]!;
      step(`captureFrame ${k}`, a.toString('hex'), c.captureFrame(pcm, now)?.toString('hex'));
      frames++;
    }
    while (flight.length > 0 && flight[0]!.at <= now) {
      const { datagram, from } = flight.shift()!;
      const key = ts.receive(Buffer.from(datagram), from, now).dtmf ?? null;
      step(`receive at ${now}`, key, c.receive(datagram, from.address, from.port, now));
    }
    if (due <= now) {
      const a = ts.playoutFrame(now);
      const b = c.playoutFrame(now);
      step(`playout at ${now}`, ts.lastPlayout.kind, b.kind);
      step(`pcm at ${now}`, a.toString('hex'), b.pcm.toString('hex'));
      const next = ts.nextPlayoutAt(due);
      step(`nextPlayoutAt(${due})`, next, c.nextPlayoutAt(due));
      due = next;
      played++;
      const { sendErrors: _s, sinkDropped: _d, ...stats } = c.stats();
      step(`stats at ${now}`, ts.stats(), stats);
    }
  }
  const s = ts.stats();
  t.true(frames >= (end / F) * 0.99 && played >= (end / F) * 0.95);
  t.true(s.received > 0 && s.dtmfReceived > 0 && s.dtmfSent > 0, JSON.stringify(s));
  t.true(s.invalid + s.srtpAuthFailed > 0 && s.wrongSource > 0, 'hostile datagrams were in it');
  if (trace.loss > 0) t.true(s.lost > 0 && s.concealed > 0);
}

test('plain RTP, 20 ms, 30 s of a jittery network with loss and DTMF both ways', (t) =>
  run(t, { seed: 1, frameMs: 20, seconds: 30, srtp: false, loss: 0.03, jitterMs: 30 }));

test('[S-4] SRTP, 20 ms, 20 s', (t) =>
  run(t, { seed: 2, frameMs: 20, seconds: 20, srtp: true, loss: 0.02, jitterMs: 15 }));

test('plain RTP, 10 ms frames, other jitter buffer settings', (t) =>
  run(t, {
    seed: 3,
    frameMs: 10,
    seconds: 15,
    srtp: false,
    loss: 0.01,
    jitterMs: 8,
    jitter: { initialDepthMs: 60, marginMs: 5, maxDepthMs: 120 },
  }));

test('a failed N-API call throws with N-API own message, not a placeholder', (t) => {
  const c = new Pipeline(
    { frameMs: 20, complexity: 5 },
    { ...SENDER, ip: SENDER.address, ssrc: 1, sequence: 1, timestamp: 1, srtp: null },
  );
  // The address is read with napi_get_value_string_utf8: a number is no string.
  const err = t.throws(() => c.receive(Buffer.alloc(12), 5 as unknown as string, 5004, 0));
  t.like(err, { code: 'ERR_BABEL_MEDIA_NAPI', message: 'A string was expected' });
});
