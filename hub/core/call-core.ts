import type { Logger } from 'pino';
import { EndReason } from '../../protocol/codes.ts';
import { newMasterKey } from '../../protocol/srtp/index.ts';
import type { Clock } from '../../shared/clock.ts';
import {
  type Call,
  type CallSelector,
  isStandIn,
  type LiveSession,
  matches,
  otherSide,
  type Session,
  stateIn,
} from './call.ts';
import { placeCall } from './direct-call.ts';
import { CallError } from './errors.ts';
import {
  acceptGroup,
  type CoreParts,
  callGroup,
  type GroupRef,
  leaveGroup,
  page,
  releaseGroup,
} from './group-calls.ts';
import { moveToRelay } from './relay-move.ts';
import { srtpOf } from './srtp-keys.ts';
import type {
  CallEvent,
  CallInfo,
  CoreListener,
  CoreStats,
  Endpoint,
  PresenceEvent,
  RelayAllocator,
  RelayMode,
  SessionSpec,
  SrtpKeys,
  UserRef,
  UserState,
} from './types.ts';

export type { CallSelector, GroupRef, Session };
export { CallError };

export interface CallCoreOptions {
  clock: Clock;
  log: Logger;
  /** [T-10] How long a call may ring before it ends with `timeout`. */
  ringTimeoutMs: number;
  relayMode: RelayMode;
  relay: RelayAllocator | null;
  /** [S-4] Draws one SRTP master key (base64 of 30 random bytes); tests may fix them. */
  newKey?: () => string;
}

/**
 * The one call core under both dialects: who is online, who calls whom, ring timeouts,
 * busy rules, takeover, and why calls end. Every operation writes its reply (through the
 * `reply` callback) before it notifies anybody else [T-11].
 */
export class CallCore {
  readonly #opts: CallCoreOptions;
  readonly #sessions = new Map<string, LiveSession>();
  readonly #calls = new Map<string, Call>();
  readonly #listeners: CoreListener[] = [];
  readonly #stats: CoreStats = { groupCalls: 0, pages: 0, relayFallbacks: 0 };
  readonly #parts: CoreParts; // what group-calls.ts and its siblings use of this core

