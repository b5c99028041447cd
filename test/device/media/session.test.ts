import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import pino from 'pino';
import type { DtmfKey } from '../../../device/media/dtmf.ts';
import type { MediaEndpoint, MediaStats, PlayoutInfo } from '../../../device/media/pipeline.ts';
import { encodeRtp, parseRtp } from '../../../device/media/rtp.ts';
import { MediaSession, type MediaSessionOptions } from '../../../device/media/session.ts';
import { dominantFrequency, generateTone } from '../../../device/media/tone.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { ImpairmentShim } from '../../helpers/impairment.ts';
import { testLog } from '../../helpers/log.ts';

const F = 20;
const RATE = 48000;
const LOCAL = '127.0.0.1';

function toneFrame(hz: number, k: number): Buffer {
  return generateTone(hz, F, RATE, 8000, (2 * Math.PI * hz * k * F) / 1000);
}

interface Played {
  pcm: Buffer;
  kind: PlayoutInfo['kind'];
  ts: number;
}

/** A session on 127.0.0.1 whose sink records what it plays (the info object is reused). */
async function session(options: Partial<MediaSessionOptions> = {}) {
  const played: Played[] = [];
  const keys: DtmfKey[] = [];
  const s = new MediaSession({
    log: testLog,
    host: LOCAL,
    sink: (pcm, info) => played.push({ pcm, kind: info.kind, ts: info.timestamp }),
    ...options,
  });
  s.on('dtmf', (key) => keys.push(key));
  const port = await s.open();
  return { s, port, played, keys };
}

/**
 * Calls `fn(k)` for k = 0..n-1 every 20 ms on a drift-free real-time schedule, ending early
 * once `done()` holds.
 */
function pace(n: number, fn: (k: number) => void, done = () => false): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let k = 0;
    const tick = () => {
      while (k < n && t0 + k * F <= performance.now()) fn(k++);
      if (k >= n || done()) resolve();
      else setTimeout(tick, Math.max(1, t0 + k * F - performance.now()));
    };
    tick();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 10 ms until it holds, for at most `ms`. */
async function until(check: () => boolean, ms = 2000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await sleep(10)) {
    if (check()) return true;
  }
  return check();
}

/** The dominant frequency of up to a second of decoded frames from the middle of `played`. */
function toneOf(played: Played[]): number {
  const frames = played.filter((p) => p.kind === 'frame');
  const mid = Math.floor(frames.length / 2);
  const pcm = Buffer.concat(frames.slice(Math.max(0, mid - 25), mid + 25).map((p) => p.pcm));
  return dominantFrequency(pcm, RATE);
}

test.serial(
  'two sessions on loopback: each plays the tone of the other, both at once',
  async (t) => {
    const a = await session();
    const b = await session();
    t.teardown(() => Promise.all([a.s.close(), b.s.close()]));
    a.s.start({ ip: LOCAL, port: b.port });
    b.s.start({ ip: LOCAL, port: a.port });
    await pace(100, (k) => {
      a.s.sendFrame(toneFrame(440, k));
      b.s.sendFrame(toneFrame(1000, k));
    });
    await sleep(300);
    const stats = [a.s.stop()!, b.s.stop()!];
    t.is(toneOf(a.played), 1000);
    t.is(toneOf(b.played), 440);
    for (const [side, s] of [
      [a, stats[0]!],
      [b, stats[1]!],
    ] as const) {
      // Symmetric [M-2]: each side accepted everything, so it all came from the peer's port.
      t.like(s, { packetsSent: 100, received: 100, wrongSource: 0, invalid: 0, lost: 0 });
      t.true(side.played.every((p) => p.pcm.length === 1920));
      t.true(side.played.filter((p) => p.kind === 'frame').length >= 95);
    }
  },
);

