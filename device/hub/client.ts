import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { formatRequest, parseReply, type TextReply } from '../../protocol/text/codec.ts';
import { LineFramer } from '../../protocol/text/framer.ts';
import { Backoff } from '../../shared/backoff.ts';
import type { Clock, Timer } from '../../shared/clock.ts';
import { type CallEvent, type HubEvent, hubEvent, isCallEvent } from './events.ts';
import { TakeoverWatch } from './takeover.ts';

/** Replies can be longer than requests (the USERS list has every user); see docs/protocol.md. */
const MAX_REPLY_BYTES = 64 * 1024;
/** How long a closing link may take to say `OUT` before it is cut. */
const CLOSE_GRACE_MS = 500;

export interface HubClientOptions {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly secret: string | null;
  /** The UDP port this device sends and receives media on [T-9]; 0 asks the hub to relay. */
  readonly mediaPort: number;
  /** Create the account (`NEW`) when the hub does not know the name. */
  readonly autoCreate: boolean;
  readonly clock: Clock;
  readonly log: Logger;
  /** [T-12] Interval between PINGs; a PING unanswered for `replyTimeoutMs` drops the link. */
  readonly pingIntervalMs?: number;
  readonly replyTimeoutMs?: number;
  readonly backoff?: Backoff;
  readonly connectFn?: (port: number, host: string) => net.Socket;
  /**
   * [S-3] Signaling in TLS: `check` gets the hub's certificate (DER) on 'secureConnect'
   * and says whether it is trusted (device/hub/trust.ts); nothing is written before.
   * Absent: the seed's plaintext.
   */
  readonly tls?: HubTlsOptions;
}

export interface HubTlsOptions {
  readonly check: (der: Buffer) => boolean;
  readonly connectFn?: (options: tls.ConnectionOptions) => tls.TLSSocket;
}

export interface HubClientEvents {
  /** Registered: `CONNECT` answered `connected`. */
  online: [uuid: string];
  /** The link is down (the client reconnects by itself). */
  offline: [reason: string];
  /** A call event from the hub, for the call machine. */
  call: [event: CallEvent];
}

type Phase = 'stopped' | 'connecting' | 'registering' | 'online' | 'waiting';

/**
 * The device's link to the hub over the text dialect. Connects, registers with its media
 * port and secret, PINGs, and reconnects with backoff and jitter forever; it never gives
 * up and never throws because the hub or the network misbehaved.
 */
export class HubClient extends EventEmitter<HubClientEvents> {
  readonly #o: HubClientOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  #phase: Phase = 'stopped';
  #socket: net.Socket | null = null;
  #framer = new LineFramer(MAX_REPLY_BYTES);
  #retry: Timer | null = null;
  #ping: Timer | null = null;
  #pingDeadline: Timer | null = null;
  /** Whether this connection has sent `NEW` (at most once per connection). */
  #created = false;
  /** The refusal last logged, so a streak of the same one is logged once. */
  #refusal: string | null = null;
  /** [T-8] Notices the name being taken by another device, and backs off (takeover.ts). */
  readonly #takeover: TakeoverWatch;

  constructor(opts: HubClientOptions) {
    super();
    this.#o = opts;
    this.#log = opts.log;
    this.#backoff = opts.backoff ?? new Backoff({ minMs: 250, maxMs: 3000 });
    this.#takeover = new TakeoverWatch({ clock: opts.clock, log: opts.log, name: opts.name });
  }

  get online(): boolean {
    return this.#phase === 'online';
  }

