/**
 * systemd notification (`sd_notify(3)`): `READY=1` once every listener is bound,
 * `WATCHDOG=1` pings, `STOPPING=1` on shutdown, `STATUS=...` for `systemctl status`.
 *
 * Each message is one datagram sent from this process to the unix socket named by
 * `NOTIFY_SOCKET`, through the `unix-dgram` addon (Node's `dgram` has no unix datagram
 * sockets; zigbee2mqtt sends its notifications the same way). The sender is the main PID,
 * so the units say `NotifyAccess=main`. A datagram is sent synchronously, so messages
 * arrive in the order they were given. The socket lives for one message: an open one
 * would hold the event loop.
 *
 * Without `NOTIFY_SOCKET` (not started by systemd) every method does nothing at all, and
 * the addon is not even loaded. A failure to notify is logged, never thrown: the service
 * keeps running.
 */
import { createRequire } from 'node:module';
import type pino from 'pino';
import { type Clock, realClock, type Timer } from './clock.ts';

/** The part of a `unix-dgram` socket that sending needs. */
export interface NotifySocket {
  send(
    buf: Buffer,
    offset: number,
    length: number,
    path: string,
    callback: (err?: Error) => void,
  ): void;
  close(): void;
}

/** Where to send from and with what; every field has a production default. */
export interface SdNotifyOptions {
  /** Read for `NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Opens an unbound unix datagram socket; default `unix-dgram`'s `createSocket`. */
  createSocket?: () => NotifySocket;
  clock?: Clock;
  log?: pino.Logger;
  /** Our PID, compared with `WATCHDOG_PID`; default `process.pid`. */
  pid?: number;
}

/** Tells systemd about the service's life; a no-op outside systemd. */
export class SdNotify {
  #socket: string | undefined;
  #env: NodeJS.ProcessEnv;
  #createSocket: () => NotifySocket;
  #clock: Clock;
  #log: pino.Logger | undefined;
  #pid: number;
  #watchdog: Timer | null = null;
  #failures = 0;

  constructor(opts: SdNotifyOptions = {}) {
    this.#env = opts.env ?? process.env;
    this.#socket = this.#env.NOTIFY_SOCKET || undefined;
    this.#createSocket = opts.createSocket ?? unixDgramSocket;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.log;
    this.#pid = opts.pid ?? process.pid;
  }

  /** True when started by systemd with a notification socket. */
  get enabled(): boolean {
    return this.#socket !== undefined;
  }

  /** `READY=1`, with an optional status line. Call once every listener is bound. */
  ready(status?: string): void {
    this.#send(status === undefined ? ['READY=1'] : ['READY=1', statusLine(status)]);
  }

  /** `STATUS=...`: a one-line status shown by `systemctl status`. */
  status(text: string): void {
    this.#send([statusLine(text)]);
  }

  /** `STOPPING=1`: shutdown has begun. */
  stopping(): void {
    this.#send(['STOPPING=1']);
  }

  /**
   * Pings `WATCHDOG=1` every `WATCHDOG_USEC / 2` when systemd set `WATCHDOG_USEC` for us
   * (`WATCHDOG_PID` absent or ours). Calling it twice keeps one timer.
   */
  startWatchdog(): void {
    if (this.#socket === undefined || this.#watchdog !== null) return;
    const usec = Number(this.#env.WATCHDOG_USEC);
    const owner = this.#env.WATCHDOG_PID;
    if (!Number.isFinite(usec) || usec <= 0) return;
    if (owner !== undefined && owner !== '' && Number(owner) !== this.#pid) return;
    const every = Math.max(1, Math.floor(usec / 2000));
    this.#watchdog = this.#clock.setInterval(() => this.#send(['WATCHDOG=1']), every);
    this.#log?.debug({ everyMs: every }, 'systemd watchdog started');
  }

  /** Stops the watchdog pings. */
  stop(): void {
    this.#watchdog?.cancel();
    this.#watchdog = null;
  }

  /** One datagram of newline-separated `KEY=value` lines. */
  #send(message: string[]): void {
    const path = this.#socket;
    if (path === undefined) return;
    if (path.startsWith('@')) {
      // The addon copies the path as a C string, so it cannot name an abstract socket.
      this.#failed({ err: new Error('abstract NOTIFY_SOCKET is not supported') }, message);
      return;
    }
    const buf = Buffer.from(message.join('\n'));
    let socket: NotifySocket | null = null;
    try {
      socket = this.#createSocket();
      socket.send(buf, 0, buf.length, path, (err) => {
        if (err) this.#failed({ err }, message);
      });
    } catch (err) {
      this.#failed({ err }, message);
    } finally {
      try {
        socket?.close();
      } catch (err) {
        this.#log?.debug({ err }, 'closing the notify socket failed');
      }
    }
  }

  #failed(detail: object, message: string[]): void {
    // The first failure is worth a warning; the watchdog repeating it is not.
    const level = this.#failures++ === 0 ? 'warn' : 'debug';
    this.#log?.[level]({ ...detail, message, socket: this.#socket }, 'sd_notify failed');
  }
}

/** `unix-dgram` loaded on first use only, so a service outside systemd never needs it. */
function unixDgramSocket(): NotifySocket {
  const require = createRequire(import.meta.url);
  const { createSocket } = require('unix-dgram') as typeof import('unix-dgram');
  return createSocket('unix_dgram');
}

/** A message is newline-separated `KEY=value` lines, so a status must be one line. */
function statusLine(text: string): string {
  return `STATUS=${text.replace(/\s*\n\s*/g, ' ')}`;
}
