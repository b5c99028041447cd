/**
 * A bad network, reproducibly: seeded random loss, delay and jitter, reordering and
 * duplicates. `Impairment` is the pure decision per packet (tests replay it on a simulated
 * timeline); `ImpairmentShim` applies it to real UDP on loopback between two peers.
 */

import dgram from 'node:dgram';
import { once } from 'node:events';
import { type Clock, realClock, type Timer } from '../../shared/clock.ts';
import { mulberry32 } from './prng.ts';

export interface ImpairmentOptions {
  seed?: number;
  /** Probability a packet is lost, 0..1. */
  loss?: number;
  /** Fixed one-way delay, ms. */
  delayMs?: number;
  /** Extra delay, uniform in [0, jitterMs) per packet (so packets may overtake). */
  jitterMs?: number;
  /** Probability a packet is held back a further 20..30 ms (overtaken by the next one). */
  reorder?: number;
  /** Probability a packet is delivered twice (the copy up to 30 ms later). */
  duplicate?: number;
}

export interface ImpairmentCounts {
  packets: number;
  lost: number;
  reordered: number;
  duplicated: number;
}

/**
 * The fate of each packet of one direction, in order: the delays of its copies (none when
 * lost). Every packet draws the same number of random values, so packet n's fate depends
 * only on the seed and n.
 */
export class Impairment {
  readonly #o: Required<ImpairmentOptions>;
  readonly #rnd: () => number;
  readonly counts: ImpairmentCounts = { packets: 0, lost: 0, reordered: 0, duplicated: 0 };

  constructor(options: ImpairmentOptions = {}) {
    this.#o = {
      seed: 1,
      loss: 0,
      delayMs: 0,
      jitterMs: 0,
      reorder: 0,
      duplicate: 0,
      ...options,
    };
    this.#rnd = mulberry32(this.#o.seed);
  }

  /** Delays (ms) at which the next packet is delivered: [] lost, [d] once, [d, d2] twice. */
  next(): number[] {
    const r = this.#rnd;
    const [lossDraw, jitterDraw, reorderDraw, reorderBy, dupDraw, dupBy] = [
      r(),
      r(),
      r(),
      r(),
      r(),
      r(),
    ];
    const o = this.#o;
    this.counts.packets++;
    if (lossDraw < o.loss) {
      this.counts.lost++;
      return [];
    }
    let delay = o.delayMs + jitterDraw * o.jitterMs;
    if (reorderDraw < o.reorder) {
      delay += 20 + 10 * reorderBy;
      this.counts.reordered++;
    }
    if (dupDraw < o.duplicate) {
      this.counts.duplicated++;
      return [delay, delay + dupBy * 30];
    }
    return [delay];
  }
}

export interface Peer {
  ip: string;
  port: number;
}

/**
 * Forwards UDP between peer A and peer B through two sockets of its own: A talks to
 * `portA` and hears B from it, B likewise with `portB`, so each side sees one symmetric
 * peer address [M-2]. Each direction has its own `Impairment` (seeds `seed` and `seed + 1`).
 * Datagrams from anyone else are dropped.
 */
export class ImpairmentShim {
  readonly #a: dgram.Socket;
  readonly #b: dgram.Socket;
  readonly #timers = new Set<Timer>();
  readonly #clock: Clock;
  readonly aToB: Impairment;
  readonly bToA: Impairment;
  /** Datagrams sent on to each peer so far (copies included), to wait for their arrival. */
  readonly forwarded = { toA: 0, toB: 0 };

  private constructor(
    a: dgram.Socket,
    b: dgram.Socket,
    options: ImpairmentOptions & { clock?: Clock },
  ) {
    this.#a = a;
    this.#b = b;
    this.#clock = options.clock ?? realClock;
    const seed = options.seed ?? 1;
    this.aToB = new Impairment({ ...options, seed });
    this.bToA = new Impairment({ ...options, seed: seed + 1 });
  }

  /**
   * Binds the two sockets on 127.0.0.1; call `connect()` with the peers next. The delays
   * run on `clock` (default the real one).
   */
  static async open(options: ImpairmentOptions & { clock?: Clock } = {}): Promise<ImpairmentShim> {
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    a.bind(0, '127.0.0.1');
    b.bind(0, '127.0.0.1');
    await Promise.all([once(a, 'listening'), once(b, 'listening')]);
    return new ImpairmentShim(a, b, options);
  }

  /** The port peer A sends to (and hears B from). */
  get portA(): number {
    return this.#a.address().port;
  }

  /** The port peer B sends to (and hears A from). */
  get portB(): number {
    return this.#b.address().port;
  }

  /** Starts forwarding between the two peers. */
  connect(peerA: Peer, peerB: Peer): void {
    this.#forward(this.#a, peerA, this.#b, peerB, this.aToB, 'toB');
    this.#forward(this.#b, peerB, this.#a, peerA, this.bToA, 'toA');
  }

  async close(): Promise<void> {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    await Promise.all([
      new Promise<void>((resolve) => this.#a.close(() => resolve())),
      new Promise<void>((resolve) => this.#b.close(() => resolve())),
    ]);
  }

  #forward(
    from: dgram.Socket,
    src: Peer,
    out: dgram.Socket,
    dst: Peer,
    fate: Impairment,
    count: 'toA' | 'toB',
  ): void {
    const send = (msg: Buffer) => {
      this.forwarded[count]++;
      out.send(msg, dst.port, dst.ip);
    };
    from.on('message', (msg, rinfo) => {
      if (rinfo.address !== src.ip || rinfo.port !== src.port) return;
      for (const delay of fate.next()) {
        if (delay <= 0) {
          send(msg);
          continue;
        }
        const t = this.#clock.setTimeout(() => {
          this.#timers.delete(t);
          send(msg);
        }, delay);
        this.#timers.add(t);
      }
    });
  }
}
