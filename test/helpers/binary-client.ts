import type { Duplex } from 'node:stream';
import {
  type Fields,
  formatFields,
  parseFields,
  parseRecords,
} from '../../protocol/binary/fields.ts';
import { encodeRequest, type ResponseFrame, ResponseParser } from '../../protocol/binary/frame.ts';
import { dial, type Target } from './dial.ts';

/**
 * A binary-dialect client for tests [B-1, B-2], over TCP or in process. Responses (status != 100) and events
 * (status 100 [B-7]) are queued separately.
 */
export class BinaryClient {
  readonly socket: Duplex;
  readonly #parser = new ResponseParser(16 * 1024 * 1024);
  readonly #responses: ResponseFrame[] = [];
  readonly #events: Fields[] = [];
  readonly #waiters: Array<() => void> = [];
  #closed = false;

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.#parser.push(chunk)) {
        if (ev.kind !== 'frame') continue;
        if (ev.frame.status === 100) this.#events.push(parseFields(ev.frame.data));
        else this.#responses.push(ev.frame);
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async connect(target: Target, localAddress?: string): Promise<BinaryClient> {
    return new BinaryClient(await dial(target, localAddress));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request frame built from field lists. */
  send(route: string, header: Fields = {}, data: Fields = {}): void {
    this.socket.write(
      encodeRequest({ route, header: formatFields(header), data: formatFields(data) }),
    );
  }

  writeRaw(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** The next response frame (not an event). */
  async response(ms = 3000): Promise<ResponseFrame> {
    await this.#until(() => this.#responses.length > 0, ms);
    return this.#responses.shift()!;
  }

  /** Sends and returns the response with its fields parsed (records stay in `frame.data`). */
  async request(route: string, header: Fields = {}, data: Fields = {}, ms?: number) {
    this.send(route, header, data);
    const frame = await this.response(ms);
    return { status: frame.status, fields: safeFields(frame.data), raw: frame.data };
  }

  /** The next event [B-7]. */
  async event(ms = 3000): Promise<Fields> {
    await this.#until(() => this.#events.length > 0, ms);
    return this.#events.shift()!;
  }

  get pendingEvents(): number {
    return this.#events.length;
  }

  async waitClosed(ms = 3000): Promise<void> {
    await this.#until(() => this.#closed, ms);
  }

  close(): void {
    this.socket.destroy();
  }

  #until(ready: () => boolean, ms: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else if (this.#closed) {
          clearTimeout(timer);
          reject(new Error('connection closed'));
        } else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }
}

function safeFields(data: string): Fields {
  try {
    return parseFields(data);
  } catch {
    return {};
  }
}

export { parseRecords };

/** `/create` then returns `{ id, name, token, client }` on a connection that stays the session. */
export async function createdUser(port: Target, mail: string, pass = 'pw', extra: Fields = {}) {
  const client = await BinaryClient.connect(port);
  const r = await client.request('/create', {}, { user_mail: mail, pass, ...extra });
  if (r.status !== 201) throw new Error(`/create ${r.status} ${r.raw}`);
  return { id: r.fields.id!, name: r.fields.name!, token: r.fields.token!, client };
}
