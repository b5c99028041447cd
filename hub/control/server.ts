/**
 * The running hub's control socket, `<data_dir>/control.sock` (mode 0600: only the hub's
 * user and root reach it), through which `babel-hub pair` and other subcommands talk to a
 * running hub. One JSON request a line, `{"cmd": "...", ...}`, one JSON reply a line,
 * `{"ok": true, ...}` or `{"ok": false, "error": "..."}`. A request over 4 KiB, or that is
 * not JSON, is answered with an error and the connection closed.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';

export const CONTROL_SOCKET = 'control.sock';
const MAX_REQUEST = 4096;

export type ControlRequest = { readonly cmd: string } & Readonly<Record<string, unknown>>;
/** A handler's answer is merged into `{"ok": true}`; a thrown Error becomes `ok: false`. */
export type ControlHandler = (req: ControlRequest) => Record<string, unknown>;

export class ControlServer {
  readonly path: string;
  readonly #handlers: Readonly<Record<string, ControlHandler>>;
  readonly #log: Logger;
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | null = null;

  constructor(dataDir: string, handlers: Record<string, ControlHandler>, log: Logger) {
    this.path = path.join(dataDir, CONTROL_SOCKET);
    this.#handlers = handlers;
    this.#log = log;
  }

  /** Listens; a stale socket file of a hub that died is replaced, a live one is an error. */
  async start(): Promise<void> {
    if (await answers(this.path)) {
      throw new Error(`another hub is running on this data directory (${this.path} answers)`);
    }
    fs.rmSync(this.path, { force: true });
    const server = net.createServer((socket) => this.#serve(socket));
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    fs.chmodSync(this.path, 0o600);
    server.on('error', (err) => this.#log.error({ err }, 'control socket error'));
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
    fs.rmSync(this.path, { force: true });
  }

  #serve(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        socket.write(`${JSON.stringify(this.#answer(line))}\n`);
        nl = buffered.indexOf('\n');
      }
      if (buffered.length > MAX_REQUEST) {
        socket.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
      }
    });
  }

  #answer(line: string): Record<string, unknown> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { ok: false, error: 'not JSON' };
    }
    if (
      typeof req !== 'object' ||
      req === null ||
      typeof (req as ControlRequest).cmd !== 'string'
    ) {
      return { ok: false, error: 'a request is {"cmd": "..."}' };
    }
    const { cmd } = req as ControlRequest;
    const handler = Object.hasOwn(this.#handlers, cmd) ? this.#handlers[cmd] : undefined;
    if (!handler) return { ok: false, error: `unknown command: ${cmd}` };
    try {
      return { ...handler(req as ControlRequest), ok: true };
    } catch (err) {
      this.#log.debug({ err, cmd }, 'control command refused');
      return { ok: false, error: (err as Error).message };
    }
  }
}

/** Whether something listens on the socket at `file`. */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
