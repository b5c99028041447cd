/**
 * What the call core keeps per session and per call, and the pure questions it asks of
 * them. Only the core mutates these records; adapters hold a `Session` as an opaque handle.
 */
import type { Timer } from '../../shared/clock.ts';
import type { CallKeys } from './srtp-keys.ts';
import type {
  CallInfo,
  Endpoint,
  FanoutAllocation,
  RelayAllocation,
  RelayMode,
  SessionSink,
  SessionSpec,
  SrtpKeys,
  UserRef,
  UserState,
} from './types.ts';

/** A user's live connection, as the core tracks it. Adapters hold it as an opaque handle. */
export interface Session {
  readonly spec: SessionSpec;
  readonly user: UserRef;
}

export interface LiveSession extends Session {
  call: Call | null;
  since: number;
  closed: boolean;
  /** Do not disturb: calls to this session are refused as `busy` (extension). */
  dnd: boolean;
}

export interface Call {
  /** Replaced when a ring group is answered or the call moves to the relay [G-1, G-3]. */
  info: CallInfo;
  readonly caller: LiveSession;
  /** A group call's stand-in (`groupStandIn`) until a member answers [G-1]; a page's for good. */
  callee: LiveSession;
  phase: 'setup' | 'ringing' | 'active' | 'over';
  ringTimer: Timer | null;
  relay: RelayAllocation | null;
  /** [S-4] The call's SRTP keys; null when neither party is secure. Fresh on `RELAY` [G-3]. */
  keys: CallKeys | null;
  answeredAt: number;
  /** [G-1, G-2] The members of a ringing group or of a page; null for a call to one user. */
  group: GroupLegs | null;
  /** [G-3] A move to the relay under way, which a second `RELAY` waits for. */
  moving: Promise<void> | null;
}

/** One member's part in a group call or page. */
export interface MemberLeg {
  /** [G-1] The relay opened for this member, if a call with it needs one. */
  relay: RelayAllocation | null;
  /** [G-2] The member's leg in the page's fan-out, and its SRTP keys [S-4]. */
  readonly index: number;
  readonly srtp: SrtpKeys | null;
}

/** [G-1, G-2] A call placed to a group: the members still ringing, or hearing a page. */
export interface GroupLegs {
  readonly name: string;
  readonly kind: 'ring' | 'page';
  readonly members: Map<LiveSession, MemberLeg>;
  /** [G-2] The page's fan-out relay, once open. */
  fanout: FanoutAllocation | null;
  /** [G-2, S-4] The caller's keys for a page, null on a plain leg. */
  readonly source: SrtpKeys | null;
}

/** How a request names the call it acts on: by peer name (text) or by call id (binary). */
export type CallSelector = { readonly peer: string } | { readonly callId: string };

/** [T-7] The session's state as others see it. */
export function stateIn(s: LiveSession): UserState {
  const call = s.call;
  if (!call || call.phase === 'over') return 'idle';
  if (call.phase === 'active') return 'in_call';
  return call.caller === s ? 'calling' : 'ringing';
}

/** The stand-in's sink: a group is told nothing; its members are, one by one. */
const GROUP_SINK: SessionSink = {
  incomingCall() {},
  callStarted() {},
  callEnded() {},
  paged() {},
  replaced() {},
};

/**
 * [G-1, G-2] The group as the other party of a call placed to it: named like the group,
 * never online itself (the core keeps it out of its sessions and of presence).
 */
export function groupStandIn(name: string, caller: LiveSession): LiveSession {
  const user = { id: `group:${name}`, name };
  return {
    spec: {
      user,
      dialect: caller.spec.dialect,
      media: { ip: '', port: 0 },
      localIp: caller.spec.localIp,
      secure: false,
      sink: GROUP_SINK,
    },
    user,
    call: null,
    since: 0,
    closed: false,
    dnd: false,
  };
}

/** True for a group's stand-in. */
export function isStandIn(s: LiveSession): boolean {
  return s.spec.sink === GROUP_SINK;
}

/** [G-1, G-2] Whether `s` may be rung or paged now: online, idle, not in do-not-disturb. */
export function reachable(s: LiveSession | undefined): s is LiveSession {
  return s !== undefined && !s.closed && s.call === null && !s.dnd;
}

export function otherSide(call: Call, side: LiveSession): LiveSession {
  return call.caller === side ? call.callee : call.caller;
}

/** True when `which` names this call as seen from `me`: its id, or the other party's name. */
export function matches(call: Call, which: CallSelector, me: LiveSession): boolean {
  if ('callId' in which) return call.info.id === which.callId;
  return otherSide(call, me).user.name === which.peer;
}

/** [T-9, M-4] Whether `relay` mode sends a call between these media addresses through the relay. */
export function relayByMode(mode: RelayMode, a: Endpoint, b: Endpoint): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  return a.port === 0 || b.port === 0; // port 0 or absent: the hub must relay
}
