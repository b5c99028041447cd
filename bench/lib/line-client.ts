import net from 'node:net';
import tls from 'node:tls';

/** A minimal text-dialect client for load: a callback per received line, no buffering of lines. */
export class LineClient {
  readonly socket: net.Socket;
  #buf = '';
  onLine: (line: string) => void = () => {};

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      this.#buf += chunk;
      let i = this.#buf.indexOf('\n');
      while (i >= 0) {
        const line = this.#buf.slice(0, i > 0 && this.#buf[i - 1] === '\r' ? i - 1 : i);
        this.#buf = this.#buf.slice(i + 1);
        this.onLine(line);
        i = this.#buf.indexOf('\n');
      }
    });
    socket.on('error', () => {});
  }

  /** Connects over TCP, or with `secure` over TLS [S-1] (resolves once the handshake is done). */
  static connect(port: number, secure = false): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = secure
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () =>
            resolve(new LineClient(s)),
          )
        : net.connect(port, '127.0.0.1', () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Sends a line and resolves with the next line received. */
  request(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.onLine = (l) => {
        this.onLine = () => {};
        resolve(l);
      };
      this.send(line);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}
