import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { EndReason } from '../../protocol/codes.ts';
import { newMasterKey } from '../../protocol/srtp/index.ts';
import type { Clock } from '../../shared/clock.ts';
import {
  type Call,
  type CallSelector,
  type LiveSession,
  matches,
  otherSide,
  relayByMode,
  type Session,
  stateIn,
} from './call.ts';
import { type CallKeys, drawCallKeys, srtpOf } from './srtp-keys.ts';
import { logTakeover } from './takeover-log.ts';
import type {
  CallEvent,
  CallFailure,
  CallInfo,
  Endpoint,
  PresenceEvent,
  RelayAllocator,
  RelayMode,
  SessionSpec,
  SrtpKeys,
  UserRef,
  UserState,
} from './types.ts';

export type { CallSelector, Session };

/** A refused call operation; `reason` is the wire token (`404 <name> <reason>`). */
export class CallError extends Error {
  readonly reason: CallFailure;

  constructor(reason: CallFailure, message?: string) {
    super(message ?? reason);
    this.name = 'CallError';
    this.reason = reason;
  }
}

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

type Listener = {
  presence?: (e: PresenceEvent) => void;
  call?: (e: CallEvent) => void;
};

/**
 * The one call core under both dialects: who is online, who calls whom, ring timeouts,
 * busy rules, takeover, and why calls end. Every operation writes its reply (through the
 * `reply` callback) before it notifies anybody else [T-11].
 */
export class CallCore {
  readonly #opts: CallCoreOptions;
  readonly #sessions = new Map<string, LiveSession>();
  readonly #calls = new Map<string, Call>();
  readonly #listeners: Listener[] = [];

  constructor(opts: CallCoreOptions) {
    this.#opts = opts;
  }

  /** Observes presence changes and call events (MQTT, logs). */
  observe(listener: Listener): void {
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
      logTakeover(this.#opts.log, old.spec, spec);
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
    const caller = this.#live(from);
    if (target.id === caller.user.id) throw new CallError('self');
    if (caller.call) throw new CallError('in_call');
    const callee = this.#sessions.get(target.id);
    if (!callee) throw new CallError('offline');
    if (callee.call || callee.dnd) throw new CallError('busy');

    const id = randomUUID();
    const relayed = this.#needsRelay(id, caller.spec, callee.spec);
    const info: CallInfo = { id, caller: caller.user, callee: callee.user, relayed };
    // [S-4] fresh keys for every call, only when a party can be given them over TLS
    const keys: CallKeys | null =
      caller.spec.secure || callee.spec.secure
        ? drawCallKeys(this.#opts.newKey ?? newMasterKey)
        : null;
    const call: Call = {
      info,
      caller,
      callee,
      phase: 'setup',
      ringTimer: null,
      relay: null,
      keys,
      answeredAt: 0,
    };
    caller.call = call;
    callee.call = call;
    this.#calls.set(info.id, call);

    if (relayed && this.#opts.relay) {
      try {
        call.relay = await this.#opts.relay.allocate(
          info.id,
          { device: caller.spec.media, srtp: srtpOf(call, caller) },
          { device: callee.spec.media, srtp: srtpOf(call, callee) },
        );
      } catch (err) {
        this.#opts.log.error({ err, call: info.id }, 'relay allocation failed');
        this.#drop(call);
        throw new CallError('busy', 'no relay port available');
      }
      // Either party may have left while the relay was being opened.
      if (call.phase !== 'setup') {
        call.relay.release();
        throw new CallError('offline');
      }
    }

    call.phase = 'ringing';
    call.ringTimer = this.#opts.clock.setTimeout(
      () => this.#end(call, EndReason.TIMEOUT, null),
      this.#opts.ringTimeoutMs,
    );
    reply(info, this.#mediaFor(call, caller));
    callee.spec.sink.incomingCall(info);
    this.#presence(caller);
    this.#presence(callee);
    this.#emitCall('ringing', call, null);
    return info;
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
    if (call?.phase !== 'ringing' || call.callee !== by) return null;
    return call.caller.user.name === callerName ? call.info : null;
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

  #needsRelay(callId: string, a: SessionSpec, b: SessionSpec): boolean {
    if (a.secure !== b.secure && this.#opts.relay) {
      // [S-4] one SRTP leg and one plain: only the relay can translate, so it relays
      // whatever the mode; with `relay: never` that is said, since it overrides a setting.
      if (this.#opts.relayMode === 'never') {
        this.#opts.log.warn(
          { call: callId },
          'call between a TLS and a plaintext client relayed despite relay: never [S-4]',
        );
      }
      return true;
    }
    return relayByMode(this.#opts.relayMode, a.media, b.media);
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
    if (call.phase === 'setup') this.#drop(call);
    else this.#end(call, reason, session);
  }

  /**
   * Ends a call. `by` is the party that caused it (it is answered through `reply`, not
   * notified); null notifies both (timeout, shutdown).
   */
  #end(call: Call, reason: EndReason, by: LiveSession | null, reply: () => void = noop): void {
    if (call.phase === 'over') return;
    const durationMs = call.phase === 'active' ? this.#opts.clock.now() - call.answeredAt : 0;
    this.#release(call);
    reply();
    for (const side of [call.caller, call.callee]) {
      if (side !== by && !side.closed) {
        side.spec.sink.callEnded(call.info, otherSide(call, side).user, reason);
      }
    }
    for (const side of [call.caller, call.callee]) {
      if (!side.closed) this.#presence(side);
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

  #emitCall(kind: CallEvent['event'], call: Call, reason: EndReason | null, durationMs = 0): void {
    const event: CallEvent = { event: kind, call: call.info, reason, durationMs };
    for (const l of this.#listeners) l.call?.(event);
  }
}

function noop(): void {}
