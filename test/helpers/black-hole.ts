/**
 * [G-3] A UDP black hole between two devices in a direct call, in user space on loopback.
 *
 * Device B reaches the hub through `hubPort` here, a text-dialect proxy that puts this
 * shim in B's media path both ways:
 * - B's `CONNECT <name> <port> ...` declares the shim's `toB` port instead of B's own, so
 *   A (and later the relay) sends B's media to the shim;
 * - a `106 <peer> <ip> <peerPort>` naming A's own (direct) address becomes the shim's
 *   `toA` address, so B sends its media to the shim too. A `106` naming anything else
 *   (the hub's relay) passes unchanged.
 * The shim forwards B -> A (from `toB`, the address A expects) and, while `drop` is on,
 * loses everything sent towards B: one direction of the call is a black hole. The relay
 * reaches B once B has sent it a packet (it latches B's real port [M-4]).
 */
import dgram from 'node:dgram';
import net from 'node:net';

export interface BlackHoleOptions {
  /** The hub's plaintext text port on 127.0.0.1. */
  readonly hubPort: number;
  /** Device B's media port (its `--media-port`). */
  readonly devicePort: number;
  /** Device A's media port: the direct address the hub names to B. */
  readonly peerPort: number;
}

export class BlackHole {
  /** Device B's `--hub 127.0.0.1:<hubPort>`. */
  hubPort = 0;
  /** Whether what goes towards B is lost. */
  drop = true;
  dropped = 0;
  forwarded = 0;
  /** The `106` lines rewritten to pass through the shim. */
  rewritten = 0;
  readonly #o: BlackHoleOptions;
  readonly #server = net.createServer();
  readonly #toB = dgram.createSocket('udp4');
  readonly #toA = dgram.createSocket('udp4');
  readonly #sockets = new Set<net.Socket>();

  private constructor(o: BlackHoleOptions) {
    this.#o = o;
  }

  static async start(o: BlackHoleOptions): Promise<BlackHole> {
    const h = new BlackHole(o);
    await h.#start();
    return h;
  }

  async #start(): Promise<void> {
    const bind = (s: dgram.Socket) =>
      new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    await Promise.all([bind(this.#toB), bind(this.#toA)]);
    const toB = this.#toB.address().port;
    const toA = this.#toA.address().port;
    // Towards B: from A directly, or from the relay before it latched B's real port.
    this.#toB.on('message', (msg) => {
      if (this.drop) {
        this.dropped++;
        return;
      }
      this.forwarded++;
      this.#toA.send(msg, this.#o.devicePort, '127.0.0.1');
    });
    // From B, towards A, from the address A expects B's media from.
    this.#toA.on('message', (msg) => {
      this.forwarded++;
      this.#toB.send(msg, this.#o.peerPort, '127.0.0.1');
    });
    this.#server.on('connection', (device) => {
      const hub = net.connect(this.#o.hubPort, '127.0.0.1');
      this.#sockets.add(device).add(hub);
      lines(device, (line) =>
        hub.write(line.replace(/^(CONNECT \S+ )(\d+)/, (_all, head) => `${head}${toB}`)),
      );
      lines(hub, (line) => {
        const m = /^106 (\S+) \S+ (\d+)(.*)$/s.exec(line);
        if (m && Number(m[2]) === this.#o.peerPort) {
          this.rewritten++;
          device.write(`106 ${m[1]} 127.0.0.1 ${toA}${m[3]}`);
        } else device.write(line);
      });
      const close = () => {
        device.destroy();
        hub.destroy();
      };
      device.on('close', close).on('error', close);
      hub.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.hubPort = (this.#server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#toA.close();
    this.#toB.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Calls `fn` with each whole line (its ending kept) read from `s`. */
function lines(s: net.Socket, fn: (line: string) => void): void {
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      fn(buf.slice(0, i + 1));
      buf = buf.slice(i + 1);
    }
  });
}
