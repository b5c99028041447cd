/** UDP ends for relay tests: sockets on loopback, RTP packets, and waiting for datagrams. */
import dgram from 'node:dgram';
import { once } from 'node:events';

export async function udp(host = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, host);
  await once(s, 'listening');
  return s;
}

/** An RTP packet whose payload names its sequence number and SSRC. */
export function rtp(seq: number, ssrc = 0x11223344, payload = 8): Buffer {
  const b = Buffer.alloc(12 + payload);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 960) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < b.length; i++) b[i] = (seq * 7 + i) & 0xff;
  return b;
}

/**
 * The next datagram at `s`, or null after `ms`. A bound against hanging, never a way to
 * prove absence: a test shows a packet was dropped by sending a later one that must
 * arrive first (one relay socket handles its datagrams in order).
 */
export function nextMessage(
  s: dgram.Socket,
  ms = 10_000,
): Promise<{ msg: Buffer; port: number } | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      s.off('message', onMsg);
      resolve(null);
    }, ms);
    const onMsg = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      clearTimeout(timer);
      resolve({ msg, port: rinfo.port });
    };
    s.once('message', onMsg);
  });
}

/** The next `n` datagrams at `s`, in order; whatever arrived if `ms` passes first. */
export function messages(s: dgram.Socket, n: number, ms = 10_000): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      s.off('message', onMsg);
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    const onMsg = (msg: Buffer) => {
      got.push(msg);
      if (got.length === n) done();
    };
    s.on('message', onMsg);
  });
}

/** The first datagram at any of `sockets`, with the index of the one it reached. */
export function firstMessage(sockets: dgram.Socket[]): Promise<{ at: number; msg: Buffer } | null> {
  return new Promise((resolve) => {
    const heard = sockets.map((socket, at) => ({ socket, on: (msg: Buffer) => done({ at, msg }) }));
    const timer = setTimeout(() => done(null), 10_000);
    const done = (result: { at: number; msg: Buffer } | null) => {
      clearTimeout(timer);
      for (const h of heard) h.socket.off('message', h.on);
      resolve(result);
    };
    for (const h of heard) h.socket.on('message', h.on);
  });
}
