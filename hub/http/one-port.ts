/**
 * One TCP port that speaks both HTTPS and plain HTTP (docs/web.md): each accepted socket's
 * first byte decides. 0x16 opens a TLS record (a ClientHello: the content type
 * "handshake", RFC 8446 §5.1), so the socket is wrapped in a server-side TLS socket with
 * the hub's identity [S-2]; any other byte goes to the HTTP parser as it is. Either way
 * the byte is put back (`unshift`) and the socket handed to one `http.Server` with
 * `emit('connection')`; a request's `socket.encrypted` then says which it came by.
 *
 * Written here rather than taken from npm: `httpolyglot` is unmaintained, and its
 * maintained fork (`@httptoolkit/httpolyglot`) sniffs HTTP/2 and SOCKS too, while the hub
 * needs its own deadline on the injected clock, its own logging and 60 lines.
 *
 * A socket that sends nothing, or does not finish its TLS handshake and first request
 * head within `deadlineMs` of accept, is closed; garbage is the HTTP parser's or TLS's
 * error and closes the socket too. None of it is logged above debug.
 */

import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { plainIp } from '../../shared/address.ts';
import type { Clock, Timer } from '../../shared/clock.ts';

/** RFC 8446 §5.1 ContentType.handshake: the first byte of every TLS ClientHello. */
const TLS_HANDSHAKE = 0x16;

export interface OnePortOptions {
  /** Gets every socket, plain or TLS, through `emit('connection')`. */
  readonly http: http.Server;
  /** The hub's certificate and key [S-2]. */
  readonly secureContext: tls.SecureContext;
  readonly clock: Clock;
  /** From accept to the first request's head (the TLS handshake included). */
  readonly deadlineMs: number;
  readonly log: Logger;
  readonly maxConnections?: number;
}

export class OnePort {
  readonly #o: OnePortOptions;
  readonly #server: net.Server;
  /** Sockets whose first request has not arrived yet, with their deadline. */
  readonly #waiting = new Map<net.Socket | tls.TLSSocket, Timer>();

  constructor(opts: OnePortOptions) {
    this.#o = opts;
    this.#server = net.createServer((socket) => this.#accept(socket));
    this.#server.maxConnections = opts.maxConnections ?? 256;
    // The first request on a socket ends its deadline (its handed-over socket's key).
    opts.http.on('request', (req: http.IncomingMessage) => this.#arrived(req.socket));
  }

  get server(): net.Server {
    return this.#server;
  }

  /** Sockets still within their deadline (accepted, no request yet). */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Closes the port and every socket still waiting; the http server's own are its. */
  close(): Promise<void> {
    for (const [socket, timer] of this.#waiting) {
      timer.cancel();
      socket.destroy();
    }
    this.#waiting.clear();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(raw: net.Socket): void {
    const peer = plainIp(raw.remoteAddress);
    raw.on('error', (err) => this.#o.log.debug({ err: err.message, peer }, 'web socket error'));
    this.#wait(raw, raw, peer);
    const onReadable = () => {
      const chunk = raw.read() as Buffer | null;
      if (chunk === null || chunk.length === 0) return; // more to come, or 'end'
      raw.off('readable', onReadable);
      raw.off('end', onEnd);
      raw.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) this.#secure(raw, peer);
      else this.#o.http.emit('connection', raw);
    };
    const onEnd = () => raw.destroy();
    raw.on('readable', onReadable);
    raw.once('end', onEnd);
  }

  /** Wraps `raw` in TLS (the bytes read so far are fed to it first) and hands that over. */
  #secure(raw: net.Socket, peer: string): void {
    const timer = this.#waiting.get(raw);
    this.#waiting.delete(raw);
    timer?.cancel();
    const secure = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.#o.secureContext,
      ALPNProtocols: ['http/1.1'],
    });
    secure.on('error', (err) => this.#o.log.debug({ err: err.message, peer }, 'web tls error'));
    secure.once('close', () => raw.destroy());
    this.#wait(secure, raw, peer);
    this.#o.http.emit('connection', secure);
  }

  /** Closes `raw` unless a request arrives on `socket` within the deadline. */
  #wait(socket: net.Socket | tls.TLSSocket, raw: net.Socket, peer: string): void {
    const timer = this.#o.clock.setTimeout(() => {
      this.#waiting.delete(socket);
      this.#o.log.debug({ peer }, 'web connection closed: no request within the deadline');
      socket.destroy();
      raw.destroy();
    }, this.#o.deadlineMs);
    this.#waiting.set(socket, timer);
    socket.once('close', () => {
      this.#waiting.get(socket)?.cancel();
      this.#waiting.delete(socket);
    });
  }

  #arrived(socket: net.Socket): void {
    const timer = this.#waiting.get(socket);
    if (timer === undefined) return;
    timer.cancel();
    this.#waiting.delete(socket);
  }
}
