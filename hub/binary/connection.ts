import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { Logger } from 'pino';
import {
  type Fields,
  formatFields,
  formatRecords,
  parseFields,
} from '../../protocol/binary/fields.ts';
import { encodeResponse, type RequestFrame, RequestParser } from '../../protocol/binary/frame.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { normalizeName } from '../../protocol/names.ts';
import type { HubContext } from '../context.ts';
import { CallError, type Session } from '../core/call-core.ts';
import type { CallInfo, Endpoint, EndReason, SessionSink, UserRef } from '../core/types.ts';
import { plainIp } from '../net/address.ts';
import { guardSocket } from '../net/guard.ts';
import { RequestPump } from '../net/request-pump.ts';
import { AccountError, type UserRecord } from '../store/accounts.ts';
import { hashSecret, verifySecret } from '../store/crypto.ts';
import type { CallChannels, ChannelEnd } from './channels.ts';

/** A refusal the route handlers raise; turned into a response frame in one place. */
class Refusal extends Error {
  readonly status: number;
  readonly error: string | null;

  constructor(status: number, error: string | null = null) {
    super(`${status} ${error ?? ''}`);
    this.status = status;
    this.error = error;
  }
}

const unauthorized = () => new Refusal(401);

/** [B-8] Largest `/send` batch, in packets. */
const MAX_PACKETS = 1000;

type Handler = (header: Fields, data: Fields) => Promise<void> | void;

/**
 * One binary-dialect connection [B-1..B-9]: frames in, one request at a time, response
 * frames out, and the core's events pushed as status-100 frames [B-7].
 */
export class BinaryConnection implements SessionSink, ChannelEnd {
  readonly #ctx: HubContext;
  readonly #channels: CallChannels;
  readonly #socket: net.Socket;
  readonly #log: Logger;
  readonly #parser: RequestParser;
  readonly #write: (data: Buffer) => boolean;
  /** Frames and decoder errors in arrival order: each is answered in turn [B-2]. */
  /** Frames and decoder errors, answered one at a time in request order [B-2]. */
  readonly #pump: RequestPump<RequestFrame | ProtocolError>;
  readonly #routes: Record<string, Handler>;
  /** True while this connection re-binds its own user: its old session is not a takeover. */
  #rebinding = false;
  #session: Session | null = null;
  /** [B-8] Set once `/connect_call` made this connection a call channel. */
  #channel: { callId: string; user: UserRecord } | null = null;