test.serial(
  'through a bad network (5 % loss, 20 ms jitter, reordering, duplicates): continuous output, length kept',
  async (t) => {
    const frames = 150;
    // Pinned timestamps let the output be matched to the input; the buffer starts at the
    // depth this network needs (it would otherwise grow by a conceal per missing frame).
    const pipeline = { rtp: { timestamp: 0 }, jitter: { initialDepthMs: 80 } };
    const a = await session({ pipeline });
    const b = await session({ pipeline });
    const shim = await ImpairmentShim.open({
      seed: 3, // delivers the first and last frames both ways
      loss: 0.05,
      jitterMs: 20,
      reorder: 0.03,
      duplicate: 0.02,
      delayMs: 1,
    });
    t.teardown(() => Promise.all([a.s.close(), b.s.close(), shim.close()]));
    shim.connect({ ip: LOCAL, port: a.port }, { ip: LOCAL, port: b.port });
    a.s.start({ ip: LOCAL, port: shim.portA });
    b.s.start({ ip: LOCAL, port: shim.portB });
    await pace(frames, (k) => {
      a.s.sendFrame(toneFrame(440, k));
      b.s.sendFrame(toneFrame(1000, k));
    });
    await sleep(400);
    const stats = new Map<typeof a, MediaStats>([
      [a, a.s.stop()!],
      [b, b.s.stop()!],
    ]);
    for (const [side, peer, fate] of [
      [a, b, shim.bToA.counts],
      [b, a, shim.aToB.counts],
    ] as const) {
      const first = side.played.findIndex((p) => p.kind === 'frame');
      const last = side.played.findIndex((p) => p.kind === 'frame' && p.ts === (frames - 1) * 960);
      if (first < 0 || last < first) {
        t.fail('the seed delivers the first and last frames');
        continue;
      }
      const slots = side.played.slice(first, last + 1);
      const firstIndex = slots[0]!.ts / 960;
      t.true(firstIndex <= 3, `starts at frame ${firstIndex}`);
      t.true(
        Math.abs(slots.length - (frames - firstIndex)) <= 1,
        `${slots.length} frames out for ${frames - firstIndex} in`,
      );
      t.false(
        slots.some((p) => p.kind === 'silence'),
        'no gap of silence: losses are concealed',
      );
      let run = 0;
      let longest = 0;
      for (const p of slots) {
        run = p.kind === 'conceal' ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      t.true(longest <= 4, `longest run of conceals ${longest}`);
      t.is(toneOf(side.played), peer === a ? 440 : 1000);
      const s = stats.get(side)!;
      t.is(s.duplicates, fate.duplicated);
      t.is(s.wrongSource, 0);
    }
  },
);

test.serial(
  '[M-2] sends from its bound port; drops and counts other sources and non-RTP',
  async (t) => {
    const lines: string[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    let socket: dgram.Socket | undefined;
    const a = await session({
      log,
      statsIntervalMs: 50,
      createSocket: () => {
        socket = dgram.createSocket('udp4');
        return socket;
      },
    });
    const peer = dgram.createSocket('udp4');
    const stranger = dgram.createSocket('udp4');
    peer.bind(0, LOCAL);
    stranger.bind(0, LOCAL);
    await Promise.all([once(peer, 'listening'), once(stranger, 'listening')]);
    const heard: Array<{ msg: Buffer; port: number }> = [];
    peer.on('message', (msg, rinfo) => heard.push({ msg, port: rinfo.port }));
    t.teardown(async () => {
      await a.s.close();
      peer.close();
      stranger.close();
    });
    const statsEvents: MediaStats[] = [];
    a.s.on('stats', (s) => statsEvents.push(s));

    const unopened = new MediaSession({ log: testLog, sink: () => {} });
    t.throws(() => unopened.start({ ip: LOCAL, port: 9 }), { message: /open\(\) before start/ });
    a.s.start({ ip: LOCAL, port: peer.address().port });
    a.s.sendFrame(toneFrame(440, 0));
    t.true(await until(() => heard.length === 1));
    t.is(heard[0]!.port, a.port, 'sent from the port it receives on');
    const rtp = (seq: number) =>
      encodeRtp({
        version: 2,
        padding: false,
        marker: false,
        payloadType: 111,
        sequence: seq,
        timestamp: seq * 960,
        ssrc: 5,
        csrcs: [],
        payload: Buffer.from([0xf8, 0xff, 0xfe]),
      });
    stranger.send(rtp(1), a.port, LOCAL);
    peer.send(Buffer.from('not rtp at all'), a.port, LOCAL);
    peer.send(rtp(2), a.port, LOCAL);
    t.true(await until(() => a.s.stats()!.received === 1 && a.s.stats()!.wrongSource === 1));
    t.like(a.s.stats(), { wrongSource: 1, invalid: 1, received: 1 });
    t.true(await until(() => statsEvents.length >= 1), 'periodic stats');

    // A socket error is logged, not thrown; the socket stays bound between legs.
    socket!.emit('error', new Error('simulated'));
    t.true(lines.some((l) => l.includes('media socket error')));
    const ssrc1 = parseRtp(heard[0]!.msg)!.ssrc;
    t.like(a.s.stop(), { wrongSource: 1 });
    a.s.sendFrame(toneFrame(440, 1)); // between legs: ignored
    a.s.start({ ip: LOCAL, port: peer.address().port });
    a.s.sendFrame(toneFrame(440, 2));
    t.true(await until(() => heard.length === 2));
    t.is(heard[1]!.port, a.port);
    t.not(parseRtp(heard[1]!.msg)!.ssrc, ssrc1, 'a new SSRC per leg [M-1]');
    t.like(a.s.stats(), { wrongSource: 0, received: 0 }, 'fresh statistics per leg');
  },
);

/** An in-memory UDP network for sessions on a fake clock: delivery is immediate. */
class FakeNet {
  #sockets = new Map<number, FakeSocket>();
  #next = 40000;

  socket(): FakeSocket {
    return new FakeSocket(this);
  }

  bind(s: FakeSocket, port: number): number {
    const p = port || this.#next++;
    this.#sockets.set(p, s);
    return p;
  }

  deliver(msg: Buffer, from: MediaEndpoint, port: number): void {
    this.#sockets.get(port)?.emit('message', msg, from);
  }
}

class FakeSocket extends EventEmitter {
  #net: FakeNet;
  #port = 0;

  constructor(net: FakeNet) {
    super();
    this.#net = net;
  }

  bind(port: number, _address: string, callback: () => void): void {
    this.#port = this.#net.bind(this, port);
    callback();
  }

  send(msg: Buffer, port: number, _address: string): void {
    this.#net.deliver(msg, { address: LOCAL, port: this.#port }, port);
  }

  address(): { port: number } {
    return { port: this.#port };
  }

  close(callback?: () => void): void {
    callback?.();
  }
}

test('on a fake clock and network: one playout frame per interval, tones both ways, DTMF once', async (t) => {
  const clock = new FakeClock(1000);
  const net = new FakeNet();
  const a = await session({ clock, createSocket: () => net.socket() });
  const b = await session({ clock, createSocket: () => net.socket() });
  a.s.start({ ip: LOCAL, port: b.port });
  b.s.start({ ip: LOCAL, port: a.port });
  clock.advance(200);
  t.is(a.played.length, 10, 'one frame per 20 ms');
  t.true(a.played.every((p) => p.kind === 'silence' && p.pcm.every((x) => x === 0)));
  for (let k = 0; k < 100; k++) {
    a.s.sendFrame(toneFrame(440, k));
    b.s.sendFrame(toneFrame(1000, k));
    if (k === 85) a.s.pressKey('#'); // after the stretch `toneOf` measures
    clock.advance(F);
  }
  t.true(Math.abs(a.played.length - 110) <= 1, 'the ticks follow the arrivals');
  t.is(toneOf(a.played), 1000);
  t.is(toneOf(b.played), 440);
  t.deepEqual(b.keys, ['#']);
  t.deepEqual(a.keys, []);
  a.s.stop();
  const playedInLeg = a.played.length;
  clock.advance(1000);
  t.is(a.played.length, playedInLeg, 'no playout between legs');
  t.is(clock.pending, 2, "only b's playout and stats timers remain");
  await Promise.all([a.s.close(), b.s.close()]);
});

/** A fake clock whose timers fire `lateMs` late, as in a stalled event loop. */
class LateClock extends FakeClock {
  lateMs = 0;

  override setTimeout(fn: () => void, ms: number) {
    return super.setTimeout(fn, ms + this.lateMs);
  }
}

test('a late playout timer is made up at once; a long stall, ten frames at most', async (t) => {
  const clock = new LateClock();
  const a = await session({ clock, createSocket: () => new FakeNet().socket() });
  a.s.start({ ip: LOCAL, port: 9 });
  clock.advance(100);
  t.is(a.played.length, 5);
  clock.lateMs = 50;
  clock.advance(20); // the timer armed before fires on time, the next one 50 ms late
  t.is(a.played.length, 6);
  clock.lateMs = 0;
  clock.advance(60);
  t.is(a.played.length, 6, 'stalled');
  clock.advance(10);
  t.is(a.played.length, 9, 'the three frames due, at once');
  clock.advance(200);
  t.is(a.played.length, 19, 'and on schedule again');
  clock.lateMs = 500;
  clock.advance(10);
  clock.lateMs = 0;
  clock.advance(520);
  t.is(a.played.length, 30, 'ten made up of a 500 ms stall...');
  clock.advance(20);
  t.is(a.played.length, 31, '...then the schedule starts again from now');
  await a.s.close();
});

/** A free even UDP port with the next one free too (RTP and RTCP). */
async function freeRtpPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const s = dgram.createSocket('udp4');
    s.bind(0, LOCAL);
    await once(s, 'listening');
    const port = s.address().port & ~1;
    s.close();
    if (await portsFree(port, port + 1)) return port;
  }
  throw new Error('no free RTP port pair');
}

/** True when every port can be bound on 127.0.0.1 now. */
async function portsFree(...ports: number[]): Promise<boolean> {
  const results = await Promise.all(
    ports.map(
      (port) =>
        new Promise<boolean>((resolve) => {
          const s = dgram.createSocket('udp4');
          s.once('error', () => {
            s.close();
            resolve(false);
          });
          s.bind(port, LOCAL, () => s.close(() => resolve(true)));
        }),
    ),
  );
  return results.every(Boolean);
}

test.serial('[M-3] interop: ffmpeg plays our stream from the SDP and hears 1 kHz', async (t) => {
  t.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-ffmpeg-'));
  const port = await freeRtpPort();
  const sdp = path.join(dir, 'stream.sdp');
  const out = path.join(dir, 'out.raw');
  fs.writeFileSync(
    sdp,
    [
      'v=0',
      `o=- 0 0 IN IP4 ${LOCAL}`,
      's=babel',
      `c=IN IP4 ${LOCAL}`,
      't=0 0',
      `m=audio ${port} RTP/AVP 111`, // [M-3]
      'a=rtpmap:111 opus/48000/2',
      '',
    ].join('\r\n'),
  );
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...['-protocol_whitelist', 'file,udp,rtp', '-i', sdp],
    // The SDP says stereo: ask for mono s16le at 48 kHz.
    ...['-t', '2', '-f', 's16le', '-ar', '48000', '-ac', '1', '-y', out],
  ];
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = once(ffmpeg, 'exit');
  const a = await session();
  try {
    // Lead time: wait until ffmpeg holds the port, then stream until it has its 2 s.
    const bound = await (async () => {
      for (const end = performance.now() + 10_000; performance.now() < end; await sleep(50)) {
        if (!(await portsFree(port))) return true;
      }
      return false;
    })();
    t.true(bound, 'ffmpeg bound the RTP port');
    a.s.start({ ip: LOCAL, port });
    await pace(
      400,
      (k) => a.s.sendFrame(toneFrame(1000, k)),
      () => ffmpeg.exitCode !== null,
    );
    const timeout = sleep(10_000).then(() => 'timeout');
    t.not(await Promise.race([exited.then(() => 'exited'), timeout]), 'timeout', stderr);
    t.is(ffmpeg.exitCode, 0, stderr);
    const pcm = fs.readFileSync(out);
    t.true(pcm.length >= 1.5 * RATE * 2, `${pcm.length} bytes decoded`);
    t.is(dominantFrequency(pcm, RATE), 1000);
  } finally {
    if (ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    await a.s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
