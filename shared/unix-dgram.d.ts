/** The part of `unix-dgram` (a CommonJS addon without types of its own) that sd-notify uses. */
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  export interface UnixDgramSocket extends EventEmitter {
    /** Sends one datagram to the socket at `path`; `err` is set when it could not go. */
    send(
      buf: Buffer,
      offset: number,
      length: number,
      path: string,
      callback?: (err?: Error) => void,
    ): void;
    bind(path: string): void;
    close(): void;
  }

  export function createSocket(
    type: 'unix_dgram',
    listener?: (msg: Buffer, rinfo: { size: number; path?: string }) => void,
  ): UnixDgramSocket;
}