  constructor(ctx: HubContext, channels: CallChannels, socket: net.Socket) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#socket = socket;
    this.#log = ctx.log.child({
      mod: 'binary',
      peer: `${plainIp(socket.remoteAddress)}:${socket.remotePort}`,
    });
    this.#parser = new RequestParser(ctx.limits.maxFrame);
    this.#write = guardSocket(socket, ctx.limits, this.#log);
    this.#routes = {
      '/create': (_h, d) => this.#create(d),
      '/login': (_h, d) => this.#login(d),
      '/logout': (_h, d) => this.#logout(d),
      '/delete': (h) => this.#delete(h),
      '/contacts': (h) => this.#contacts(h),
      '/add_contact': (h, d) => this.#addContact(h, d),
      '/remove_contact': (h, d) => this.#removeContact(h, d),
      '/call': (h, d) => this.#call(h, d),
      '/accept': (h, d) => this.#accept(h, d),
      '/hangup': (h, d) => this.#hangup(h, d),
      '/connect_call': (h, d) => this.#connectCall(h, d),
      '/send': (h, d) => this.#send(h, d),
    };
    this.#pump = new RequestPump(socket, ctx.limits, (f) => this.#onFrame(f));
    // Decoder errors queue behind the frames before them, so that every answer, a 400
    // included, comes in request order [B-2]: a client matches answers by their order.
    socket.on('data', (chunk: Buffer) =>
      this.#pump.push(
        this.#parser.push(chunk).map((ev) => (ev.kind === 'error' ? ev.error : ev.frame)),
      ),
    );
    socket.on('close', () => this.#onClose());
  }

  // --- SessionSink and ChannelEnd ---------------------------------------------------------

  incomingCall(call: CallInfo): void {
    this.#event({
      event: 'called',
      call_id: call.id,
      from_id: call.caller.id,
      from_name: call.caller.name,
    });
  }

  callStarted(call: CallInfo, peer: UserRef, media: Endpoint): void {
    this.#event({
      event: 'call_started',
      call_id: call.id,
      peer_id: peer.id,
      peer_name: peer.name,
      ip: media.ip,
      port: String(media.port),
    });
  }

  callEnded(call: CallInfo, _peer: UserRef, reason: EndReason): void {
    this.#event({ event: 'call_ended', call_id: call.id, reason });
  }

  replaced(): void {
    if (this.#rebinding) return; // our own session, replaced by this connection [T-8]
    this.#log.info('replaced by a newer login of the same user [T-8]');
    this.#session = null;
    this.#pump.close();
  }

  deliverPackets(fields: Fields): boolean {
    return this.#event({ event: 'packets', ...fields });
  }

  // --- input ------------------------------------------------------------------------------

  async #onFrame(f: RequestFrame | ProtocolError): Promise<void> {
    if (!(f instanceof ProtocolError)) return this.#handle(f.header, f.route, f.data);
    this.#respond(f.code, { error: f.reason });
    if (f.fatal) this.#pump.close(); // [B-3] frame_too_large closes the connection
  }

  async #handle(rawHeader: string, route: string, rawData: string): Promise<void> {
    try {
      if (!route.startsWith('/')) throw new Refusal(400, 'bad_route'); // [B-3]
      const handler = this.#routes[route];
      if (!handler) throw new Refusal(404, 'unknown_route');
      await handler(parseFields(rawHeader), parseFields(rawData));
    } catch (err) {
      if (err instanceof Refusal)
        this.#respond(err.status, err.error === null ? {} : { error: err.error });
      else if (err instanceof ProtocolError) this.#respond(err.code, { error: err.reason });
      else {
        this.#log.error({ err, route }, 'request failed');
        this.#respond(500, { error: 'internal_error' });
      }
    }
  }

  // --- accounts -----------------------------------------------------------------------------

  async #create(d: Fields): Promise<void> {
    const mail = required(d, 'user_mail');
    const pass = required(d, 'pass');
    if (this.#ctx.limits.registration === 'closed') throw new Refusal(403, 'forbidden');
    // [B-5] extension: an optional `name`; otherwise derived from the e-mail.
    let name: string | undefined;
    if (d.name !== undefined) {
      name = normalizeName(d.name) ?? undefined;
      if (!name) throw new Refusal(403, 'invalid_name');
    }
    const port = mediaPort(d);
    let user: UserRecord;
    try {
      user = await this.#ctx.accounts.createUser({ email: mail, secret: pass, name });
    } catch (err) {
      if (err instanceof AccountError)
        throw new Refusal(403, err.reason === 'exists' ? 'exists' : 'invalid');
      throw err;
    }
    this.#log.info({ user: user.name }, 'user created');
    // The client left during the hash: the account stays, but no session for a dead socket.
    if (this.#pump.closing) return;
    const token = this.#ctx.accounts.issueToken(user.id);
    this.#bind(user, port, () => this.#respond(201, { id: user.id, name: user.name, token }));
  }

  async #login(d: Fields): Promise<void> {
    const mail = required(d, 'user_mail');
    const pass = required(d, 'pass');
    const port = mediaPort(d);
    const user = this.#findByMail(mail);
    // An unknown user still costs one hash, so timing does not reveal which e-mails exist.
    const ok = user
      ? await this.#ctx.accounts.checkSecret(user.id, pass)
      : await verifySecret(pass, await dummyHash());
    if (!user || !ok) throw unauthorized();
    if (this.#pump.closing) return;
    // [B-9] a new token at each login.
    const token = this.#ctx.accounts.issueToken(user.id);
    this.#bind(user, port, () => this.#respond(200, { id: user.id, name: user.name, token }));
  }

  #logout(d: Fields): void {
    const user = this.#findByMail(required(d, 'user_mail'));
    const token = required(d, 'token');
    if (!user || !this.#ctx.accounts.checkToken(user.id, token)) throw unauthorized();
    this.#ctx.accounts.revokeTokens(user.id);
    this.#respond(200, {});
    const session = this.#ctx.core.sessionOf(user.id);
    if (session) this.#ctx.core.detach(session);
    if (this.#session === session) this.#session = null;
  }

  #delete(h: Fields): void {
    const user = this.#auth(h);
    // Committed before the 200 goes out, so an acknowledged delete survives kill -9.
    this.#ctx.accounts.deleteUser(user.id);
    this.#respond(200, {});
    const session = this.#ctx.core.sessionOf(user.id);
    if (session) this.#ctx.core.detach(session);
    if (this.#session === session) this.#session = null;
    this.#log.info({ user: user.name }, 'user deleted');
  }

  // --- contacts [B-6] -------------------------------------------------------------------------

  #contacts(h: Fields): void {
    const user = this.#auth(h);
    const records = this.#ctx.accounts.contactsOf(user.id).map((c) => ({
      id: c.user.id,
      name: c.user.name,
      status: c.accepted ? this.#ctx.core.stateOf(c.user.id) : 'pending',
    }));
    this.#respond(200, null, formatRecords(records));
  }

  #addContact(h: Fields, d: Fields): void {
    const user = this.#auth(h);
    const wanted = required(d, 'contact_email');
    // Extension: a bare name also finds users created by the text dialect (no e-mail).
    const contact = this.#findByMail(wanted);
    if (!contact) throw new Refusal(403, 'unknown');
    try {
      this.#ctx.accounts.addContact(user.id, contact.id);
    } catch (err) {
      if (err instanceof AccountError) throw new Refusal(403, err.reason);
      throw err;
    }
    this.#respond(200, {});
  }

  #removeContact(h: Fields, d: Fields): void {
    const user = this.#auth(h);
    const contactId = required(d, 'contact_id');
    if (!this.#ctx.accounts.removeContact(user.id, contactId))
      throw new Refusal(403, 'not_contact');
    this.#respond(200, {});
  }

  // --- calls ----------------------------------------------------------------------------------

  async #call(h: Fields, d: Fields): Promise<void> {
    const user = this.#auth(h);
    const target = this.#ctx.accounts.getById(required(d, 'contact_id'));
    if (!target) throw new Refusal(403, 'unknown');
    const session = this.#sessionFor(user);
    try {
      await this.#ctx.core.call(session, { id: target.id, name: target.name }, (call, media) =>
        this.#respond(200, { ip: media.ip, port: String(media.port), call_id: call.id }),
      );
    } catch (err) {
      if (err instanceof CallError) throw new Refusal(403, err.reason);
      throw err;
    }
  }

  #accept(h: Fields, d: Fields): void {
    const user = this.#auth(h);
    const callId = required(d, 'call_id', 404);
    const session = this.#ctx.core.sessionOf(user.id);
    if (!session) throw new Refusal(404, 'no_call');
    try {
      // The callee learns where to send media from its own `call_started`, after the 200.
      this.#ctx.core.accept(session, { callId }, (call, peer, media) => {
        this.#respond(200, {});
        session.spec.sink.callStarted(call, peer, media);
      });
    } catch (err) {
      if (err instanceof CallError) throw new Refusal(404, 'no_call');
      throw err;
    }
  }

  #hangup(h: Fields, d: Fields): void {
    const user = this.#auth(h);
    const callId = required(d, 'call_id', 404);
    const session = this.#ctx.core.sessionOf(user.id);
    if (!session) throw new Refusal(404, 'no_call');
    try {
      this.#ctx.core.hangup(session, { callId }, () => this.#respond(200, {}));
    } catch (err) {
      if (err instanceof CallError) throw new Refusal(404, 'no_call');
      throw err;
    }
  }

  /** [B-8] Makes this (new) connection the caller's channel for the call's `/send`s. */
  #connectCall(h: Fields, d: Fields): void {
    const user = this.#auth(h);
    const callId = required(d, 'call_id', 404);
    const session = this.#ctx.core.sessionOf(user.id);
    if (!session || this.#ctx.core.callOf(session)?.id !== callId)
      throw new Refusal(404, 'no_call');
    if (this.#channel) this.#channels.close(this.#channel.callId, this.#channel.user.id, this);
    this.#channel = { callId, user };
    this.#channels.open(callId, user.id, this);
    this.#respond(200, {});
  }

  /** [B-8] Forwards a batch of packets to the peer's call channel as a `packets` event. */
  #send(h: Fields, d: Fields): void {
    const user = this.#auth(h);
    const channel = this.#channel;
    const session = this.#ctx.core.sessionOf(user.id);
    if (!channel || channel.user.id !== user.id || !session) throw new Refusal(403, 'no_call');
    if (this.#ctx.core.callOf(session)?.id !== channel.callId) throw new Refusal(403, 'no_call');
    const type = required(d, 'type');
    const count = positiveInt(required(d, 'nb_packets'), MAX_PACKETS);
    const size = positiveInt(required(d, 'size_packet'), this.#ctx.limits.maxFrame);
    const packets = required(d, 'packets');
    if (count === null || size === null || decodedSize(packets) !== count * size) {
      throw new Refusal(403, 'bad_packets');
    }
    const peer = this.#channels.peerOf(channel.callId, user.id);
    if (!peer) throw new Refusal(403, 'peer_unreachable');
    this.#respond(200, {});
    peer.deliverPackets({ type, nb_packets: String(count), size_packet: String(size), packets });
  }

  // --- helpers -----------------------------------------------------------------------------

  /** [B-9] The user named by the header's `id` and `token`, or 401. */
  #auth(h: Fields): UserRecord {
    const id = h.id;
    const token = h.token;
    if (id === undefined || token === undefined) throw unauthorized();
    const user = this.#ctx.accounts.getById(id);
    if (!user || !this.#ctx.accounts.checkToken(id, token)) throw unauthorized();
    return user;
  }

  /** A user by e-mail, or (extension) by name for accounts made without one. */
  #findByMail(mail: string): UserRecord | undefined {
    const accounts = this.#ctx.accounts;
    if (mail.includes('@')) return accounts.getByEmail(mail); // the store folds ASCII case [T-4]
    const name = normalizeName(mail);
    return name ? accounts.getByName(name) : undefined;
  }

  /**
   * Makes this connection the user's live session [T-8: a newer login takes over]. A login
   * of the user this connection already serves is no takeover: the connection stays, and
   * so does a call in progress (the new media port then applies from the next call).
   */
  #bind(user: UserRecord, port: number, reply: () => void): void {
    const mine = this.#session;
    if (mine && this.#ctx.core.isCurrent(mine)) {
      if (mine.user.id !== user.id) this.#ctx.core.detach(mine);
      else if (this.#ctx.core.callOf(mine)) {
        reply();
        return;
      }
    }
    this.#rebinding = true;
    try {
      this.#session = this.#ctx.core.attach(
        {
          user: { id: user.id, name: user.name },
          dialect: 'binary',
          media: { ip: plainIp(this.#socket.remoteAddress), port },
          localIp: plainIp(this.#socket.localAddress),
          sink: this,
        },
        reply,
      );
    } finally {
      this.#rebinding = false;
    }
  }

  /** The user's live session, binding this connection if the user has none. */
  #sessionFor(user: UserRecord): Session {
    const existing = this.#ctx.core.sessionOf(user.id);
    if (existing) return existing;
    this.#bind(user, 0, () => {});
    return this.#session!;
  }

  #respond(status: number, fields: Fields | null, raw = ''): void {
    this.#write(encodeResponse(status, fields === null ? raw : formatFields(fields)));
  }

  /** [B-7] An event is a response frame with status 100. */
  #event(fields: Fields): boolean {
    return this.#write(encodeResponse(100, formatFields(fields)));
  }

  #onClose(): void {
    if (this.#channel) this.#channels.close(this.#channel.callId, this.#channel.user.id, this);
    const session = this.#session;
    this.#session = null;
    if (session) this.#ctx.core.detach(session);
  }
}

