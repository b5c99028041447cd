/**
 * The device's media session on the babel-media addon's thread (issue 15): the same surface
 * as `MediaSession` (session.ts), but capture, Opus, RTP/SRTP, the jitter buffer and playout
 * all run on one native thread, so a call no longer wakes the event loop for every frame
 * and packet (docs/benchmarks.md: those wake-ups cost more than all of Opus). JavaScript
 * keeps the decisions: when a leg starts and stops, its keys [S-4], the key presses, the
 * statistics every `statsIntervalMs`, and what the thread reports (a key from the peer,
 * G-3's silence, a microphone that fails and comes back).
 *
 * `mediaEngineFor()` (engine-choice.ts) says whether a device's setup is one the thread covers; the agent
 * falls back to `MediaSession` (with its reason logged) where it does not.
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { parseMasterKey } from '../../protocol/srtp/index.ts';
import { type Clock, realClock, type Timer } from '../../shared/clock.ts';
import { CAPTURE_HINT } from '../audio/index.ts';
import { formatSpec } from '../audio/spec.ts';
import { within } from '../audio/types.ts';
import { type DtmfKey, isDtmfKey } from './dtmf.ts';
import type {
  Engine,
  EngineCapture,
  EngineEcho,
  EngineModule,
  EnginePlayback,
} from './engine-api.ts';
import type { MediaPipelineOptions, MediaStats } from './pipeline-types.ts';
import type { MediaDirection, MediaSessionEvents } from './session.ts';

/** The keep-alive timer's period: it only holds the event loop, it never has work. */
const KEEP_ALIVE_MS = 2 ** 30;
/** How long `close()` waits for the thread's 'close' before going on. */
const CLOSE_WAIT_MS = 2000;
/** How often a microphone that stays unavailable is summed up at warn. */
const MIC_SUMMARY_MS = 300_000;

export * from './engine-api.ts';
export * from './engine-choice.ts';

export interface NativeMediaSessionOptions {
  log: Logger;
  module: EngineModule;
  capture: EngineCapture;
  playback: EnginePlayback;
  echo?: EngineEcho;
  clock?: Clock;
  /** UDP port to bind; 0 (default) takes any free port [T-9]. */
  port?: number;
  host?: string;
  pipeline?: Omit<MediaPipelineOptions, 'remote' | 'log' | 'srtp' | 'rtp'>;
  /** Interval of the 'stats' event during a leg. Default 5000. */
  statsIntervalMs?: number;
}

/** `MediaSession`'s surface over the native thread; see the file comment. */
export class NativeMediaSession extends EventEmitter<MediaSessionEvents> {
  readonly #o: NativeMediaSessionOptions;
  readonly #clock: Clock;
  #engine: Engine | null = null;
  #direction: MediaDirection | null = null;
  #remote: { ip: string; port: number } = { ip: '', port: 0 };
  #statsTimer: Timer | null = null;
  #closed = false;
  #closedEvent: Promise<void> | null = null;
  /**
   * Holds the process open while the session is, as the JS loop's bound dgram socket does:
   * the thread's socket is not a handle of the event loop, and a device whose hub is down
   * (its link only retrying on timers that do not hold the process) must not exit.
   */
  #keepAlive: ReturnType<typeof setInterval> | null = null;
  readonly #micLog: Logger;
  readonly #mic = { failures: 0, since: 0, summedAt: 0 };

  constructor(opts: NativeMediaSessionOptions) {
    super();
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#micLog = opts.log.child({ capture: formatSpec(opts.capture) });
  }

