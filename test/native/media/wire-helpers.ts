/**
 * What test/native/media/wire*.test.ts share: babel-media's `_test` bindings of wire.c and
 * srtp.c (loaded from this worktree's build, typed here), and seeded generators of RTP
 * packets and of the mangled datagrams a parser must survive.
 */
import { createRequire } from 'node:module';
import type { parseTelephoneEvent } from '../../../device/media/dtmf.ts';
import { encodeRtp, parseRtp } from '../../../device/media/rtp.ts';

export interface Parsed {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}
interface Start {
  ssrc: number;
  sequence: number;
  timestamp: number;
}
interface CRtpSender {
  nextAudio(payload: Buffer, samples: number): Buffer;
  silence(samples: number): void;
  packet(pt: number, payload: Buffer, ts: number, marker: boolean): Buffer;
  readonly ssrc: number;
  readonly sequence: number;
  readonly timestamp: number;
}
interface CDtmfSender {
  press(key: string, durationMs?: number): void;
  tick(): Buffer | null;
  nextAudio(payload: Buffer, samples: number): Buffer;
  readonly active: boolean;
}
type Drop = 'malformed' | 'auth' | 'replay';
interface Stats {
  ok: number;
  auth: number;
  replay: number;
  malformed: number;
}
interface WireTest {
  rtpParse(buf: Buffer): Parsed | null;
  parseTelephoneEvent(payload: Buffer): ReturnType<typeof parseTelephoneEvent>;
  srtpKeystream(key: Buffer, iv: Buffer, length: number): Buffer;
  srtpDerive(master: Buffer, label: number, length: number): Buffer;
  RtpSender: new (o: Start & { payloadType: number }) => CRtpSender;
  DtmfSender: new (
    o: Start & { payloadType?: number; packetMs?: number; clockRate?: number; volume?: number },
  ) => CDtmfSender;
  DtmfReceiver: new () => { push(datagram: Buffer): string | null };
  SrtpSender: new (master: Buffer) => { protect(rtp: Buffer): Buffer };
  SrtpReceiver: new (master: Buffer) => { unprotect(srtp: Buffer): Buffer | Drop; stats: Stats };
}

const native = createRequire(import.meta.url)('../../../native/media/index.js') as {
  _test: WireTest;
};
export const c = native._test;
export const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
export const KEYS = '0123456789*#ABCD';

export function bytes(rand: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
export const int = (rand: () => number, n: number) => Math.floor(rand() * n);

/** The fields the C parser reports, from the TS parser. */
export function tsParse(buf: Buffer): Parsed | null {
  const p = parseRtp(buf);
  if (!p) return null;
  const { payloadType, marker, sequence, timestamp, ssrc, payload } = p;
  return { payloadType, marker, sequence, timestamp, ssrc, payload };
}

/** A random RTP packet: CSRCs, an extension and padding each some of the time. */
export function randomRtp(rand: () => number, maxPayload = 200): Buffer {
  let payloadType = int(rand, 128);
  if (payloadType >= 72 && payloadType <= 76) payloadType = 111;
  return encodeRtp({
    version: 2,
    padding: rand() < 0.3,
    marker: rand() < 0.5,
    payloadType,
    sequence: int(rand, 0x10000),
    timestamp: int(rand, 0x1_0000_0000),
    ssrc: int(rand, 0x1_0000_0000),
    csrcs: Array.from({ length: rand() < 0.3 ? int(rand, 16) : 0 }, () => int(rand, 2 ** 32)),
    ...(rand() < 0.3
      ? { extension: { profile: 0xbede, data: bytes(rand, 4 * int(rand, 5)) } }
      : {}),
    payload: bytes(rand, int(rand, maxPayload)),
  });
}

/** Variations of a packet that a parser must survive: cuts, flipped bytes, odd counts. */
export function mangle(rand: () => number, p: Buffer): Buffer {
  const b = Buffer.from(p);
  switch (int(rand, 5)) {
    case 0:
      return b.subarray(0, int(rand, b.length + 1));
    case 1:
      b[int(rand, Math.min(b.length, 20))] = int(rand, 256);
      return b;
    case 2:
      if (b.length > 0) b[b.length - 1] = int(rand, 256);
      return b;
    case 3:
      b[0] = (b[0]! & 0xc0) | int(rand, 64);
      return b;
    default:
      return bytes(rand, int(rand, 40));
  }
}

/** An RTP packet of stream `ssrc` at `seq`, with random extras from `rand`. */
export function packetAt(rand: () => number, ssrc: number, seq: number): Buffer {
  const p = randomRtp(rand, 180);
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(ssrc, 8);
  return p;
}
