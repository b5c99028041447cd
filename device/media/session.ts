/**
 * The device's media session: one UDP socket and a playout timer around `MediaPipeline`.
 * The socket is bound once (`open()`) and stays bound between calls; each call leg is a
 * `start(remote)` .. `stop()` with a fresh pipeline (new SSRC, sequence, timestamp [M-1],
 * empty jitter buffer). Sends go out from the port datagrams are received on [M-2, T-9].
 * Socket errors are logged, never thrown.
 *
 * A leg runs both ways (a call), or one way for a page [G-2]: `send` (the pager: nothing
 * is played) or `receive` (a member: nothing is sent). A two-way leg watches for G-3's
 * silence (nothing valid in for 2 s while sending) and says so once with 'silent'.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { type Clock, realClock, type Timer } from '../../shared/clock.ts';
import type { DtmfKey } from './dtmf.ts';
import {
  type MediaEndpoint,
  MediaPipeline,
  type MediaPipelineOptions,
  type MediaStats,
  type PlayoutInfo,
} from './pipeline.ts';
import { SilenceWatch } from './silence-watch.ts';

/** Which way a leg runs: a call both ways, a page only out of the pager [G-2]. */
export type MediaDirection = 'both' | 'send' | 'receive';

/** The part of `dgram.Socket` the session uses; a fake can stand in. */
export interface UdpSocket {
  bind(port: number, address: string, callback: () => void): unknown;
  send(msg: Buffer, port: number, address: string): void;
  address(): { port: number };
  on(event: 'message', listener: (msg: Buffer, rinfo: MediaEndpoint) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
  close(callback?: () => void): unknown;
}

export interface MediaSessionOptions {
  log: Logger;
  /** Receives every playout frame (one per frame interval during a leg) and what it is. */
  sink: (pcm: Buffer, info: Readonly<PlayoutInfo>) => void;
  clock?: Clock;
  /** UDP port to bind; 0 (default) takes any free port [T-9]. */
  port?: number;
  host?: string;
  /** Codec, jitter buffer and DTMF settings of every leg. */
  pipeline?: Omit<MediaPipelineOptions, 'remote' | 'log'>;
  /** Interval of the 'stats' event during a leg. Default 5000. */
  statsIntervalMs?: number;
  createSocket?: () => UdpSocket;
}

export interface MediaSessionEvents {
  /** A key press from the peer (RFC 4733), once per press. */
  dtmf: [key: DtmfKey];
  /** Every `statsIntervalMs` during a leg, and once more at its end. */
  stats: [stats: MediaStats];
  /** [G-3] Nothing valid from the peer for 2 s while sending: once a leg, two-way legs. */
  silent: [];
}

/**
 * The media socket's address lookup: an IPv4 literal (every media address [T-9]) is its own
 * answer at once, so each send goes out in the same tick, not after a `dns.lookup` and a
 * `nextTick` per frame (issue 15, docs/benchmarks.md); anything else asks `dns.lookup`.
 */
const literalLookup: NonNullable<dgram.SocketOptions['lookup']> = (host, options, callback) => {
  if (isIPv4(host)) callback(null, host, 4);
  else dns.lookup(host, options, callback);
};

/** Playout ticks made up at once after a stall; beyond that the grid starts again. */
const MAX_CATCH_UP = 10;
/** A packet arriving this close before a playout tick is due plays it out at once. */
const RIDE_ALONG_MS = 4;

export class MediaSession extends EventEmitter<MediaSessionEvents> {
  readonly #o: MediaSessionOptions;
  readonly #clock: Clock;
  readonly #socket: UdpSocket;
  #pipeline: MediaPipeline | null = null;
  #remote: { ip: string; port: number } = { ip: '', port: 0 };
  #due = 0;
  #playout: Timer | null = null;
  #statsTimer: Timer | null = null;
  #direction: MediaDirection = 'both';
  /** [G-3] A two-way leg's silence watch, checked on each playout tick. */
  #watch: SilenceWatch | null = null;
  #bound = false;
  #closed = false;
  /** A send threw during this leg (logged once per leg). */
  #sendFailed = false;

  constructor(opts: MediaSessionOptions) {
    super();
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#socket = (
      opts.createSocket ?? (() => dgram.createSocket({ type: 'udp4', lookup: literalLookup }))
    )();
  }

