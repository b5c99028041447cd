import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { Text } from '../../protocol/codes.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { asciiLower, normalizeName } from '../../protocol/names.ts';
import { SRTP_SUITE } from '../../protocol/srtp/index.ts';
import {
  BadArgumentsError,
  formatLine,
  isBareToken,
  parseRequest,
} from '../../protocol/text/codec.ts';
import { type FramerEvent, LineFramer } from '../../protocol/text/framer.ts';
import type { HubContext } from '../context.ts';
import { CallError, type Session } from '../core/call-core.ts';
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
import { AccountError } from '../store/accounts.ts';
import { callGroup, pageGroup, relayCall, type TextScope } from './group-verbs.ts';

/** [T-5] Verbs allowed before CONNECT. */
const OPEN_VERBS = new Set(['NEW', 'CONNECT', 'OUT', 'PING']);

/** Argument counts per verb: [min, max]. */
const ARITY: Record<string, readonly [number, number]> = {
  NEW: [1, 2],
  CONNECT: [1, 3],
  OUT: [0, 0],
  USERS: [0, 0],
  CALL: [1, 1],
  ACCEPT: [1, 1],
  HANGUP: [1, 1],
  CALLED: [1, 1],
  PING: [0, 1],
  DND: [1, 1],
  PAGE: [1, 1], // [G-2] extension
  RELAY: [1, 1], // [G-3] extension
};

/** A request value echoed back on the wire must be one bare token; anything else is shown as `-`. */
function echo(value: string): string {
  return isBareToken(value) && value.length <= 64 ? value : '-';
}

/** The text dialect (default port 4242): serves each connection it is handed. */
export function textHandler(ctx: HubContext): Handle {
  return (stream, peer) => {
    const log = ctx.log.child({ mod: 'text', peer: peerLabel(peer) });
    const watch = watchLogin(ctx, stream, peer, log); // [S-8]
    if (watch) new TextConnection(ctx, stream, peer, log, watch);
  };
}

/**
 * One text-dialect connection over any duplex stream: reads lines [T-1], runs one request
 * at a time in order, answers with reply codes [T-3], and writes the call core's events as
 * `105`/`106`/`107`.
 */
export class TextConnection implements SessionSink {
  readonly #ctx: HubContext;
  readonly #peer: PeerAddress;
  readonly #log: Logger;
  readonly #watch: LoginWatch;
  readonly #framer = new LineFramer();
  readonly #write: (data: string) => boolean;
  /** Lines and framing errors, answered one at a time in stream order [T-1]. */
  readonly #pump: RequestPump<FramerEvent>;
  #session: Session | null = null;

  constructor(ctx: HubContext, stream: Duplex, peer: PeerAddress, log: Logger, watch: LoginWatch) {
    this.#ctx = ctx;
    this.#peer = peer;
    this.#log = log;
    this.#watch = watch;
    this.#write = guardStream(stream, ctx.clock, ctx.limits, this.#log);
    this.#pump = new RequestPump(stream, ctx.clock, ctx.limits, (ev) => this.#onEvent(ev));
    // Framing errors queue behind the lines before them, so that every answer keeps its
    // request's place in the stream, however long an earlier request takes [T-1].
    stream.on('data', (chunk: Buffer) => {
      if (!this.#pump.closing) this.#pump.push(this.#framer.push(chunk));
    });
    stream.on('close', () => this.#onClose());
  }

  // --- SessionSink: events from the call core -------------------------------------------

  incomingCall(call: CallInfo): void {
    this.#send(Text.RINGING, call.caller.name);
  }

  callStarted(_call: CallInfo, peer: UserRef, media: Endpoint, srtp: SrtpKeys | null): void {
    this.#media(Text.MEDIA, peer.name, media, srtp);
  }

  /** [G-2] `111 <caller> <ip> <port> [keys]`: a page plays here at once (extension). */
  paged(_call: CallInfo, caller: UserRef, media: Endpoint, srtp: SrtpKeys | null): void {
    this.#media(Text.PAGED, caller.name, media, srtp);
  }

  /**
   * `106 <peer> <ip> <port>` (or `111`), the seed's form on a plaintext leg; on a TLS leg
   * followed by `AES_CM_128_HMAC_SHA1_80 <send> <recv>` [S-4] (an extension).
   */
  #media(code: number, name: string, media: Endpoint, srtp: SrtpKeys | null): void {
    const seed = [name, media.ip, media.port];
    if (!srtp) this.#send(code, ...seed);
    // Keys never reach the log, even at trace.
    else this.#emit(code, [...seed, SRTP_SUITE, srtp.send, srtp.recv], [...seed, SRTP_SUITE]);
  }

  /** What the section G verbs use of this connection (group-verbs.ts). */
  #scope(): TextScope {
    return {
      ctx: this.#ctx,
      session: this.#session!,
      send: (code, ...args) => this.#send(code, ...args),
      media: (code, name, media, srtp) => this.#media(code, name, media, srtp),
    };
  }

  callEnded(_call: CallInfo, peer: UserRef, reason: EndReason): void {
    this.#send(Text.ENDED, peer.name, reason);
  }

