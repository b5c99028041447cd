import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { rtpHeaderLength, SrtpReceiver, SrtpSender } from '../../protocol/srtp/index.ts';
import type {
  Endpoint,
  FanoutAllocation,
  RelayAllocation,
  RelayAllocator,
  RelayLeg,
} from '../core/types.ts';
import { openFanout } from './fanout.ts';
import {
  type CallLegCounts,
  LegCountBook,
  newLegCounts,
  type RelayLegCounts,
} from './leg-counts.ts';

/** Counters for one relay, summed over all its calls. */
export interface RelayStats {
  /** Packets sent on to the other leg's device (as they came, or translated). */
  forwarded: number;
  /** Bytes of the packets forwarded, as received (the status page, /metrics). */
  forwardedBytes: number;
  /** From an address other than the leg's device (wrong IP, or another port once latched). */
  wrongSource: number;
  /** Not RTP version 2 [M-2], or (to or from an SRTP leg) a header that runs past the packet. */
  invalid: number;
  /** Nowhere to send yet: the other leg neither declared a port nor sent a packet. */
  noPeer: number;
  /** Legs open now (two per relayed call). */
  openLegs: number;
  /** From an SRTP leg's device IP, failing authentication with that leg's key [S-4, S-5]. */
  srtpAuthFailed: number;
  /** From an SRTP leg's device IP, a replay or older than the replay window [S-5]. */
  srtpReplayed: number;
  /** Forwarded after translation: SRTP decrypted for a plain leg, or RTP protected for an SRTP leg. */
  translated: number;
}

interface Leg {
  readonly name: 'A' | 'B';
  readonly socket: dgram.Socket;
  readonly expectIp: string;
  /** Where this leg's device is: the declared port until latched, then the latched source. */
  peerPort: number;
  latched: boolean;
  other: Leg | null;
  /** SRTP leg: authenticates what its device sends (the device's `send` key) [S-4]. */
  readonly fromDevice: SrtpReceiver | null;
  /** SRTP leg: protects what the relay sends to its device (the device's `recv` key). */
  readonly toDeviceSrtp: SrtpSender | null;
  /** Sends one packet to this leg's device from this leg's socket. */
  toDevice: (msg: Buffer) => void;
  /** What this leg carried (the status page). */
  readonly counts: RelayLegCounts;
}

/** The smallest RTP packet is its 12-byte fixed header with version 2 [M-1]. */
const RTP_MIN_BYTES = 12;
const RTP_VERSION_MASK = 0xc0;
const RTP_VERSION_2 = 0x80;
/** RTCP packet types 200..204 share RTP's first octets (RFC 5761 §4). */
const RTCP_PT_MIN = 200;
const RTCP_PT_MAX = 204;

/**
 * The hub's UDP media relay [M-4]. Each relayed call gets two sockets, one per leg. A leg
 * accepts packets only from its device's IP, latches the source port of the first valid
 * RTP packet, and forwards each packet to the other leg's device, from the other leg's
 * socket, so each device sees one symmetric address [T-9, M-2].
 *
 * SRTP legs [S-4]: a leg with keys latches only on a packet that authenticates with its
 * device's `send` key, so a host on the same IP that sends first captures nothing. Between
 * two SRTP legs the bytes go as they are (the hub drew the keys so that one party's `send`
 * is the other's `recv`); between an SRTP leg and a plain one the relay translates:
 * it decrypts (dropping and counting failures) towards the plain leg and protects with the
 * SRTP leg's `recv` key towards it.
 */
