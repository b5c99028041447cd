import dgram from 'node:dgram';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import test from 'ava';
import pino from 'pino';
import type { MediaStats } from '../../../device/media/pipeline.ts';
import { encodeRtp, parseRtp } from '../../../device/media/rtp.ts';
import { MediaSession } from '../../../device/media/session.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { ImpairmentShim } from '../../helpers/impairment.ts';
import { testLog } from '../../helpers/log.ts';
import {
  F,
  LOCAL,
  session,
  settled,
  toneFrame,
  toneOf,
  until,
} from '../../helpers/media-session.ts';

test.serial(
  'two sessions on loopback: each plays the tone of the other, both at once',
  async (t) => {
    // Real sockets, time on a FakeClock: a frame interval passes only once both frames
    // sent have arrived, so a busy machine cannot make a packet late.
    const clock = new FakeClock();
    const a = await session({ clock });
    const b = await session({ clock });
    t.teardown(() => Promise.all([a.s.close(), b.s.close()]));
    a.s.start({ ip: LOCAL, port: b.port });
    b.s.start({ ip: LOCAL, port: a.port });
    for (let k = 0; k < 100; k++) {
      a.s.sendFrame(toneFrame(440, k));
      b.s.sendFrame(toneFrame(1000, k));
      await settled(() => a.s.stats()!.received === k + 1 && b.s.stats()!.received === k + 1);
      clock.advance(F);
    }
    clock.advance(300);
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
    // Real sockets through the shim, time on a FakeClock moved a millisecond at a time:
    // each step waits until every datagram sent or forwarded has arrived, so the network's
    // delays are the seeded ones, not the machine's.
    const clock = new FakeClock();
    const a = await session({ pipeline, clock });
    const b = await session({ pipeline, clock });
    const shim = await ImpairmentShim.open({
      clock,
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
    const inFlight = () => {
      const sa = a.s.stats()!;
      const sb = b.s.stats()!;
      return (
        shim.aToB.counts.packets === sa.packetsSent &&
        shim.bToA.counts.packets === sb.packetsSent &&
        sa.received === shim.forwarded.toA &&
        sb.received === shim.forwarded.toB
      );
    };
    const pass = async (ms: number) => {
      for (let i = 0; i < ms; i++) {
        clock.advance(1);
        await settled(inFlight);
      }
    };
    for (let k = 0; k < frames; k++) {
      a.s.sendFrame(toneFrame(440, k));
      b.s.sendFrame(toneFrame(1000, k));
      await settled(inFlight);
      await pass(F);
    }
    await pass(400);
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