  constructor(opts: CallCoreOptions) {
    this.#opts = opts;
    this.#parts = {
      ...opts,
      newKey: opts.newKey ?? newMasterKey,
      sessions: this.#sessions,
      calls: this.#calls,
      stats: this.#stats,
      presence: (s) => this.#presence(s),
      emitCall: (kind, call, reason) => this.#emitCall(kind, call, reason),
      counted: () => this.#emitStats(),
      end: (call, reason, by, reply) => this.#end(call, reason, by, reply),
      drop: (call) => this.#drop(call),
      mediaFor: (call, side) => this.#mediaFor(call, side),
    };
  }

  /** [G-1..G-3] Counters since start: group calls, pages, relay fallbacks. */
  get stats(): Readonly<CoreStats> {
    return this.#stats;
  }

  /** Observes presence changes and call events (MQTT, logs). */
  observe(listener: CoreListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Binds a connection to its user. A user already online is taken over: the old session
   * is told `replaced()` and its call ends `disconnected` for the peer [T-8].
   * `reply` runs before the old session and any peer are notified [T-11].
   */
  attach(spec: SessionSpec, reply: () => void = noop): Session {
    const old = this.#sessions.get(spec.user.id);
    const session: LiveSession = {
      spec,
      user: spec.user,
      call: null,
      since: this.#opts.clock.wallNow(),
      closed: false,
      dnd: false,
    };
    this.#sessions.set(spec.user.id, session);
    reply();
    if (old) {
      old.closed = true;
      this.#endCallOf(old, EndReason.DISCONNECTED);
      old.spec.sink.replaced();
    }
    this.#presence(session);
    return session;
  }

  /** The connection is gone (closed, `OUT`, logout): its call ends `disconnected` [T-10]. */
  detach(session: Session, reply: () => void = noop): void {
    const live = session as LiveSession;
    if (live.closed) {
      reply();
      return;
    }
    live.closed = true;
    const current = this.#sessions.get(live.user.id) === live;
    if (current) this.#sessions.delete(live.user.id);
    reply();
    this.#endCallOf(live, EndReason.DISCONNECTED);
    if (current) this.#presence(live, 'offline');
  }

  /** True while this session is the user's live one (not replaced or detached). */
  isCurrent(session: Session): boolean {
    return !(session as LiveSession).closed;
  }

  /** The user's live session, if online. */
  sessionOf(userId: string): Session | undefined {
    return this.#sessions.get(userId);
  }

  /** [T-7] The user's state as others see it. */
  stateOf(userId: string): UserState {
    const s = this.#sessions.get(userId);
    if (!s) return 'offline';
    return stateIn(s);
  }

  /** The other party of the user's current call, if any. */
  peerOf(userId: string): UserRef | null {
    const s = this.#sessions.get(userId);
    if (!s?.call) return null;
    return otherSide(s.call, s).user;
  }

  /** The call this session is in (ringing or active), if any. */
  callOf(session: Session): CallInfo | null {
    const call = (session as LiveSession).call;
    return call && call.phase !== 'setup' ? call.info : null;
  }

  /** Users online now. */
  get online(): number {
    return this.#sessions.size;
  }

  /** Calls ringing or active now. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /**
   * Places a call [T-5 table, `CALL`]. Throws CallError `self`, `in_call`, `offline` or
   * `busy`. `reply` gets where the caller should send media: the callee's own address or
   * a relay port (binary `/call` returns it; text `104` does not carry it).
   */
  async call(
    from: Session,
    target: UserRef,
    reply: (call: CallInfo, media: Endpoint) => void,
  ): Promise<CallInfo> {
    return placeCall(this.#parts, this.#live(from), target, reply);
  }

  /**
   * The callee answers [T-5 table, `ACCEPT`]. Throws CallError `no_call`. `reply` gets the
   * caller and where the callee sends media; the caller is then told where to send its own.
   */
  accept(
    by: Session,
    which: CallSelector,
    reply: (call: CallInfo, peer: UserRef, media: Endpoint, srtp: SrtpKeys | null) => void,
  ): CallInfo {
    const callee = this.#live(by);
    const call = callee.call;
    // [G-1] a ringing group: the first member to answer wins
    if (
      call?.group?.kind === 'ring' &&
      call.phase === 'ringing' &&
      call.group.members.has(callee)
    ) {
      if (!matches(call, which, callee)) throw new CallError('no_call');
      return acceptGroup(this.#parts, call, callee, reply);
    }
    if (call?.phase !== 'ringing' || call.callee !== callee || !matches(call, which, callee)) {
      throw new CallError('no_call');
    }
    call.ringTimer?.cancel();
    call.ringTimer = null;
    call.phase = 'active';
    call.answeredAt = this.#opts.clock.now();
    reply(call.info, call.caller.user, this.#mediaFor(call, callee), srtpOf(call, callee));
    call.caller.spec.sink.callStarted(
      call.info,
      callee.user,
      this.#mediaFor(call, call.caller),
      srtpOf(call, call.caller),
    );
    this.#presence(call.caller);
    this.#presence(callee);
    this.#emitCall('started', call, null);
    return call.info;
  }

  /**
   * Either party hangs up [T-5 table, `HANGUP`; T-10]: `declined` by a ringing callee,
   * `cancelled` by a ringing caller, `ended` in a call. Throws CallError `no_call`.
   */
  hangup(
    by: Session,
    which: CallSelector,
    reply: (call: CallInfo, peer: UserRef, reason: EndReason) => void,
  ): CallInfo {
    const me = this.#live(by);
    const call = me.call;
    if (!call || call.phase === 'setup' || call.phase === 'over' || !matches(call, which, me)) {
      throw new CallError('no_call');
    }
    if (call.group?.members.has(me)) {
      // [G-1, G-2] a member declines a ring, or leaves a page; the others go on
      const reason = call.phase === 'ringing' ? EndReason.DECLINED : EndReason.ENDED;
      leaveGroup(this.#parts, call, me, reason, () => reply(call.info, call.caller.user, reason));
      return call.info;
    }
    const reason: EndReason =
      call.phase === 'active'
        ? EndReason.ENDED
        : call.callee === me
          ? EndReason.DECLINED
          : EndReason.CANCELLED;
    this.#end(call, reason, me, () => reply(call.info, otherSide(call, me).user, reason));
    return call.info;
  }

  /** Do not disturb (extension): while on, calls to this session fail `busy`. */
  setDoNotDisturb(session: Session, on: boolean): void {
    (session as LiveSession).dnd = on;
  }

  /** [T-5 table, `CALLED`] The call from `callerName` ringing at this session, if any. */
  ringingFrom(by: Session, callerName: string): CallInfo | null {
    const call = (by as LiveSession).call;
    const rings = call?.callee === by || call?.group?.members.has(by as LiveSession);
    if (call?.phase !== 'ringing' || !rings) return null;
    return call.caller.user.name === callerName ? call.info : null;
  }

  /** [G-1] Rings every reachable member of a group; the first to accept wins (group-calls.ts). */
  async callGroup(
    from: Session,
    group: GroupRef,
    reply: (call: CallInfo, media: Endpoint) => void,
  ): Promise<CallInfo> {
    return callGroup(this.#parts, this.#live(from), group, reply);
  }

  /** [G-2] Pages every reachable member of a group through the relay (group-calls.ts). */
  async page(
    from: Session,
    group: GroupRef,
    reply: (call: CallInfo, media: Endpoint, srtp: SrtpKeys | null) => void,
  ): Promise<CallInfo> {
    return page(this.#parts, this.#live(from), group, reply);
  }

  /** [G-3] Moves a direct call to the relay, with new media for both (relay-move.ts). */
  async relayCall(
    by: Session,
    which: CallSelector,
    reply: (call: CallInfo, peer: UserRef, media: Endpoint, srtp: SrtpKeys | null) => void,
  ): Promise<CallInfo> {
    return moveToRelay(this.#parts, this.#live(by), which, reply);
  }

  /** Ends every call with `ended` (hub shutdown) [interfaces: SIGTERM]. */
  endAll(): void {
    for (const call of [...this.#calls.values()]) {
      if (call.phase === 'setup') this.#drop(call);
      else this.#end(call, EndReason.ENDED, null);
    }
  }

  #live(session: Session): LiveSession {
    const live = session as LiveSession;
    if (live.closed) throw new CallError('no_call', 'session closed');
    return live;
  }

  /** [T-9] Where `side` sends its media and from where it will receive it. */
  #mediaFor(call: Call, side: LiveSession): Endpoint {
    if (call.relay) {
      return {
        ip: side.spec.localIp,
        port: side === call.caller ? call.relay.portA : call.relay.portB,
      };
    }
    return otherSide(call, side).spec.media;
  }

  #endCallOf(session: LiveSession, reason: EndReason): void {
    const call = session.call;
    if (!call) return;
    // [G-1, G-2] a member that leaves a group call leaves it alone
    if (call.group?.members.has(session)) leaveGroup(this.#parts, call, session, reason);
    else if (call.phase === 'setup') this.#drop(call);
    // [G-2] a pager that goes away ends its page `ended` for every member
    else this.#end(call, call.info.page ? EndReason.ENDED : reason, session);
  }

  /**
   * Ends a call. `by` is the party that caused it (it is answered through `reply`, not
   * notified); null notifies both (timeout, shutdown).
   */
  #end(call: Call, reason: EndReason, by: LiveSession | null, reply: () => void = noop): void {
    if (call.phase === 'over') return;
    const durationMs = call.phase === 'active' ? this.#opts.clock.now() - call.answeredAt : 0;
    const members = call.group ? [...call.group.members.keys()] : [];
    this.#release(call);
    reply();
    for (const side of [call.caller, call.callee]) {
      if (side !== by && !side.closed) {
        side.spec.sink.callEnded(call.info, otherSide(call, side).user, reason);
      }
    }
    // [G-1, G-2] every member still ringing or listening hears it from the caller
    for (const m of members) {
      if (m !== by && !m.closed) m.spec.sink.callEnded(call.info, call.caller.user, reason);
    }
    for (const side of [call.caller, call.callee, ...members]) {
      if (!side.closed && !isStandIn(side)) this.#presence(side);
    }
    this.#emitCall('ended', call, reason, durationMs);
  }

  /** Forgets a call still in setup: nobody was told of it yet. */
  #drop(call: Call): void {
    this.#release(call);
  }

  #release(call: Call): void {
    call.phase = 'over';
    call.ringTimer?.cancel();
    call.ringTimer = null;
    call.relay?.release();
    call.relay = null;
    releaseGroup(call);
    if (call.caller.call === call) call.caller.call = null;
    if (call.callee.call === call) call.callee.call = null;
    this.#calls.delete(call.info.id);
  }

  #presence(session: LiveSession, state: UserState = stateIn(session)): void {
    if (this.#listeners.length === 0) return;
    const since = this.#opts.clock.wallNow();
    session.since = since;
    const peer = session.call && state !== 'offline' ? otherSide(session.call, session).user : null;
    const event: PresenceEvent = { user: session.user, state, peer: peer?.name ?? null, since };
    for (const l of this.#listeners) l.presence?.(event);
  }

  #emitStats(): void {
    for (const l of this.#listeners) l.stats?.(this.#stats);
  }

  #emitCall(kind: CallEvent['event'], call: Call, reason: EndReason | null, durationMs = 0): void {
    const event: CallEvent = { event: kind, call: call.info, reason, durationMs };
    for (const l of this.#listeners) l.call?.(event);
  }
}

function noop(): void {}