  /** Binds the socket; resolves with its port. Rejects if the port cannot be bound. */
  async open(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(this.#o.port ?? 0, this.#o.host ?? '0.0.0.0', () => {
        this.#socket.off('error', reject);
        resolve();
      });
    });
    this.#bound = true;
    this.#socket.on('error', (err) => this.#o.log.warn({ err }, 'media socket error'));
    this.#socket.on('message', (msg, rinfo) => {
      const p = this.#pipeline;
      if (!p) return;
      const now = this.#clock.now();
      const before = p.received;
      const key = p.receive(msg, rinfo, now).dtmf;
      if (p.received !== before) this.#watch?.received(now);
      if (key !== undefined) this.emit('dtmf', key);
      // A playout tick due in a moment rides on this wakeup instead of taking its own.
      if (this.#playout && this.#due - now <= RIDE_ALONG_MS && this.#pipeline === p) {
        this.#playout?.cancel();
        this.#play(RIDE_ALONG_MS);
      }
    });
    return this.port;
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /**
   * Starts a call leg with the peer's media address [T-9], in SRTP with `srtp`'s keys
   * [S-4] (else plain RTP); a running leg is stopped first. `direction`: both ways (a
   * call), `send` only (a pager) or `receive` only (a paged member) [G-2].
   */
  start(
    remote: { ip: string; port: number },
    srtp: { readonly send: string; readonly recv: string } | null = null,
    direction: MediaDirection = 'both',
  ): void {
    // An unbound socket would send from a random port: the peer would drop it all [M-2].
    if (!this.#bound) throw new Error('media session: open() before start()');
    this.stop();
    this.#remote = { ...remote };
    this.#sendFailed = false;
    const p = new MediaPipeline({
      ...this.#o.pipeline,
      remote: { address: remote.ip, port: remote.port },
      log: this.#o.log,
      srtp,
    });
    this.#pipeline = p;
    this.#direction = direction;
    const now = this.#clock.now();
    this.#due = now + p.frameMs;
    // A pager plays nothing [G-2]: no playout ticks.
    if (direction !== 'send') this.#playout = this.#clock.setTimeout(this.#tick, p.frameMs);
    const every = this.#o.statsIntervalMs ?? 5000;
    this.#statsTimer = this.#clock.setInterval(() => this.emit('stats', p.stats()), every);
    this.#watch = direction === 'both' ? new SilenceWatch({ start: now }) : null;
    this.#o.log.debug(
      { remote, ssrc: p.ssrc, srtp: srtp !== null, direction },
      'media leg started',
    );
  }

  /** Ends the leg (if any): timers off, a last 'stats'; returns those statistics. */
  stop(): MediaStats | null {
    const p = this.#pipeline;
    if (!p) return null;
    this.#pipeline = null;
    this.#playout?.cancel();
    this.#playout = null;
    this.#statsTimer?.cancel();
    this.#watch = null;
    const stats = p.stats();
    this.#o.log.debug({ stats }, 'media leg ended');
    this.emit('stats', stats);
    return stats;
  }

  /** One captured frame; ignored between legs and on a receive-only leg [G-2]. */
  sendFrame(pcm: Buffer): void {
    const p = this.#pipeline;
    if (!p || this.#direction === 'receive') return;
    const { ip, port } = this.#remote;
    const now = this.#clock.now();
    try {
      for (const datagram of p.captureFrame(pcm, now)) {
        this.#socket.send(datagram, port, ip); // from the bound port [M-2]
        this.#watch?.sent(now);
      }
    } catch (err) {
      // The address was checked (device/hub/events.ts); should a send still throw, the
      // leg goes quiet instead of taking the device down.
      if (!this.#sendFailed) this.#o.log.warn({ err, remote: this.#remote }, 'media send failed');
      this.#sendFailed = true;
    }
  }

  /** Sends a key press to the peer (RFC 4733); ignored between legs and while paged. */
  pressKey(key: DtmfKey): void {
    if (this.#direction !== 'receive') this.#pipeline?.pressKey(key);
  }

  /** The running leg's direction, or null between legs. */
  get direction(): MediaDirection | null {
    return this.#pipeline ? this.#direction : null;
  }

  /** The running leg's statistics, or `null` between legs. */
  stats(): MediaStats | null {
    return this.#pipeline?.stats() ?? null;
  }

  /** Stops the leg and releases the socket; calling it again is harmless. */
  async close(): Promise<void> {
    this.stop();
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  /** [G-3] A two-way leg silent for 2 s while sending is said once ('silent'). */
  #checkSilence(p: MediaPipeline, now: number): void {
    if (!this.#watch?.check(now)) return;
    this.#o.log.info(
      { remote: this.#remote, received: p.received },
      'no media from the peer for 2 s while sending',
    );
    this.emit('silent');
  }

  #tick = (): void => this.#play(1);

  /** Plays every frame due within `slackMs`, then sleeps until the next (drift-free). */
  #play(slackMs: number): void {
    const p = this.#pipeline;
    if (!p) return;
    const now = this.#clock.now();
    for (let n = 0; this.#due <= now + slackMs; n++) {
      if (n === MAX_CATCH_UP) {
        this.#due = p.nextPlayoutAt(now);
        break;
      }
      this.#o.sink(p.playoutFrame(now), p.lastPlayout);
      if (this.#pipeline !== p) return; // the sink ended the leg
      this.#due = p.nextPlayoutAt(this.#due);
    }
    this.#playout = this.#clock.setTimeout(this.#tick, Math.max(1, Math.round(this.#due - now)));
    this.#checkSilence(p, now);
  }
}
