/** Types shared by the call core and the dialect adapters. The core knows no dialect. */
import type { EndReason, UserState } from '../../protocol/codes.ts';

/** [T-10] why a call ended and [T-7] a user's state, as protocol/codes.ts names them. */
export type { EndReason, UserState };

/** Why `call`, `accept` or `hangup` was refused; the adapters put it on the wire. */
export type CallFailure = 'unknown' | 'offline' | 'busy' | 'self' | 'in_call' | 'no_call';

/** A UDP address; port 0 means "none declared" [T-9]. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** A known user, as the core needs it. */
export interface UserRef {
  readonly id: string;
  readonly name: string;
}

/** A public view of a call, handed to sinks and observers. */
export interface CallInfo {
  readonly id: string;
  readonly caller: UserRef;
  readonly callee: UserRef;
  readonly relayed: boolean;
  /**
   * [G-1, G-2] The group the call was placed to (absent: a call to a user). While a ring
   * group rings, and for a page, `callee` is the group itself (id `group:<name>`).
   */
  readonly group?: string | undefined;
  /** [G-2] A page: one-way from the caller to every member, through the relay. */
  readonly page?: boolean | undefined;
}

/**
 * What a connection receives from the core. Each adapter implements it for its dialect.
 * Methods are called after the reply to the request that caused them is written [T-11].
 */
export interface SessionSink {
  /** A call rings here (text `105`, binary `called`). */
  incomingCall(call: CallInfo): void;
  /**
   * The call is up; send media to, and expect it from, `media` (text `106`, binary
   * `call_started`), protected with `srtp` on a secure session [S-4] (null: plain RTP).
   */
  callStarted(call: CallInfo, peer: UserRef, media: Endpoint, srtp: SrtpKeys | null): void;
  /** The call is over (text `107`, binary `call_ended`). `peer` is the other party. */
  callEnded(call: CallInfo, peer: UserRef, reason: EndReason): void;
  /**
   * [G-2] A page from `caller` plays here at once: media comes from `media` (the relay),
   * protected with `srtp` on a secure session (text `111`, binary `paged`).
   */
  paged(call: CallInfo, caller: UserRef, media: Endpoint, srtp: SrtpKeys | null): void;
  /** This session was replaced by a newer connection of the same user [T-8]: close it. */
  replaced(): void;
}

/** The connection-specific facts the core needs about a session. */
export interface SessionSpec {
  readonly user: UserRef;
  readonly dialect: 'text' | 'binary';
  /** The client's media address: its TCP source IP and declared UDP port (0: none) [T-9]. */
  readonly media: Endpoint;
  /** The hub's own IP as this client reaches it, for relay addresses. */
  readonly localIp: string;
  /** Signaling over TLS [S-1]: this party's media is SRTP, keyed by the hub [S-4]. */
  readonly secure: boolean;
  readonly sink: SessionSink;
}

/** Observers (MQTT, logs) see every state change and call event. */
export interface PresenceEvent {
  readonly user: UserRef;
  readonly state: UserState;
  readonly peer: string | null;
  /** Wall-clock ms when this state began. */
  readonly since: number;
}

export interface CallEvent {
  readonly event: 'ringing' | 'started' | 'ended';
  readonly call: CallInfo;
  readonly reason: EndReason | null;
  /** Time in the call (answered to ended), 0 if never answered. */
  readonly durationMs: number;
}

/** [S-4] One party's SRTP master keys: base64 of 30 bytes each, the SDES `inline:` form. */
export interface SrtpKeys {
  /** Protects what this party sends. */
  readonly send: string;
  /** Protects what this party receives. */
  readonly recv: string;
}

/**
 * One leg of a relayed call: its device's address (port 0 = not declared) and, on an
 * SRTP leg [S-4], that device's keys (`srtp.send` protects what the relay receives from
 * it, `srtp.recv` what the relay sends to it); null on a plain RTP leg.
 */
export interface RelayLeg {
  readonly device: Endpoint;
  readonly srtp: SrtpKeys | null;
}

/** Ports the relay opened for one call: leg A faces the caller, leg B the callee [M-4]. */
export interface RelayAllocation {
  readonly portA: number;
  readonly portB: number;
  release(): void;
}

/**
 * [G-2] Ports the relay opened for one page: the caller sends to `sourcePort`, member `i`
 * hears from `memberPorts[i]`.
 */
export interface FanoutAllocation {
  readonly sourcePort: number;
  readonly memberPorts: readonly number[];
  /** Stops copying to member `index` and closes its port (it hung up or left). */
  drop(index: number): void;
  release(): void;
}

/** The media relay as the core sees it. */
export interface RelayAllocator {
  /** Opens a relay for a call between leg `a` (caller) and leg `b` (callee). */
  allocate(callId: string, a: RelayLeg, b: RelayLeg): Promise<RelayAllocation>;
  /** [G-2] Opens a one-way relay copying what `source` sends to every member leg. */
  allocateFanout(callId: string, source: RelayLeg, members: RelayLeg[]): Promise<FanoutAllocation>;
}

/** [G-1..G-3] What the core counts since start (the hub's statistics). */
export interface CoreStats {
  /** Calls placed to a ring group. */
  groupCalls: number;
  /** Pages started. */
  pages: number;
  /** [G-3] Direct calls moved to the relay by `RELAY` (fallback). */
  relayFallbacks: number;
}

export type RelayMode = 'auto' | 'always' | 'never';

/** What `CallCore.observe` takes: presence changes, call events, counter changes. */
export interface CoreListener {
  presence?: (e: PresenceEvent) => void;
  call?: (e: CallEvent) => void;
  /** [G-1..G-3] A counter of the core's stats changed. */
  stats?: (s: Readonly<CoreStats>) => void;
}
