/**
 * [S-4, S-5] A call leg in SRTP: a pair of sessions with the keys of one call (each
 * side's `send` is the other's `recv`) exchanges audio both ways; what fails
 * authentication or replay is dropped, counted and never played.
 */
import dgram from 'node:dgram';
import test from 'ava';
import { MediaPipeline } from '../../../device/media/pipeline.ts';
import { parseRtp } from '../../../device/media/rtp.ts';
import { newMasterKey } from '../../../protocol/srtp/index.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { F, LOCAL, session, settled, toneFrame, toneOf } from '../../helpers/media-session.ts';

const AB = newMasterKey();
const BA = newMasterKey();
const PEER = { address: LOCAL, port: 5004 };

test.serial('[S-4] two SRTP sessions on loopback: each plays the tone of the other', async (t) => {
  const clock = new FakeClock();
  const a = await session({ clock });
  const b = await session({ clock });
  t.teardown(() => Promise.all([a.s.close(), b.s.close()]));
  a.s.start({ ip: LOCAL, port: b.port }, { send: AB, recv: BA });
  b.s.start({ ip: LOCAL, port: a.port }, { send: BA, recv: AB });
  for (let k = 0; k < 100; k++) {
    a.s.sendFrame(toneFrame(440, k));
    b.s.sendFrame(toneFrame(1000, k));
    await settled(() => a.s.stats()!.received === k + 1 && b.s.stats()!.received === k + 1);
    clock.advance(F);
  }
  clock.advance(300);
  const [sa, sb] = [a.s.stop()!, b.s.stop()!];
  t.is(toneOf(a.played), 1000);
  t.is(toneOf(b.played), 440);
  for (const s of [sa, sb]) {
    t.like(s, { srtp: true, received: 100, srtpAuthFailed: 0, srtpReplayed: 0, invalid: 0 });
  }
});

test('[S-4] what goes out is SRTP: the payload is not the Opus the plain leg sends', (t) => {
  const frame = toneFrame(1000, 3);
  const rtp = { ssrc: 1, sequence: 10, timestamp: 0 };
  const plain = new MediaPipeline({ remote: PEER, rtp }).captureFrame(frame, 0)[0]!;
  const secret = new MediaPipeline({
    remote: PEER,
    rtp,
    srtp: { send: AB, recv: BA },
  }).captureFrame(frame, 0)[0]!;
  t.is(secret.length, plain.length + 10);
  t.deepEqual(secret.subarray(0, 12), plain.subarray(0, 12), 'the RTP header stays clear');
  t.notDeepEqual(secret.subarray(12, plain.length), plain.subarray(12));
});

test('[S-5] tampered, replayed, plain and wrong-key packets are dropped, counted, never played', (t) => {
  const keys = { send: AB, recv: BA };
  const sender = new MediaPipeline({
    remote: PEER,
    rtp: { timestamp: 0 },
    srtp: { send: BA, recv: AB },
  });
  const plainSender = new MediaPipeline({ remote: PEER, rtp: { timestamp: 0 } });
  const wrongKey = new MediaPipeline({
    remote: PEER,
    rtp: { timestamp: 0 },
    srtp: { send: newMasterKey(), recv: AB },
  });
  const rx = new MediaPipeline({ remote: PEER, srtp: keys });
  let now = 0;
  /** Each arrival a little later than the one before. */
  const at = (step = 1) => {
    now += step;
    return now;
  };
  const good: Buffer[] = [];
  for (let k = 0; k < 10; k++) good.push(sender.captureFrame(toneFrame(1000, k), k * F)[0]!);
  for (const d of good.slice(0, 5)) rx.receive(d, PEER, at(F));
  // A flipped bit in the payload, and one in the tag.
  const flipped = Buffer.from(good[5]!);
  flipped[20]! ^= 0x01;
  const badTag = Buffer.from(good[6]!);
  badTag[badTag.length - 1]! ^= 0x80;
  rx.receive(flipped, PEER, at());
  rx.receive(badTag, PEER, at());
  // Plain RTP, and SRTP under another key, injected by someone who knows the address.
  rx.receive(plainSender.captureFrame(toneFrame(300, 0), 0)[0]!, PEER, at());
  rx.receive(wrongKey.captureFrame(toneFrame(300, 0), 0)[0]!, PEER, at());
  t.like(rx.stats(), { srtpAuthFailed: 4, srtpReplayed: 0, received: 5 });
  // Replays of packets already played or queued.
  rx.receive(Buffer.from(good[0]!), PEER, at());
  rx.receive(Buffer.from(good[4]!), PEER, at());
  t.like(rx.stats(), { srtpAuthFailed: 4, srtpReplayed: 2, received: 5, duplicates: 0 });
  // The genuine packets 5 and 6 still play: the forgeries took nothing from them.
  rx.receive(good[5]!, PEER, at());
  rx.receive(good[6]!, PEER, at());
  t.like(rx.stats(), { srtpAuthFailed: 4, srtpReplayed: 2, received: 7 });
  // Too short to hold a tag: not valid media [M-2].
  rx.receive(Buffer.alloc(8), PEER, at());
  t.is(rx.stats().invalid, 1);
  t.is(rx.stats().srtpAuthFailed, 4);
});

test.serial(
  '[S-5] over a socket: a replayed datagram and a plain-RTP injection are not played',
  async (t) => {
    const clock = new FakeClock();
    const rx = await session({ clock });
    const tx = dgram.createSocket('udp4');
    await new Promise<void>((r) => tx.bind(0, LOCAL, () => r()));
    t.teardown(() => Promise.all([rx.s.close(), new Promise<void>((r) => tx.close(() => r()))]));
    const txPort = tx.address().port;
    rx.s.start({ ip: LOCAL, port: txPort }, { send: AB, recv: BA });
    const sender = new MediaPipeline({
      remote: { address: LOCAL, port: rx.port },
      srtp: { send: BA, recv: AB },
    });
    const plain = new MediaPipeline({ remote: { address: LOCAL, port: rx.port } });
    const send = (d: Buffer) => tx.send(d, rx.port, LOCAL);
    let seen = 0;
    const arrived = () => {
      const s = rx.s.stats()!;
      return s.received + s.srtpAuthFailed + s.srtpReplayed + s.invalid;
    };
    for (let k = 0; k < 50; k++) {
      const d = sender.captureFrame(toneFrame(1000, k), k * F)[0]!;
      send(d);
      // Every 5th packet again, and a plain 300 Hz packet beside it.
      if (k % 5 === 0) {
        send(Buffer.from(d));
        send(plain.captureFrame(toneFrame(300, k), k * F)[0]!);
        seen += 2;
      }
      seen++;
      await settled(() => arrived() === seen);
      clock.advance(F);
    }
    clock.advance(300);
    const s = rx.s.stop()!;
    t.like(s, { received: 50, srtpReplayed: 10, srtpAuthFailed: 10, duplicates: 0 });
    t.is(toneOf(rx.played), 1000);
    t.true(
      parseRtp(plain.captureFrame(toneFrame(300, 0), 0)[0]!) !== null,
      'the injection was valid RTP',
    );
  },
);