export class UdpRelay implements RelayAllocator {
  readonly #bindHost: string;
  readonly #log: Logger;
  readonly #stats: RelayStats = {
    forwarded: 0,
    forwardedBytes: 0,
    wrongSource: 0,
    invalid: 0,
    noPeer: 0,
    openLegs: 0,
    srtpAuthFailed: 0,
    srtpReplayed: 0,
    translated: 0,
  };
  readonly #legCounts = new LegCountBook();

  constructor(opts: { bindHost: string; log: Logger }) {
    this.#bindHost = opts.bindHost;
    this.#log = opts.log;
  }

  get stats(): Readonly<RelayStats> {
    return this.#stats;
  }

  /** [M-4] A copy of what each leg of `callId`'s relay carried (A caller, B callee); null if none. */
  legCounts(callId: string): CallLegCounts | null {
    return this.#legCounts.get(callId);
  }

  /**
   * [G-2] Opens a page's one-way fan-out from `source` to every member leg (fanout.ts).
   * Rejects with `SrtpKeyError` (before opening anything) if a leg's key is malformed.
   */
  allocateFanout(callId: string, source: RelayLeg, members: RelayLeg[]): Promise<FanoutAllocation> {
    const log = this.#log.child({ call: callId });
    return openFanout(this.#bindHost, source, members, this.#stats, log);
  }

  /** Rejects with `SrtpKeyError` (before opening anything) if a leg's key is malformed. */
  async allocate(callId: string, a: RelayLeg, b: RelayLeg): Promise<RelayAllocation> {
    const cryptoA = legCrypto(a);
    const cryptoB = legCrypto(b);
    const log = this.#log.child({ call: callId });
    const legA = await this.#openLeg('A', a.device, cryptoA, log);
    let legB: Leg;
    try {
      legB = await this.#openLeg('B', b.device, cryptoB, log);
    } catch (err) {
      this.#closeLeg(legA);
      throw err;
    }
    legA.other = legB;
    legB.other = legA;
    const portA = legA.socket.address().port;
    const portB = legB.socket.address().port;
    log.debug({ portA, portB, srtpA: a.srtp !== null, srtpB: b.srtp !== null }, 'relay opened');
    const closeCounts = this.#legCounts.open(callId, [legA.counts, legB.counts]);
    let released = false;
    return {
      portA,
      portB,
      release: () => {
        if (released) return;
        released = true;
        this.#closeLeg(legA);
        this.#closeLeg(legB);
        closeCounts();
        log.debug('relay closed');
      },
    };
  }

  #openLeg(
    name: Leg['name'],
    device: Endpoint,
    crypto: Pick<Leg, 'fromDevice' | 'toDeviceSrtp'>,
    log: Logger,
  ): Promise<Leg> {
    const socket = dgram.createSocket({ type: 'udp4' });
    const leg: Leg = {
      name,
      socket,
      expectIp: device.ip,
      peerPort: device.port,
      latched: false,
      other: null,
      ...crypto,
      toDevice: (msg) => socket.send(msg, leg.peerPort, leg.expectIp),
      counts: newLegCounts(),
    };
    socket.on('message', (msg, rinfo) => this.#onPacket(leg, msg, rinfo, log));
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(0, this.#bindHost, () => {
        socket.off('error', onError);
        // A send to a vanished device (ICMP unreachable) must never take the hub down.
        socket.on('error', (err) => this.#log.warn({ err }, 'relay socket error'));
        this.#stats.openLegs++;
        resolve(leg);
      });
    });
  }

  #onPacket(leg: Leg, msg: Buffer, rinfo: dgram.RemoteInfo, log: Logger): void {
    // [M-4] only from the leg's device IP; once latched, only from the latched port.
    if (rinfo.address !== leg.expectIp || (leg.latched && rinfo.port !== leg.peerPort)) {
      this.#stats.wrongSource++;
      return;
    }
    if (msg.length < RTP_MIN_BYTES || (msg[0]! & RTP_VERSION_MASK) !== RTP_VERSION_2) {
      this.#stats.invalid++;
      return;
    }
    const other = leg.other;
    if (!other) {
      this.#stats.noPeer++; // released while the datagram was queued
      return;
    }
    let clear: Buffer | null = null;
    if (leg.fromDevice) {
      // [S-4] Before latching, every packet must authenticate: only the key holder can
      // capture the leg. After latching, SRTP to SRTP goes on unverified: the socket is
      // connected to the device's address (the kernel drops other sources), and the
      // receiving device authenticates and replay-checks every packet itself [S-5], so a
      // second HMAC here would only double the cost of the hot path. Towards a plain leg
      // the relay must decrypt anyway, and that authenticates too.
      if (!leg.latched || !other.toDeviceSrtp) {
        const r = leg.fromDevice.unprotect(msg);
        if (typeof r === 'string') {
          if (r === 'auth') this.#stats.srtpAuthFailed++;
          else if (r === 'replay') this.#stats.srtpReplayed++;
          else this.#stats.invalid++;
          return;
        }
        clear = r;
      }
    } else if (other.toDeviceSrtp && !translatableRtp(msg)) {
      this.#stats.invalid++;
      return;
    }
    if (!leg.latched) this.#latch(leg, rinfo.port, log);
    if (other.peerPort === 0) {
      this.#stats.noPeer++;
      return;
    }
    let out = msg; // as it came: plain to plain, or SRTP to SRTP
    if (leg.fromDevice && !other.toDeviceSrtp) {
      out = clear!; // [S-4] SRTP -> plain: the clear RTP
      this.#stats.translated++;
    } else if (!leg.fromDevice && other.toDeviceSrtp) {
      out = other.toDeviceSrtp.protect(msg); // [S-4] plain -> SRTP
      this.#stats.translated++;
    }
    other.toDevice(out);
    this.#stats.forwarded++;
    this.#stats.forwardedBytes += msg.length;
    leg.counts.packetsIn++;
    leg.counts.bytesIn += msg.length;
    other.counts.packetsOut++;
    other.counts.bytesOut += out.length;
  }

  /**
   * [M-4] Latches the leg to its device's source port and connects the socket to it: the
   * kernel then drops datagrams from any other source before they reach us, and sends
   * need no per-packet address resolution (the relay's hot path).
   */
  #latch(leg: Leg, port: number, log: Logger): void {
    leg.latched = true;
    leg.peerPort = port;
    log.debug({ leg: leg.name, port, srtp: leg.fromDevice !== null }, 'relay leg latched');
    const socket = leg.socket;
    let connected = false;
    socket.connect(port, leg.expectIp, () => {
      connected = true;
    });
    leg.toDevice = (msg) => {
      if (connected) socket.send(msg);
      else socket.send(msg, leg.peerPort, leg.expectIp);
    };
  }

  #closeLeg(leg: Leg): void {
    leg.other = null;
    try {
      leg.socket.close();
      this.#stats.openLegs--;
    } catch {
      // already closed
    }
  }
}

/** The SRTP state of a leg with keys; throws `SrtpKeyError` for a malformed key. */
function legCrypto(leg: RelayLeg): Pick<Leg, 'fromDevice' | 'toDeviceSrtp'> {
  if (!leg.srtp) return { fromDevice: null, toDeviceSrtp: null };
  return {
    fromDevice: new SrtpReceiver(leg.srtp.send),
    toDeviceSrtp: new SrtpSender(leg.srtp.recv),
  };
}

/**
 * RTP the relay can protect for an SRTP leg: a complete header, and not RTCP (the
 * contract carries RTP only [M-1]; SRTCP is not implemented, so RTCP stays off SRTP legs).
 */
function translatableRtp(msg: Buffer): boolean {
  const pt = msg[1]!;
  return rtpHeaderLength(msg, msg.length) >= 0 && (pt < RTCP_PT_MIN || pt > RTCP_PT_MAX);
}
