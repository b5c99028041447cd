/**
 * [G-2] The relay's one-way fan-out for a page: one source leg (the pager) and one leg per
 * member, each with its own socket, so every device sees one symmetric address [T-9, M-2].
 *
 * The source leg accepts packets only from the pager's IP and latches its port as a call
 * leg does [M-4] (an SRTP source only on a packet that authenticates [S-4]). Each packet
 * is copied to every member leg: the same Buffer to every plain leg (no copy, no
 * allocation: the hot path is one `send` per member on a connected socket), protected
 * with the member's own key for an SRTP leg (keys are fresh per leg, so an SRTP source is
 * decrypted once, then protected once per SRTP member). Members send nothing; what they
 * send only latches a member that declared no port.
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { rtpHeaderLength, SrtpReceiver, SrtpSender } from '../../protocol/srtp/index.ts';
import type { Endpoint, FanoutAllocation, RelayLeg } from '../core/types.ts';
import type { RelayStats } from './relay.ts';

const RTP_MIN_BYTES = 12;
const RTP_VERSION_MASK = 0xc0;
const RTP_VERSION_2 = 0x80;
const RTCP_PT_MIN = 200;
const RTCP_PT_MAX = 204;

interface MemberLeg {
  readonly socket: dgram.Socket;
  readonly ip: string;
  /** The device's port: declared, or latched from its first packet; 0 = not known yet. */
  port: number;
  /** SRTP leg: protects with the member's `recv` key [S-4]. */
  readonly srtp: SrtpSender | null;
  /** Connected to the device: `send(msg)` needs no address. */
  connected: boolean;
  dropped: boolean;
}

/** Opens a UDP socket bound to `host`, port 0; its later errors are logged, never thrown. */
export function bindSocket(host: string, log: Logger): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: 'udp4' });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(0, host, () => {
      socket.off('error', onError);
      // A send to a vanished device (ICMP unreachable) must never take the hub down.
      socket.on('error', (err) => log.warn({ err }, 'relay socket error'));
      resolve(socket);
    });
  });
}

/** Opens a page's fan-out: the source socket and one socket per member. */
export async function openFanout(
  host: string,
  source: RelayLeg,
  members: readonly RelayLeg[],
  stats: RelayStats,
  log: Logger,
): Promise<FanoutAllocation> {
  // Built before any socket opens: a malformed key refuses the page with nothing to close.
  const fromSource = source.srtp ? new SrtpReceiver(source.srtp.send) : null;
  const senders = members.map((m) => (m.srtp ? new SrtpSender(m.srtp.recv) : null));
  const sockets: dgram.Socket[] = [];
  try {
    for (let i = 0; i <= members.length; i++) sockets.push(await bindSocket(host, log));
  } catch (err) {
    for (const s of sockets) s.close();
    throw err;
  }
  stats.openLegs += sockets.length;
  const sourceSocket = sockets[0]!;
  const legs: MemberLeg[] = members.map((m, i) =>
    memberLeg(sockets[i + 1]!, m.device, senders[i]!),
  );
  /** The legs copies go to: the member legs not dropped, in an array for the hot path. */
  let live = legs.slice();
  const anySrtpMember = senders.some((s) => s !== null);
  const src = { ip: source.device.ip, port: 0, latched: false };

  sourceSocket.on('message', (msg, rinfo) => {
    // [M-4] only from the pager's IP; once latched, only from its port
    if (rinfo.address !== src.ip || (src.latched && rinfo.port !== src.port)) {
      stats.wrongSource++;
      return;
    }
    if (msg.length < RTP_MIN_BYTES || (msg[0]! & RTP_VERSION_MASK) !== RTP_VERSION_2) {
      stats.invalid++;
      return;
    }
    let clear: Buffer = msg;
    if (fromSource) {
      const r = fromSource.unprotect(msg); // [S-4, S-5] authenticates, and keys are per leg
      if (typeof r === 'string') {
        if (r === 'auth') stats.srtpAuthFailed++;
        else if (r === 'replay') stats.srtpReplayed++;
        else stats.invalid++;
        return;
      }
      clear = r;
    } else if (anySrtpMember && !translatableRtp(msg)) {
      stats.invalid++;
      return;
    }
    if (!src.latched) {
      src.latched = true;
      src.port = rinfo.port;
      sourceSocket.connect(rinfo.port, src.ip);
      log.debug({ port: rinfo.port, srtp: fromSource !== null }, 'page source latched');
    }
    const n = live.length;
    for (let i = 0; i < n; i++) {
      const leg = live[i]!;
      if (leg.port === 0) {
        stats.noPeer++;
        continue;
      }
      const out = leg.srtp ? leg.srtp.protect(clear) : clear;
      if (leg.connected) leg.socket.send(out);
      else leg.socket.send(out, leg.port, leg.ip);
      if (leg.srtp || fromSource) stats.translated++;
    }
    stats.forwarded += n;
  });

  for (const leg of legs) {
    leg.socket.on('message', (msg, rinfo) => {
      // One-way: a member's packet only tells a member without a declared port where it is.
      if (leg.port !== 0 || rinfo.address !== leg.ip || msg.length < RTP_MIN_BYTES) {
        stats.wrongSource++;
        return;
      }
      leg.port = rinfo.port;
      connect(leg);
      log.debug({ port: rinfo.port }, 'page member latched');
    });
  }

  let released = false;
  const close = (socket: dgram.Socket) => {
    try {
      socket.close();
      stats.openLegs--;
    } catch {
      // already closed
    }
  };
  return {
    sourcePort: sourceSocket.address().port,
    memberPorts: legs.map((l) => l.socket.address().port),
    drop(index) {
      const leg = legs[index];
      if (!leg || leg.dropped || released) return;
      leg.dropped = true;
      live = live.filter((l) => l !== leg);
      close(leg.socket);
    },
    release() {
      if (released) return;
      released = true;
      live = [];
      close(sourceSocket);
      for (const leg of legs) if (!leg.dropped) close(leg.socket);
      log.debug('page relay closed');
    },
  };
}

function memberLeg(socket: dgram.Socket, device: Endpoint, srtp: SrtpSender | null): MemberLeg {
  const leg: MemberLeg = {
    socket,
    ip: device.ip,
    port: device.port,
    srtp,
    connected: false,
    dropped: false,
  };
  if (leg.port !== 0) connect(leg);
  return leg;
}

/** Connects the leg's socket to its device: the hot path's sends then need no address. */
function connect(leg: MemberLeg): void {
  leg.socket.connect(leg.port, leg.ip, () => {
    leg.connected = true;
  });
}

/** RTP the relay can protect for an SRTP leg: a complete header, not RTCP [M-1]. */
function translatableRtp(msg: Buffer): boolean {
  const pt = msg[1]!;
  return rtpHeaderLength(msg, msg.length) >= 0 && (pt < RTCP_PT_MIN || pt > RTCP_PT_MAX);
}
