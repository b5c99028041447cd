/**
 * What the call core keeps per session and per call, and the pure questions it asks of
 * them. Only the core mutates these records; adapters hold a `Session` as an opaque handle.
 */
import type { Timer } from '../../shared/clock.ts';
import type { CallKeys } from './srtp-keys.ts';
import type {
  CallInfo,
  Endpoint,
  RelayAllocation,
  RelayMode,
  SessionSpec,
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
  readonly info: CallInfo;
  readonly caller: LiveSession;
  readonly callee: LiveSession;
  phase: 'setup' | 'ringing' | 'active' | 'over';
  ringTimer: Timer | null;
  relay: RelayAllocation | null;
  /** [S-4] The call's SRTP keys; null when neither party is secure. */
  readonly keys: CallKeys | null;
  answeredAt: number;
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
