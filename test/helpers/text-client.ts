import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { dial, type Target } from './dial.ts';

/**
 * A raw text-dialect client for tests, over TCP or in process: writes lines, reads lines
 * in order.
 * `next()` rejects if no line arrives in time, so a missing reply fails the test.
 */
export class TextClient {
  readonly socket: Duplex;
  readonly #lines: string[] = [];
  readonly #waiters: Array<(line: string | null) => void> = [];
  #buf = '';
  #closed = false;

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buf += chunk;
      for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
        const line = this.#buf.slice(0, i).replace(/\r$/, '');
        this.#buf = this.#buf.slice(i + 1);
        const w = this.#waiters.shift();
        if (w) w(line);
        else this.#lines.push(line);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w(null);
    });
  }

  static async connect(target: Target, localAddress?: string): Promise<TextClient> {
    return new TextClient(await dial(target, localAddress));
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  writeRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next line, or null if the connection closed first. Rejects after `ms`. */
  next(ms = 2000): Promise<string | null> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`no line within ${ms} ms`));
      }, ms);
      const waiter = (l: string | null) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Sends a request and returns the next line. */
  async request(line: string, ms?: number): Promise<string | null> {
    this.send(line);
    return this.next(ms);
  }

  /** Resolves true if no line arrives within `ms`. */
  async quiet(ms = 150): Promise<boolean> {
    try {
      const l = await this.next(ms);
      if (l !== null) this.#lines.unshift(l);
      return l === null;
    } catch {
      return true;
    }
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(ms = 3000): Promise<void> {
    if (this.#closed) return;
    await Promise.race([
      once(this.socket, 'close'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('not closed')), ms)),
    ]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Creates `name` (NEW) and connects it (CONNECT) on a fresh connection. */
export async function connectedClient(
  port: Target,
  name: string,
  mediaPort = 0,
  secret?: string,
): Promise<TextClient> {
  const c = await TextClient.connect(port);
  const created = await c.request(secret ? `NEW ${name} ${secret}` : `NEW ${name}`);
  if (created !== `108 ${name}` && created !== `408 ${name} exists`)
    throw new Error(`NEW: ${created}`);
  const reply = await c.request(`CONNECT ${name} ${mediaPort}${secret ? ` ${secret}` : ''}`);
  if (!reply?.startsWith('101 ')) throw new Error(`CONNECT: ${reply}`);
  return c;
}
