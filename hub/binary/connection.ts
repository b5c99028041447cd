import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type Fields, formatFields, parseFields } from '../../protocol/binary/fields.ts';
import { encodeResponse, type RequestFrame, RequestParser } from '../../protocol/binary/frame.ts';
import { Status } from '../../protocol/codes.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { normalizeName } from '../../protocol/names.ts';
import type { HubContext } from '../context.ts';
import type { Session } from '../core/call-core.ts';
import type {
  CallInfo,
  Endpoint,
  EndReason,
  SessionSink,
  SrtpKeys,
  UserRef,
} from '../core/types.ts';
import { type Handle, type PeerAddress, peerLabel } from '../net/address.ts';
import { guardStream } from '../net/guard.ts';
import { type LoginWatch, watchLogin } from '../net/prelogin.ts';
import { RequestPump } from '../net/request-pump.ts';
import type { UserRecord } from '../store/accounts.ts';
import { accountRoutes } from './account-routes.ts';
import { callRoutes } from './call-routes.ts';
import { CallChannels, type ChannelEnd } from './channels.ts';
import { groupRoutes, srtpFields } from './group-routes.ts';
import { Refusal, type Route, type RouteScope, unauthorized } from './route.ts';

const ROUTES: Record<string, Route> = { ...accountRoutes, ...callRoutes, ...groupRoutes };

/**
 * The binary dialect (default port 4243): serves each connection it is handed. Its
 * connections share the call channels [B-8], dropped when their call ends.
 */
export function binaryHandler(ctx: HubContext): Handle {
  const channels = new CallChannels();
  ctx.core.observe({
    call: (e) => {
      if (e.event === 'ended') channels.endCall(e.call.id);
    },
  });
  return (stream, peer) => {
    const log = ctx.log.child({ mod: 'binary', peer: peerLabel(peer) });
    const watch = watchLogin(ctx, stream, peer, log); // [S-8]
    if (watch) new BinaryConnection(ctx, channels, stream, peer, log, watch);
  };
}

/**
 * One binary-dialect connection over any duplex stream [B-1..B-9]: frames in, one request
 * at a time, response frames out, and the core's events pushed as status-100 frames [B-7].
 * The routes live in account-routes.ts and call-routes.ts.
 */
export class BinaryConnection implements SessionSink, ChannelEnd, RouteScope {
  readonly ctx: HubContext;
  readonly log: Logger;
  readonly #channels: CallChannels;
  readonly #peer: PeerAddress;
  readonly #watch: LoginWatch;
  readonly #parser: RequestParser;
  readonly #write: (data: Buffer) => boolean;
  /** Frames and decoder errors, answered one at a time in request order [B-2]. */
  readonly #pump: RequestPump<RequestFrame | ProtocolError>;
  /** True while this connection re-binds its own user: its old session is not a takeover. */
  #rebinding = false;
  #session: Session | null = null;
  /** [B-8] Set once `/connect_call` made this connection a call channel. */
  #channel: { callId: string; user: UserRecord } | null = null;