/**
 * A required data field; absent or empty is `403 missing_<key>`, `404` for `call_id`
 * (decision, docs/protocol.md: those routes fail only with 401 or 404).
 */
function required(d: Fields, key: string, status = 403): string {
  const v = d[key];
  if (v === undefined || v === '') throw new Refusal(status, `missing_${key}`);
  return v;
}

/** [B-8] Bytes `packets` decodes to, or -1 unless it is canonical padded base64. */
function decodedSize(packets: string): number {
  // Buffer.from skips characters outside the alphabet; re-encoding shows they were there.
  const bytes = Buffer.from(packets, 'base64');
  return bytes.toString('base64') === packets ? bytes.length : -1;
}

let dummy: Promise<string> | undefined;

/** A password hash of nothing anyone knows, to spend one hash on unknown e-mails [B-9]. */
function dummyHash(): Promise<string> {
  dummy ??= hashSecret(randomBytes(16).toString('base64'));
  return dummy;
}

/** Extension: `/create` and `/login` may declare a UDP media port; absent means relay [T-9]. */
function mediaPort(d: Fields): number {
  if (d.media_port === undefined) return 0;
  const n = positiveInt(d.media_port, 65535);
  if (n === null) throw new Refusal(400, 'bad_media_port');
  return n;
}

function positiveInt(s: string, max: number): number | null {
  if (!/^\d{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= max ? n : null;
}
