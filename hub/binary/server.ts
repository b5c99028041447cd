import type net from 'node:net';
import type { HubContext } from '../context.ts';
import { Listener } from '../net/listener.ts';
import { CallChannels } from './channels.ts';
import { BinaryConnection } from './connection.ts';

/** The binary dialect's TCP server (default port 4243). */
export class BinaryServer {
  readonly #listener: Listener;

  constructor(ctx: HubContext, maxConnections: number) {
    const channels = new CallChannels();
    ctx.core.observe({
      call: (e) => {
        if (e.event === 'ended') channels.endCall(e.call.id);
      },
    });
    this.#listener = new Listener((socket) => new BinaryConnection(ctx, channels, socket), {
      log: ctx.log.child({ mod: 'binary-server' }),
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
