/**
 * An in-memory UDP network for media sessions on a fake clock: delivery is immediate, and
 * a `drop` rule makes a black hole of one direction (G-3 tests).
 */
import { EventEmitter } from 'node:events';
import type { MediaEndpoint } from '../../device/media/pipeline.ts';
import { LOCAL } from './media-session.ts';

export class FakeNet {
  #sockets = new Map<number, FakeSocket>();
  #next = 40000;
  /** Datagrams from `from` to `to` (ports) for which this holds are lost. */
  drop: (from: number, to: number) => boolean = () => false;
  dropped = 0;

  socket(): FakeSocket {
    return new FakeSocket(this);
  }

  bind(s: FakeSocket, port: number): number {
    const p = port || this.#next++;
    this.#sockets.set(p, s);
    return p;
  }

  deliver(msg: Buffer, from: MediaEndpoint, port: number): void {
    if (this.drop(from.port, port)) {
      this.dropped++;
      return;
    }
    this.#sockets.get(port)?.emit('message', msg, from);
  }
}

export class FakeSocket extends EventEmitter {
  #net: FakeNet;
  #port = 0;

  constructor(net: FakeNet) {
    super();
    this.#net = net;
  }

  bind(port: number, _address: string, callback: () => void): void {
    this.#port = this.#net.bind(this, port);
    callback();
  }

  send(msg: Buffer, port: number, _address: string): void {
    this.#net.deliver(msg, { address: LOCAL, port: this.#port }, port);
  }

  address(): { port: number } {
    return { port: this.#port };
  }

  close(callback?: () => void): void {
    callback?.();
  }
}