  replaced(): void {
    this.#log.info('replaced by a newer connection of the same user [T-8]');
    this.#session = null;
    this.#pump.close();
  }

  // --- input ------------------------------------------------------------------------------

  async #onEvent(ev: FramerEvent): Promise<void> {
    if (ev.kind === 'line') return this.#handle(ev.line);
    this.#send(ev.error.code, ev.error.reason);
    // [T-1] an overlong line closes the connection, reading nothing more; bad encoding
    // does not.
    if (ev.error.fatal) this.#pump.close({ stopReading: true });
  }

  async #handle(line: string): Promise<void> {
    let verb = '';
    try {
      const req = parseRequest(line);
      if (!req) return;
      verb = req.verb;
      const arity = ARITY[verb];
      if (!arity) {
        this.#send(Text.BAD_REQUEST, 'unknown_command', echo(verb));
        return;
      }
      if (req.args.length < arity[0] || req.args.length > arity[1]) {
        this.#send(Text.BAD_REQUEST, 'bad_arguments', verb);
        return;
      }
      if (!this.#session && !OPEN_VERBS.has(verb)) {
        this.#send(Text.NOT_CONNECTED, 'not_connected'); // [T-5]
        return;
      }
      await this.#dispatch(verb, req.args);
    } catch (err) {
      if (err instanceof BadArgumentsError) {
        // An unknown verb is reported as such, whatever its arguments look like.
        if (ARITY[err.verb]) this.#send(Text.BAD_REQUEST, 'bad_arguments', err.verb);
        else this.#send(Text.BAD_REQUEST, 'unknown_command', echo(err.verb));
      } else if (err instanceof ProtocolError && err.reason === 'unknown_command') {
        // A verb that cannot be echoed as one bare token is shown as `-` [T-3].
        this.#send(Text.BAD_REQUEST, 'unknown_command', '-');
      } else if (err instanceof ProtocolError) this.#send(err.code, err.reason);
      else {
        this.#log.error({ err, verb }, 'request failed');
        this.#send(Text.INTERNAL_ERROR, 'internal_error');
      }
    }
  }

  async #dispatch(verb: string, args: string[]): Promise<void> {
    const a0 = args[0] ?? '';
    switch (verb) {
      case 'NEW':
        return this.#new(a0, args[1]);
      case 'CONNECT':
        return this.#connect(a0, args[1], args[2]);
      case 'OUT':
        return this.#out();
      case 'USERS':
        return this.#users();
      case 'CALL':
        return this.#call(a0);
      case 'ACCEPT':
        return this.#accept(a0);
      case 'HANGUP':
        return this.#hangup(a0);
      case 'CALLED':
        return this.#called(a0);
      case 'DND':
        return this.#dnd(a0);
      case 'PAGE':
        return pageGroup(this.#scope(), a0, echo(asciiLower(a0)));
      case 'RELAY':
        return relayCall(this.#scope(), a0, echo(asciiLower(a0)));
      case 'PING':
        // [T-5 table] extension: liveness and round-trip measurement. The token comes back
        // as sent when it is one bare token (the line limit bounds it), else as `-`.
        if (args[0] !== undefined) this.#send(Text.PONG, isBareToken(args[0]) ? args[0] : '-');
        else this.#send(Text.PONG);
        return;
    }
  }

  // --- verbs ------------------------------------------------------------------------------

  async #new(rawName: string, secret: string | undefined): Promise<void> {
    const name = normalizeName(rawName); // [T-4]
    if (!name) return this.#send(Text.CREATE_REFUSED, echo(asciiLower(rawName)), 'invalid');
    const access = this.#ctx.access;
    // [S-6] closed registration, unless a pairing window is open
    if (!access.mayRegister) return this.#send(Text.CREATE_REFUSED, name, 'forbidden');
    // [S-6] outside open registration every account has a secret
    if (secret === undefined && !access.secretOptional) {
      return this.#send(Text.CREATE_REFUSED, name, 'invalid');
    }
    try {
      await this.#ctx.accounts.createUser(secret === undefined ? { name } : { name, secret });
      this.#log.info({ user: name }, 'user created');
      this.#send(Text.CREATED, name);
    } catch (err) {
      if (err instanceof AccountError)
        return this.#send(
          Text.CREATE_REFUSED,
          name,
          err.reason === 'exists' ? 'exists' : 'invalid',
        );
      throw err;
    }
  }

  async #connect(
    rawName: string,
    rawPort: string | undefined,
    secret: string | undefined,
  ): Promise<void> {
    const name = normalizeName(rawName);
    if (!name) return this.#send(Text.NOT_CONNECTED, echo(asciiLower(rawName)), 'invalid');
    if (this.#session) return this.#send(Text.NOT_CONNECTED, name, 'already_connected');
    const port = rawPort === undefined ? 0 : Number(rawPort);
    if (!/^\d{1,5}$/.test(rawPort ?? '0') || port > 65535) {
      return this.#send(Text.BAD_REQUEST, 'bad_arguments', 'CONNECT');
    }
    const login = await this.#ctx.access.login({
      accounts: this.#ctx.accounts,
      address: this.#peer.address,
      account: name,
      user: this.#ctx.accounts.getByName(name),
      secret,
      spendOnUnknown: false,
      secretRequired: false,
      log: this.#log,
    });
    if (!login.ok) {
      // [S-7] a throttled attempt gets the reply of a wrong secret; [S-6] so does an
      // account without a secret outside open registration.
      return this.#send(
        Text.NOT_CONNECTED,
        name,
        login.reason === 'unknown' ? 'unknown' : 'bad_secret',
      );
    }
    const user = login.user;
    if (this.#pump.closing || this.#session) return;
    this.#watch.loggedIn(); // [S-8]
    const ref = { id: user.id, name: user.name };
    // [T-8] a name already online is taken over; [T-9] media = TCP source IP + declared port.
    this.#session = this.#ctx.core.attach(
      {
        user: ref,
        dialect: 'text',
        media: { ip: this.#peer.address, port },
        localIp: this.#peer.localAddress,
        secure: this.#peer.secure,
        sink: this,
      },
      () => this.#send(Text.CONNECTED, user.id, user.name),
    );
    this.#log.info({ user: name, mediaPort: port }, 'connected');
  }

  #out(): void {
    this.#send(Text.BYE);
    const session = this.#session;
    this.#session = null;
    // [T-5 table] the peer of any call hears `107 <me> disconnected`.
    if (session) this.#ctx.core.detach(session);
    this.#pump.close();
  }

  #users(): void {
    // [T-7] every known user, sorted by name, with its state.
    const entries = this.#ctx.accounts
      .listUsers()
      .map((u) => `${u.name}:${this.#ctx.core.stateOf(u.id)}`);
    this.#send(Text.USERS, ...entries);
  }

  async #call(rawTarget: string): Promise<void> {
    const session = this.#session!;
    const name = normalizeName(rawTarget);
    const target = name ? this.#ctx.accounts.getByName(name) : undefined;
    // [G-1] a group's name rings its members
    const group = name && !target ? this.#ctx.accounts.groups.get(name) : undefined;
    if (group) return callGroup(this.#scope(), group);
    if (!name || !target)
      return this.#send(Text.CALL_REFUSED, echo(name ?? asciiLower(rawTarget)), 'unknown');
    try {
      await this.#ctx.core.call(session, { id: target.id, name: target.name }, () =>
        this.#send(Text.CALLING, target.name),
      );
    } catch (err) {
      if (err instanceof CallError) return this.#send(Text.CALL_REFUSED, target.name, err.reason);
      throw err;
    }
  }

  #accept(rawCaller: string): void {
    const caller = normalizeName(rawCaller) ?? echo(asciiLower(rawCaller));
    try {
      this.#ctx.core.accept(this.#session!, { peer: caller }, (_c, peer, media, srtp) =>
        this.#media(Text.MEDIA, peer.name, media, srtp),
      );
    } catch (err) {
      if (!(err instanceof CallError)) throw err;
      this.#send(Text.CALL_REFUSED, caller, 'no_call');
    }
  }

  #hangup(rawPeer: string): void {
    const peerName = normalizeName(rawPeer) ?? echo(asciiLower(rawPeer));
    try {
      this.#ctx.core.hangup(this.#session!, { peer: peerName }, (_c, peer, reason) =>
        this.#send(Text.ENDED, peer.name, reason),
      );
    } catch (err) {
      if (!(err instanceof CallError)) throw err;
      this.#send(Text.CALL_REFUSED, peerName, 'no_call');
    }
  }

  /** Extension: `DND on|off` -> `110 on|off`; while on, calls to this user fail `busy`. */
  #dnd(value: string): void {
    const v = value.toLowerCase();
    if (v !== 'on' && v !== 'off') {
      this.#send(Text.BAD_REQUEST, 'bad_arguments', 'DND');
      return;
    }
    this.#ctx.core.setDoNotDisturb(this.#session!, v === 'on');
    this.#send(Text.DND, v);
  }

  #called(rawCaller: string): void {
    const caller = normalizeName(rawCaller) ?? echo(asciiLower(rawCaller));
    if (this.#ctx.core.ringingFrom(this.#session!, caller)) this.#send(Text.RINGING, caller);
    else this.#send(Text.CALL_REFUSED, caller, 'no_call');
  }

  // --- output and teardown ------------------------------------------------------------------

  #send(code: number, ...args: Array<string | number>): void {
    this.#emit(code, args, args);
  }

  /** Writes a reply; `logged` is what a trace log shows of its arguments. */
  #emit(code: number, args: Array<string | number>, logged: Array<string | number>): void {
    if (this.#log.isLevelEnabled('trace')) this.#log.trace({ code, args: logged }, 'send');
    this.#write(formatLine(code, ...args));
  }

  #onClose(): void {
    const session = this.#session;
    this.#session = null;
    if (session) {
      this.#ctx.core.detach(session);
      this.#log.info('disconnected');
    }
  }
}
