import type { Duplex } from 'node:stream';

/**
 * Who is on the other end of a connection, as the dialect adapters need it: the peer's IP
 * and port (logs, and the media address of [T-9]) and the hub's own IP as this peer reaches
 * it (relay addresses [M-4]). The listener fills it from its socket; tests make it up.
 */
export interface PeerAddress {
  /** The peer's IP, an IPv4 peer in dotted form. */
  readonly address: string;
  readonly port: number;
  /** The hub's IP on this connection. */
  readonly localAddress: string;
  /** True when the connection runs inside TLS [S-1]: its call legs get SRTP keys [S-4]. */
  readonly secure: boolean;
}

/**
 * What a dialect offers a listener: take one connection, over any duplex byte stream (a TCP
 * socket, a TLS socket, one end of an in-process pair), and serve it until it closes.
 */
export type Handle = (stream: Duplex, peer: PeerAddress) => void;

/** `ip:port`, for logs. */
export function peerLabel(peer: PeerAddress): string {
  return `${peer.address}:${peer.port}`;
}