  constructor(
    ctx: HubContext,
    channels: CallChannels,
    stream: Duplex,
    peer: PeerAddress,
    log: Logger,
    watch: LoginWatch,
  ) {
    this.ctx = ctx;
    this.#channels = channels;
    this.#peer = peer;
    this.#watch = watch;
    this.log = log;
    this.#parser = new RequestParser(ctx.limits.maxFrame);
    this.#write = guardStream(stream, ctx.clock, ctx.limits, this.log);
    this.#pump = new RequestPump(stream, ctx.clock, ctx.limits, (f) => this.#onFrame(f));
    // Decoder errors queue behind the frames before them, so that every answer, a 400
    // included, comes in request order [B-2]: a client matches answers by their order.
    stream.on('data', (chunk: Buffer) => {
      if (this.#pump.closing) return;
      this.#pump.push(
        this.#parser.push(chunk).map((ev) => (ev.kind === 'error' ? ev.error : ev.frame)),
      );
    });
    stream.on('close', () => this.#onClose());
  }

  // --- SessionSink and ChannelEnd ---------------------------------------------------------

  incomingCall(call: CallInfo): void {
    this.#event({
      event: 'called',
      call_id: call.id,
      from_id: call.caller.id,
      from_name: call.caller.name,
      ...(call.group ? { group: call.group } : {}), // [G-1] extension
    });
  }

  callStarted(call: CallInfo, peer: UserRef, media: Endpoint, srtp: SrtpKeys | null): void {
    this.#event({
      event: 'call_started',
      call_id: call.id,
      peer_id: peer.id,
      peer_name: peer.name,
      ip: media.ip,
      port: String(media.port),
      ...srtpFields(srtp), // [S-4] on a TLS session only (an extension)
    });
  }

  /** [G-2] A page plays here at once: event `paged` (extension). */
  paged(call: CallInfo, caller: UserRef, media: Endpoint, srtp: SrtpKeys | null): void {
    this.#event({
      event: 'paged',
      call_id: call.id,
      from_id: caller.id,
      from_name: caller.name,
      ...(call.group ? { group: call.group } : {}),
      ip: media.ip,
      port: String(media.port),
      ...srtpFields(srtp),
    });
  }

  callEnded(call: CallInfo, _peer: UserRef, reason: EndReason): void {
    this.#event({ event: 'call_ended', call_id: call.id, reason });
  }

  replaced(): void {
    if (this.#rebinding) return; // our own session, replaced by this connection [T-8]
    this.log.info('replaced by a newer login of the same user [T-8]');
    this.#session = null;
    this.#pump.close();
  }

  deliverPackets(fields: Fields): boolean {
    return this.#event({ event: 'packets', ...fields });
  }

  // --- input ------------------------------------------------------------------------------

  async #onFrame(f: RequestFrame | ProtocolError): Promise<void> {
    if (!(f instanceof ProtocolError)) return this.#handle(f.header, f.route, f.data);
    this.respond(f.code, { error: f.reason });
    // [B-3] frame_too_large closes the connection, reading nothing more
    if (f.fatal) this.#pump.close({ stopReading: true });
  }

  async #handle(rawHeader: string, route: string, rawData: string): Promise<void> {
    try {
      if (!route.startsWith('/')) throw new Refusal(Status.BAD_REQUEST, 'bad_route'); // [B-3]
      const handler = ROUTES[route];
      if (!handler) throw new Refusal(Status.NOT_FOUND, 'unknown_route');
      await handler(this, parseFields(rawHeader), parseFields(rawData));
    } catch (err) {
      if (err instanceof Refusal)
        this.respond(err.status, err.error === null ? {} : { error: err.error });
      else if (err instanceof ProtocolError) this.respond(err.code, { error: err.reason });
      else {
        this.log.error({ err, route }, 'request failed');
        this.respond(Status.INTERNAL_ERROR, { error: 'internal_error' });
      }
    }
  }

  // --- RouteScope: what the routes use ------------------------------------------------------

  get closing(): boolean {
    return this.#pump.closing;
  }

  auth(h: Fields): UserRecord {
    const id = h.id;
    const token = h.token;
    if (id === undefined || token === undefined) throw unauthorized();
    const user = this.ctx.accounts.getById(id);
    if (!user || !this.ctx.accounts.checkToken(id, token)) throw unauthorized();
    this.#watch.loggedIn(); // [S-8] a valid token logs a connection in (call channels [B-8])
    return user;
  }

  get peerAddress(): string {
    return this.#peer.address;
  }

  findByMail(mail: string): UserRecord | undefined {
    const accounts = this.ctx.accounts;
    if (mail.includes('@')) return accounts.getByEmail(mail); // the store folds ASCII case [T-4]
    const name = normalizeName(mail);
    return name ? accounts.getByName(name) : undefined;
  }

  /**
   * [T-8: a newer login takes over.] A login of the user this connection already serves is
   * no takeover: the connection stays, and so does a call in progress (the new media port
   * then applies from the next call).
   */
  bind(user: UserRecord, port: number, reply: () => void): void {
    this.#watch.loggedIn(); // [S-8]
    const mine = this.#session;
    if (mine && this.ctx.core.isCurrent(mine)) {
      if (mine.user.id !== user.id) this.ctx.core.detach(mine);
      else if (this.ctx.core.callOf(mine)) {
        reply();
        return;
      }
    }
    this.#rebinding = true;
    try {
      this.#session = this.ctx.core.attach(
        {
          user: { id: user.id, name: user.name },
          dialect: 'binary',
          media: { ip: this.#peer.address, port },
          localIp: this.#peer.localAddress,
          secure: this.#peer.secure,
          sink: this,
        },
        reply,
      );
    } finally {
      this.#rebinding = false;
    }
  }

  sessionFor(user: UserRecord): Session {
    const existing = this.ctx.core.sessionOf(user.id);
    if (existing) return existing;
    this.bind(user, 0, () => {});
    return this.#session!;
  }

  endSessionOf(userId: string): void {
    const session = this.ctx.core.sessionOf(userId);
    if (session) this.ctx.core.detach(session);
    if (this.#session === session) this.#session = null;
  }

  get channel(): { readonly callId: string; readonly user: UserRecord } | null {
    return this.#channel;
  }

  joinChannel(callId: string, user: UserRecord): void {
    if (this.#channel) this.#channels.close(this.#channel.callId, this.#channel.user.id, this);
    this.#channel = { callId, user };
    this.#channels.open(callId, user.id, this);
  }

  channelPeer(): ChannelEnd | undefined {
    const channel = this.#channel;
    return channel ? this.#channels.peerOf(channel.callId, channel.user.id) : undefined;
  }

  respond(status: number, fields: Fields | null, raw = ''): void {
    this.#write(encodeResponse(status, fields === null ? raw : formatFields(fields)));
  }

  // --- output and teardown ------------------------------------------------------------------

  /** [B-7] An event is a response frame with status 100. */
  #event(fields: Fields): boolean {
    return this.#write(encodeResponse(Status.EVENT, formatFields(fields)));
  }

  #onClose(): void {
    if (this.#channel) this.#channels.close(this.#channel.callId, this.#channel.user.id, this);
    const session = this.#session;
    this.#session = null;
    if (session) this.ctx.core.detach(session);
  }
}
