import dgram from 'node:dgram';
import type { Logger } from 'pino';
import type { Endpoint, RelayAllocation, RelayAllocator, RelayLeg } from '../core/types.ts';

/** Counters for one relay, summed over all its calls. */
export interface RelayStats {
  forwarded: number;
  /** From an address other than the leg's device (wrong IP, or another port once latched). */
  wrongSource: number;
  /** Not RTP version 2 [M-2]. */
  invalid: number;
  /** Nowhere to send yet: the other leg neither declared a port nor sent a packet. */
  noPeer: number;
  /** Legs open now (two per relayed call). */
  openLegs: number;
}

interface Leg {
  readonly socket: dgram.Socket;
  readonly expectIp: string;
  /** Where this leg's device is: the declared port until latched, then the latched source. */
  peerPort: number;
  latched: boolean;
  other: Leg | null;
  /** Sends one packet to this leg's device from this leg's socket. */
  toDevice: (msg: Buffer) => void;
}

/** The smallest RTP packet is its 12-byte fixed header with version 2 [M-1]. */
const RTP_MIN_BYTES = 12;
const RTP_VERSION_MASK = 0xc0;
const RTP_VERSION_2 = 0x80;

/**
 * The hub's UDP media relay [M-4]. Each relayed call gets two sockets, one per leg. A leg
 * accepts packets only from its device's IP, latches the source port of the first valid
 * RTP packet, and forwards each packet to the other leg's device, from the other leg's
 * socket, so each device sees one symmetric address [T-9, M-2].
 */
export class UdpRelay implements RelayAllocator {
  readonly #bindHost: string;
  readonly #log: Logger;
  readonly #stats: RelayStats = {
    forwarded: 0,
    wrongSource: 0,
    invalid: 0,
    noPeer: 0,
    openLegs: 0,
  };

  constructor(opts: { bindHost: string; log: Logger }) {
    this.#bindHost = opts.bindHost;
    this.#log = opts.log;
  }

  get stats(): Readonly<RelayStats> {
    return this.#stats;
  }

  async allocate(callId: string, a: RelayLeg, b: RelayLeg): Promise<RelayAllocation> {
    const legA = await this.#openLeg(a.device);
    let legB: Leg;
    try {
      legB = await this.#openLeg(b.device);
    } catch (err) {
      this.#closeLeg(legA);
      throw err;
    }
    legA.other = legB;
    legB.other = legA;
    const portA = legA.socket.address().port;
    const portB = legB.socket.address().port;
    this.#log.debug({ call: callId, portA, portB }, 'relay opened');
    let released = false;
    return {
      portA,
      portB,
      release: () => {
        if (released) return;
        released = true;
        this.#closeLeg(legA);
        this.#closeLeg(legB);
        this.#log.debug({ call: callId }, 'relay closed');
      },
    };
  }

  #openLeg(device: Endpoint): Promise<Leg> {
    const socket = dgram.createSocket({ type: 'udp4' });
    const leg: Leg = {
      socket,
      expectIp: device.ip,
      peerPort: device.port,
      latched: false,
      other: null,
      toDevice: (msg) => socket.send(msg, leg.peerPort, leg.expectIp),
    };
    socket.on('message', (msg, rinfo) => this.#onPacket(leg, msg, rinfo));
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

  #onPacket(leg: Leg, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // [M-4] only from the leg's device IP; once latched, only from the latched port.
    if (rinfo.address !== leg.expectIp || (leg.latched && rinfo.port !== leg.peerPort)) {
      this.#stats.wrongSource++;
      return;
    }
    if (msg.length < RTP_MIN_BYTES || (msg[0]! & RTP_VERSION_MASK) !== RTP_VERSION_2) {
      this.#stats.invalid++;
      return;
    }
    if (!leg.latched) this.#latch(leg, rinfo.port);
    const other = leg.other;
    if (!other || other.peerPort === 0) {
      this.#stats.noPeer++;
      return;
    }
    other.toDevice(msg);
    this.#stats.forwarded++;
  }

  /**
   * [M-4] Latches the leg to its device's source port and connects the socket to it: the
   * kernel then drops datagrams from any other source before they reach us, and sends
   * need no per-packet address resolution (the relay's hot path).
   */
  #latch(leg: Leg, port: number): void {
    leg.latched = true;
    leg.peerPort = port;
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
