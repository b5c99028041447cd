/**
 * An in-process byte pipe between one of the hub's own MQTT clients (MQTT.js) and the
 * embedded broker (aedes), in place of a TCP connection to the broker's plaintext port:
 * the hub reaches its broker whatever `plaintext` says, and its login never touches a
 * socket. Each end is a `Duplex` that behaves like a loopback socket:
 * - what one end writes in one turn of the event loop, the other reads in the next, as
 *   one chunk (as a TCP segment carries the packets written together);
 * - a write waits while the reader's buffer is full (back pressure, as TCP);
 * - ending one end ends the other's input once it has read what came before;
 * - destroying one end (the broker dropping a client, the client closing) delivers what
 *   it had written, then ends the other's input: the other reads it, ends and closes
 *   (neither end is half-open), so MQTT.js sees `close` and aedes `end` as on a socket.
 */
import { Duplex } from 'node:stream';

/** Bytes written in one turn of the event loop before a write waits for the reader. */
const HIGH_WATER = 64 * 1024;

class LinkEnd extends Duplex {
  peer: LinkEnd | null = null;
  /** What was written this turn, delivered as one chunk in the next (as TCP coalesces). */
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushing = false;
  /** This end's write held back: over `HIGH_WATER`, or the reader's buffer full. */
  #held: (() => void) | null = null;
  /** The peer's held write, released when this end is read. */
  #release: (() => void) | null = null;
  #inputEnded = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error) => void): void {
    this.#out.push(chunk);
    this.#outBytes += chunk.length;
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => this.#flush());
    }
    if (this.#outBytes < HIGH_WATER) done();
    else this.#held = done;
  }

  override _read(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  override _final(done: (err?: Error) => void): void {
    const peer = this.peer;
    // after the flush scheduled before it: the peer reads everything, then its end
    setImmediate(() => {
      if (peer) peer.#endInput();
    });
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // As a socket closed right after a write: what was written still goes (aedes writes a
    // refusing CONNACK and closes at once), then the peer reads its end and closes.
    if (this.#outBytes > 0) this.#flush();
    this._read(); // a write waiting on this end is not left hanging
    const peer = this.peer;
    setImmediate(() => {
      if (peer) peer.#endInput();
    });
    done(err);
  }

  #flush(): void {
    this.#flushing = false;
    const data = Buffer.concat(this.#out);
    this.#out = [];
    this.#outBytes = 0;
    const held = this.#held;
    this.#held = null;
    const peer = this.peer;
    // A peer that is gone loses the bytes, as after a TCP close.
    if (!peer || peer.destroyed || peer.#inputEnded || data.length === 0 || peer.push(data)) {
      held?.();
    } else if (held) peer.#release = held;
  }

  #endInput(): void {
    if (this.destroyed || this.#inputEnded) return;
    this.#inputEnded = true;
    this.push(null);
  }
}

/** Two connected ends: the client's and the broker's. */
export function localLink(): [client: Duplex, broker: Duplex] {
  const client = new LinkEnd({ allowHalfOpen: false });
  const broker = new LinkEnd({ allowHalfOpen: false });
  client.peer = broker;
  broker.peer = client;
  return [client, broker];
}