  start(): void {
    if (this.#phase !== 'stopped') return;
    this.#connect();
  }

  /** Closes the link (sending `OUT` if registered) and stops reconnecting. */
  stop(): void {
    const wasOnline = this.#phase === 'online';
    this.#phase = 'stopped';
    this.#clearTimers();
    const s = this.#socket;
    this.#socket = null;
    if (s) {
      if (wasOnline) s.end(formatRequest('OUT'));
      else s.destroy();
      this.#o.clock.setTimeout(() => s.destroy(), CLOSE_GRACE_MS);
    }
  }

  /** Sends a call request; dropped (false) while not registered. */
  send(verb: string, ...args: string[]): boolean {
    if (this.#phase !== 'online' || !this.#socket) return false;
    this.#socket.write(formatRequest(verb, ...args));
    return true;
  }

  /** Whether signaling runs in TLS (so every call leg must be SRTP [S-4]). */
  get secure(): boolean {
    return this.#o.tls !== undefined;
  }

  #connect(): void {
    this.#phase = 'connecting';
    this.#created = false;
    this.#framer = new LineFramer(MAX_REPLY_BYTES);
    const socket = this.#open();
    this.#socket = socket;
    socket.setNoDelay(true);
    // A hub that restarted behind a half-open connection answers the first keepalive
    // probe with a reset, so the device notices within seconds, not at the next PING.
    socket.setKeepAlive(true, 2000);
    const ready = () => {
      if (this.#socket !== socket) return;
      // [S-3] The certificate is judged before anything (CONNECT, the secret) is written;
      // a refused one is closed and retried with the backoff, never in plaintext.
      if (this.#o.tls && !this.#trusted(socket as tls.TLSSocket)) {
        this.#drop('hub certificate refused');
        return;
      }
      this.#phase = 'registering';
      this.#register();
    };
    socket.on(this.#o.tls ? 'secureConnect' : 'connect', ready);
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('error', (err) => this.#linkError(socket, err));
    socket.on('close', () => this.#lost(socket, 'connection closed'));
  }

  #open(): net.Socket {
    const { host, port } = this.#o;
    if (!this.#o.tls) {
      const connectFn = this.#o.connectFn ?? ((p, h) => net.connect(p, h));
      return connectFn(port, host);
    }
    const options: tls.ConnectionOptions = {
      host,
      port,
      minVersion: 'TLSv1.2', // [S-1]
      // The hub's certificate is self-signed: trust is the pin or the first-use record.
      rejectUnauthorized: false,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
    };
    return (this.#o.tls.connectFn ?? tls.connect)(options);
  }

  #trusted(socket: tls.TLSSocket): boolean {
    const raw = socket.getPeerCertificate()?.raw;
    if (!raw || raw.length === 0) {
      this.#log.error('the hub presented no certificate: refused');
      return false;
    }
    return this.#o.tls!.check(raw);
  }

  #linkError(socket: net.Socket, err: Error): void {
    // A TLS handshake that fails is most often a plaintext port (4242) or an old hub
    // without TLS: said once per streak, with the way out.
    const handshaking = this.#o.tls && this.#phase === 'connecting' && this.#socket === socket;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (
      handshaking &&
      !/^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)$/.test(code)
    ) {
      const key = `tls ${code}`;
      if (this.#refusal !== key) {
        this.#refusal = key;
        const plain = this.#o.port === 4242;
        this.#log.warn(
          { err, hub: `${this.#o.host}:${this.#o.port}` },
          plain
            ? 'TLS handshake with the hub failed: 4242 is its plaintext port (loopback only); set hub to HOST for TLS on 4342, or tcp://HOST:4242 for a hub without TLS'
            : "TLS handshake with the hub failed: is this the hub's TLS port (4342)? A hub without TLS needs tcp://HOST in hub",
        );
        return;
      }
    }
    this.#log.debug({ err }, 'hub link error');
  }

