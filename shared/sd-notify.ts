/**
 * systemd notification (`sd_notify(3)`): `READY=1` once every listener is bound,
 * `WATCHDOG=1` pings, `STOPPING=1` on shutdown, `STATUS=...` for `systemctl status`.
 *
 * Node cannot send a unix datagram by itself, so each message goes through the
 * `systemd-notify` binary (Debian's `systemd` package) with `--pid=<our pid>`. The sender
 * is then a child process, not the main PID, so the unit must say `NotifyAccess=all`
 * (with `Type=notify`, and `WatchdogSec=` to have a watchdog). `systemd-notify` waits
 * until systemd has taken each message, so the child exiting early cannot lose it;
 * messages are sent one at a time, in order.
 *
 * Without `NOTIFY_SOCKET` (not started by systemd) every method does nothing at all. A
 * failure to notify is logged, never thrown: the service keeps running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type pino from 'pino';
import { type Clock, realClock, type Timer } from './clock.ts';

const CANDIDATES = ['/usr/bin/systemd-notify', '/bin/systemd-notify'];

/** Where to send from and with what; every field has a production default. */
export interface SdNotifyOptions {
  /** Read for `NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  spawnFn?: typeof spawn;
  clock?: Clock;
  log?: pino.Logger;
  /** Our PID, passed as `--pid`; default `process.pid`. */
  pid?: number;
  /** The binary; default the first of /usr/bin, /bin that exists, else `systemd-notify`. */
  command?: string;
}

/** Tells systemd about the service's life; a no-op outside systemd. */
export class SdNotify {
  #socket: string | undefined;
  #env: NodeJS.ProcessEnv;
  #spawn: typeof spawn;
  #clock: Clock;
  #log: pino.Logger | undefined;
  #pid: number;
  #command: string;
  #watchdog: Timer | null = null;
  #queue: string[][] = [];
  #child: ChildProcess | null = null;
  #failures = 0;

  constructor(opts: SdNotifyOptions = {}) {
    this.#env = opts.env ?? process.env;
    this.#socket = this.#env.NOTIFY_SOCKET || undefined;
    this.#spawn = opts.spawnFn ?? spawn;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.log;
    this.#pid = opts.pid ?? process.pid;
    this.#command =
      opts.command ??
      (this.#socket ? CANDIDATES.find((c) => existsSync(c)) : undefined) ??
      'systemd-notify';
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
    this.#watchdog = this.#clock.setInterval(() => {
      // One ping waiting is enough; a stuck child must not grow the queue.
      if (!this.#queue.some((m) => m[0] === 'WATCHDOG=1')) this.#send(['WATCHDOG=1']);
    }, every);
    this.#log?.debug({ everyMs: every }, 'systemd watchdog started');
  }

  /** Stops the watchdog pings; messages already queued are still sent. */
  stop(): void {
    this.#watchdog?.cancel();
    this.#watchdog = null;
  }

  #send(message: string[]): void {
    if (this.#socket === undefined) return;
    this.#queue.push(message);
    if (this.#child === null) this.#next();
  }

  #next(): void {
    const message = this.#queue.shift();
    if (message === undefined) return;
    const args = [`--pid=${this.#pid}`, ...message];
    let child: ChildProcess;
    try {
      child = this.#spawn(this.#command, args, {
        env: { NOTIFY_SOCKET: this.#socket, PATH: this.#env.PATH ?? process.env.PATH },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      this.#failed({ err }, message);
      this.#next();
      return;
    }
    this.#child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    let done = false;
    const finish = (detail: object | null) => {
      if (done) return;
      done = true;
      this.#child = null;
      if (detail) this.#failed(detail, message);
      this.#next();
    };
    child.on('error', (err) => finish({ err }));
    child.on('close', (code, signal) =>
      finish(code === 0 ? null : { code, signal, stderr: stderr.trim() }),
    );
  }

  #failed(detail: object, message: string[]): void {
    // The first failure is worth a warning; the watchdog repeating it is not.
    const level = this.#failures++ === 0 ? 'warn' : 'debug';
    this.#log?.[level]({ ...detail, message, command: this.#command }, 'systemd-notify failed');
  }
}

/** A message is newline-separated `KEY=value` lines, so a status must be one line. */
function statusLine(text: string): string {
  return `STATUS=${text.replace(/\s*\n\s*/g, ' ')}`;
}