  /** Binds the socket and starts the thread; resolves with the port. Rejects on a bind error. */
  async open(): Promise<number> {
    const p = this.#o.pipeline ?? {};
    const frameMs = p.frameMs ?? 20;
    let closed!: () => void;
    this.#closedEvent = new Promise((resolve) => {
      closed = resolve;
    });
    const codec = p.codec ?? {};
    this.#engine = new this.#o.module.Engine(
      {
        host: this.#o.host ?? '0.0.0.0',
        port: this.#o.port ?? 0,
        frameMs,
        bitrate: codec.bitrate ?? 24000,
        complexity: codec.complexity ?? 5,
        fec: codec.fec ?? true,
        packetLossPercent: codec.packetLossPercent ?? 10,
        jitter: { initialDepthMs: 2 * frameMs, ...p.jitter },
        dtmfDurationMs: p.dtmfDurationMs ?? 100,
        playoutGuardMs: p.playoutGuardMs ?? 1,
        capture: this.#o.capture,
        playback: this.#o.playback,
        ...(this.#o.echo ? { echo: this.#o.echo } : {}),
      },
      (kind, arg) => this.#event(kind, arg, closed),
    );
    this.#keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
    this.#o.log.info(
      { port: this.#engine.port, capture: this.#o.capture.kind, playback: this.#o.playback.kind },
      'media engine: native',
    );
    return this.#engine.port;
  }

  get port(): number {
    return this.#engine?.port ?? 0;
  }

  /**
   * Starts a call leg (see `MediaSession.start`). Throws `SrtpKeyError` for a key that is
   * not base64 of 30 bytes [S-4] (checked before: device/hub/events.ts).
   */
  start(
    remote: { ip: string; port: number },
    srtp: { readonly send: string; readonly recv: string } | null = null,
    direction: MediaDirection = 'both',
  ): void {
    const engine = this.#engine;
    if (!engine || this.#closed) throw new Error('media session: open() before start()');
    this.stop();
    const keys = srtp ? { send: parseMasterKey(srtp.send), recv: parseMasterKey(srtp.recv) } : null;
    // [M-1] a random SSRC, first sequence number and timestamp per leg
    engine.start({
      ip: remote.ip,
      port: remote.port,
      direction,
      srtp: keys,
      ssrc: randomInt(0, 0x1_0000_0000),
      sequence: randomInt(0, 0x10000),
      timestamp: randomInt(0, 0x1_0000_0000),
    });
    keys?.send.fill(0);
    keys?.recv.fill(0);
    this.#remote = { ...remote };
    this.#direction = direction;
    const every = this.#o.statsIntervalMs ?? 5000;
    this.#statsTimer = this.#clock.setInterval(() => {
      const s = engine.stats();
      if (s) this.emit('stats', s);
    }, every);
    this.#o.log.debug({ remote, srtp: srtp !== null, direction }, 'media leg started');
  }

  /** Ends the leg (if any): a last 'stats'; returns those statistics. */
  stop(): MediaStats | null {
    if (this.#direction === null) return null;
    this.#direction = null;
    this.#statsTimer?.cancel();
    this.#statsTimer = null;
    const stats = this.#engine?.stop() ?? null;
    if (stats) {
      this.#o.log.debug({ stats }, 'media leg ended');
      this.emit('stats', stats);
    }
    return stats;
  }

  /** The thread reads the microphone itself: frames from JavaScript are not taken. */
  sendFrame(_pcm: Buffer): void {}

  /** Sends a key press to the peer (RFC 4733); ignored between legs and while paged. */
  pressKey(key: DtmfKey): void {
    if (!isDtmfKey(key)) throw new RangeError(`dtmf: not a DTMF key: ${JSON.stringify(key)}`);
    if (this.#direction !== null && this.#direction !== 'receive') this.#engine?.pressKey(key);
  }

  get direction(): MediaDirection | null {
    return this.#direction;
  }

  stats(): MediaStats | null {
    return this.#direction === null ? null : (this.#engine?.stats() ?? null);
  }

  /** Where the thread plays from the next frame: aplay's new pipe, or nowhere while it is down. */
  setPlayback(playback: EnginePlayback): void {
    if (!this.#closed) this.#engine?.setPlayback(playback);
  }

  /** The call's speaker volume, 0..100, from the next frame. */
  setSpeakerVolume(volume: number): void {
    if (!this.#closed) this.#engine?.setSpeakerVolume(volume);
  }

  /**
   * Stops the leg, the thread and the socket; resolves when the thread says it has ended,
   * or after `CLOSE_WAIT_MS` (logged) should that word not come: a stop never hangs on it.
   */
  async close(): Promise<void> {
    this.stop();
    if (this.#closed || !this.#engine) return;
    this.#closed = true;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#engine.close();
    if (!(await within(this.#clock, CLOSE_WAIT_MS, this.#closedEvent!)))
      this.#o.log.warn('media engine: no word of its thread ending; going on');
  }

  /**
   * The thread's microphone, said as `ResilientCapture` says it for the JS loop (the same
   * lines, under the same `capture` field): the first failure of a streak warns with the
   * hint, the retries after it are at debug, summed up every 5 minutes.
   */
  #micEvent(c: { state: string; message?: string; retryInMs?: number }): void {
    const log = this.#micLog;
    const now = this.#clock.now();
    if (c.state === 'open') {
      log.info({ failures: this.#mic.failures }, 'audio device open');
      this.#mic.failures = 0;
      return;
    }
    const err = new Error(c.message ?? 'capture failed');
    if (++this.#mic.failures === 1) {
      this.#mic.since = now;
      this.#mic.summedAt = now;
      log.warn(
        { err, delayMs: c.retryInMs, hint: CAPTURE_HINT },
        'audio device unavailable; retrying until it is back',
      );
      return;
    }
    log.debug(
      { err, failures: this.#mic.failures, delayMs: c.retryInMs },
      'audio device unavailable',
    );
    if (now - this.#mic.summedAt < MIC_SUMMARY_MS) return;
    this.#mic.summedAt = now;
    log.warn(
      { failedAttempts: this.#mic.failures, forMs: now - this.#mic.since, lastError: err.message },
      'audio device still unavailable',
    );
  }

  #event(kind: string, arg: unknown, closed: () => void): void {
    const log = this.#o.log;
    switch (kind) {
      case 'dtmf':
        if (typeof arg === 'string' && isDtmfKey(arg)) this.emit('dtmf', arg);
        return;
      case 'silent':
        log.info({ remote: this.#remote }, 'no media from the peer for 2 s while sending');
        this.emit('silent'); // [G-3]
        return;
      case 'capture':
        this.#micEvent(arg as { state: string; message?: string; retryInMs?: number });
        return;
      case 'echo': {
        const e = arg as { event?: string; delayMs?: number };
        if (e.event === 'heard') log.info({ delayMs: e.delayMs }, 'echo heard: cancelling');
        else log.debug({ delayMs: e.delayMs }, 'echo delay measured');
        return;
      }
      case 'warning':
        log.warn({ reason: (arg as { message?: string })?.message }, 'media engine');
        return;
      case 'close':
        closed();
        return;
    }
  }
}
