import { Duplex } from 'node:stream';

/**
 * One end of an in-process byte pipe. What one end writes, the other reads; a write waits
 * while the reader's buffer is full, so a peer that stops reading backs the writer up as a
 * TCP peer does. Ending one side is a FIN (the other reads end-of-stream); destroying it
 * is a FIN too, and the peer's bytes from then on are lost.
 */
class PairEnd extends Duplex {
  peer: PairEnd | null = null;
  /** The peer's write that waits for this end to read. */
  #release: (() => void) | null = null;
  #inputEnded = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error) => void): void {
    const peer = this.peer!;
    // A peer gone or past its end-of-stream loses the bytes, as after a TCP close.
    if (peer.destroyed || peer.#inputEnded || peer.push(chunk)) done();
    else peer.#release = done;
  }

  override _read(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  override _final(done: (err?: Error) => void): void {
    this.peer!.#endInput();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this._read(); // a write waiting on us is not left hanging
    this.peer!.#endInput();
    done(err);
  }

  #endInput(): void {
    if (this.#inputEnded || this.destroyed) return;
    this.#inputEnded = true;
    this.push(null);
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
