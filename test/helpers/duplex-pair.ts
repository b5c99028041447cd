import { Duplex } from 'node:stream';

/**
 * One end of an in-process byte pipe that behaves like a TCP socket on loopback:
 * - what one end writes, the other reads in a later turn of the event loop, as a socket's
 *   reads arrive (so a client looping on requests never starves the hub's own events);
 * - a write waits while the reader's buffer is full, so a peer that stops reading backs
 *   the writer up;
 * - ending one side is a FIN: the other reads end-of-stream after the data before it;
 * - destroying one side is a FIN too, or a reset (the peer is destroyed) if this side
 *   had data it never read, as the kernel does; bytes written to it from then on are lost.
 */
class PairEnd extends Duplex {
  peer: PairEnd | null = null;
  /** The peer's write that waits for this end to read. */
  #release: (() => void) | null = null;
  #inputEnded = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error) => void): void {
    setImmediate(() => this.#deliver(chunk, done));
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    done: (err?: Error) => void,
  ): void {
    const data = Buffer.concat(chunks.map((c) => c.chunk));
    setImmediate(() => this.#deliver(data, done));
  }

  override _read(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  override _final(done: (err?: Error) => void): void {
    const peer = this.peer!;
    setImmediate(() => peer.#endInput());
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const peer = this.peer!;
    const reset = this.readableLength > 0;
    this._read(); // a write waiting on us is not left hanging
    setImmediate(() => {
      if (reset) peer.destroy(new Error('ECONNRESET: the peer closed with data unread'));
      else peer.#endInput();
    });
    done(err);
  }

  #deliver(chunk: Buffer, done: () => void): void {
    const peer = this.peer!;
    // A peer gone or past its end-of-stream loses the bytes, as after a TCP close.
    if (peer.destroyed || peer.#inputEnded || peer.push(chunk)) done();
    else peer.#release = done;
  }

  #endInput(): void {
    if (this.#inputEnded || this.destroyed) return;
    this.#inputEnded = true;
    this.push(null);
    this.read(0); // 'end' comes once the buffer is empty, read or not, as on a socket
  }
}

/**
 * Two connected duplex streams, as `stream.duplexPair()` of later Node versions. The first
 * behaves like a client socket (its writable side ends when its readable side does); the
 * second like a hub socket accepted with `allowHalfOpen` (a FIN leaves its side open).
 */
export function duplexPair(): [client: Duplex, server: Duplex] {
  const client = new PairEnd({ allowHalfOpen: false });
  const server = new PairEnd({ allowHalfOpen: true });
  client.peer = server;
  server.peer = client;
  return [client, server];
}