  #register(): void {
    const { name, mediaPort, secret } = this.#o;
    const args = [name, String(mediaPort)];
    if (secret !== null) args.push(secret);
    this.#socket?.write(formatRequest('CONNECT', ...args));
    this.#armDeadline('no answer to CONNECT');
  }

  #onData(socket: net.Socket, chunk: Buffer): void {
    if (this.#socket !== socket) return;
    for (const ev of this.#framer.push(chunk)) {
      if (ev.kind === 'error') {
        this.#log.warn({ err: ev.error }, 'bad line from hub');
        if (ev.error.fatal) {
          this.#drop('line too long');
          return;
        }
        continue;
      }
      let reply: TextReply | null;
      try {
        reply = parseReply(ev.line);
      } catch {
        reply = null;
      }
      if (!reply) {
        this.#log.warn({ line: ev.line.slice(0, 80) }, 'unexpected line from hub');
        continue;
      }
      this.#onReply(reply);
    }
  }

  #onReply(reply: TextReply): void {
    // Any reply proves the link is alive.
    this.#pingDeadline?.cancel();
    this.#pingDeadline = null;
    const event = secured(hubEvent(reply), this.secure);
    if (this.#phase === 'registering') this.#onRegisterReply(event, reply);
    else if (!event) this.#log.warn(shown(reply), 'unexpected reply from hub');
    else if (event.kind === 'bad_media') {
      // Input from the hub is input too: refused, and the call machine hangs up.
      this.#log.warn(
        { ...shown(reply), reason: event.reason },
        'refused a media address from the hub',
      );
      if (this.#phase === 'online') this.emit('call', event);
    } else if (this.#phase === 'online' && isCallEvent(event)) this.emit('call', event);
  }

  #onRegisterReply(event: HubEvent | null, reply: TextReply): void {
    if (event?.kind === 'connected') {
      this.#phase = 'online';
      this.#backoff.reset();
      this.#refusal = null;
      this.#takeover.registered();
      this.#startPings();
      this.#log.info({ uuid: event.uuid }, 'registered with the hub');
      this.emit('online', event.uuid);
      return;
    }
    // [S-6] Unknown to the hub: a first start, or the account was deleted while we ran.
    // Create it (once per connection, so a hub that keeps forgetting is not asked in a
    // loop) with the secret, which the hub requires outside open registration.
    if (
      event?.kind === 'not_connected' &&
      event.reason === 'unknown' &&
      this.#o.autoCreate &&
      !this.#created
    ) {
      this.#created = true;
      const args = [this.#o.name];
      if (this.#o.secret !== null) args.push(this.#o.secret);
      this.#log.info({ name: this.#o.name }, 'unknown to the hub: creating the account');
      this.#socket?.write(formatRequest('NEW', ...args));
      this.#armDeadline('no answer to NEW');
      return;
    }
    if (
      event?.kind === 'created' ||
      (event?.kind === 'create_refused' && event.reason === 'exists')
    ) {
      this.#register();
      return;
    }
    // Not connected (bad_secret, unknown, invalid), create refused (forbidden): nothing will
    // change by itself, but the administrator may fix it, so keep trying with the backoff.
    // Said once per streak (and at debug after), not every few seconds.
    const key = `${reply.code} ${reply.args.join(' ')}`;
    if (this.#refusal !== key) {
      this.#refusal = key;
      const fix = refusalAdvice(event, this.#o.name, this.#o.autoCreate);
      if (fix) this.#log.warn(shown(reply), `hub refused registration: ${fix}`);
      else this.#log.error(shown(reply), 'hub refused registration');
    } else {
      this.#log.debug(shown(reply), 'hub refused registration again');
    }
    this.#drop(`refused: ${key}`);
  }

  #startPings(): void {
    const every = this.#o.pingIntervalMs ?? 30_000;
    this.#ping = this.#o.clock.setInterval(() => {
      this.#socket?.write(formatRequest('PING'));
      // The deadline runs from the oldest unanswered PING, not the latest.
      if (!this.#pingDeadline) this.#armDeadline('PING unanswered');
    }, every);
  }

  #armDeadline(why: string): void {
    this.#pingDeadline?.cancel();
    this.#pingDeadline = this.#o.clock.setTimeout(
      () => this.#drop(why),
      this.#o.replyTimeoutMs ?? 10_000,
    );
  }

  #drop(reason: string): void {
    const s = this.#socket;
    if (s) {
      this.#lost(s, reason);
      s.destroy();
    }
  }

  #lost(socket: net.Socket, reason: string): void {
    if (this.#socket !== socket) return;
    const wasOnline = this.#phase === 'online';
    this.#socket = null;
    this.#clearTimers();
    if (this.#phase === 'stopped') return;
    this.#phase = 'waiting';
    const held = wasOnline ? this.#takeover.lost(reason === 'connection closed') : null;
    const delay = held ?? this.#backoff.next();
    this.#log.info({ reason, retryInMs: delay }, 'hub link down');
    if (wasOnline) this.emit('offline', reason);
    this.#retry = this.#o.clock.setTimeout(() => {
      this.#retry = null;
      if (this.#phase === 'waiting') this.#connect();
    }, delay);
  }

  #clearTimers(): void {
    for (const t of [this.#retry, this.#ping, this.#pingDeadline]) t?.cancel();
    this.#retry = null;
    this.#ping = null;
    this.#pingDeadline = null;
  }
}

/**
 * [S-4] A TLS device never sends clear audio: a `106` without SRTP keys on a TLS link is
 * a media address it must not use, and the call machine hangs up. Nor does it play clear
 * audio anyone on the network could send it: a page (`111`) without keys there is refused
 * too, and not played [G-2].
 */
function secured(event: HubEvent | null, secure: boolean): HubEvent | null {
  if (!secure || (event?.kind !== 'media' && event?.kind !== 'paged') || event.srtp !== null)
    return event;
  const peer = event.kind === 'media' ? event.peer : event.caller;
  return { kind: 'bad_media', peer, reason: 'no SRTP keys on a TLS link' };
}

/** What an administrator does about a refusal that will not go away by itself. */
function refusalAdvice(event: HubEvent | null, name: string, autoCreate: boolean): string | null {
  if (event?.kind === 'create_refused' && event.reason === 'forbidden') {
    // [S-6] registration closed
    return (
      'registration is closed on the hub: run `babel-hub pair` there, or ' +
      `\`babel-hub user add ${name}\` and put its secret in this device's config`
    );
  }
  if (event?.kind === 'not_connected' && event.reason === 'unknown' && !autoCreate) {
    return (
      `the hub has no account ${name} and auto_create is off: run ` +
      `\`babel-hub user add ${name}\` there and put its secret in this device's config`
    );
  }
  if (event?.kind === 'not_connected' && event.reason === 'bad_secret') {
    return (
      `the hub refused this device's secret: set the secret of ${name} on the hub ` +
      `(\`babel-hub user secret ${name}\`) and put it in this device's config`
    );
  }
  return null;
}

/** A reply as logged: its code and at most 4 arguments of at most 64 characters each. */
function shown(reply: TextReply): { code: number; args: string[] } {
  return { code: reply.code, args: reply.args.slice(0, 4).map((a) => a.slice(0, 64)) };
}
