import type net from 'node:net';
import type { HubContext } from '../context.ts';
import { Listener } from '../net/listener.ts';
import { TextConnection } from './connection.ts';

/** The text dialect's TCP server (default port 4242). */
export class TextServer {
  readonly #listener: Listener;

  constructor(ctx: HubContext, maxConnections: number) {
    this.#listener = new Listener((socket) => new TextConnection(ctx, socket), {
      log: ctx.log.child({ mod: 'text-server' }),
      maxConnections,
    });
  }

  listen(port: number, host: string): Promise<net.AddressInfo> {
    return this.#listener.listen(port, host);
  }

  get connections(): number {
    return this.#listener.connections;
  }

  close(): Promise<void> {
    return this.#listener.close();
  }
}
