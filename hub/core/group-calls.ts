/**
 * [G-1] Ring groups and [G-2] pages: a call placed to a group. The caller's other party
 * is the group's stand-in (named like the group) until a member answers a ring; a page
 * keeps it. The members are tracked in `call.group`; everything else (ending, timeouts,
 * presence) is the call core's, reached through `CoreParts`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { EndReason } from '../../protocol/codes.ts';
import type { Clock } from '../../shared/clock.ts';
import {
  type Call,
  type GroupLegs,
  groupStandIn,
  type LiveSession,
  type MemberLeg,
  reachable,
} from './call.ts';
import { needsRelay } from './direct-call.ts';
import { CallError } from './errors.ts';
import { drawCallKeys, srtpOf } from './srtp-keys.ts';
import type {
  CallEvent,
  CallInfo,
  CoreStats,
  Endpoint,
  RelayAllocator,
  RelayMode,
  SrtpKeys,
  UserRef,
} from './types.ts';

/** A group as the core needs it: its name and members (from the store). */
export interface GroupRef {
  readonly name: string;
  readonly members: readonly UserRef[];
}

/** What the group operations use of the call core. */
export interface CoreParts {
  readonly clock: Clock;
  readonly log: Logger;
  readonly ringTimeoutMs: number;
  readonly relay: RelayAllocator | null;
  readonly newKey: () => string;
  readonly sessions: ReadonlyMap<string, LiveSession>;
  readonly calls: Map<string, Call>;
  readonly stats: CoreStats;
  /** Tells observers that a counter of `stats` changed. */
  counted(): void;
  presence(s: LiveSession): void;
  emitCall(kind: CallEvent['event'], call: Call, reason: EndReason | null): void;
  /** Ends the call (see CallCore #end): `by` is answered through `reply`, not notified. */
  end(call: Call, reason: EndReason, by: LiveSession | null, reply?: () => void): void;
  /** Forgets a call still in setup (releasing its relays and members). */
  drop(call: Call): void;
  readonly relayMode: RelayMode;
  mediaFor(call: Call, side: LiveSession): Endpoint;
}

/** The members `caller` may reach in `group` now [G-1, G-2]; `offline` when none. */
function reachableMembers(core: CoreParts, caller: LiveSession, group: GroupRef): LiveSession[] {
  const targets: LiveSession[] = [];
  for (const m of group.members) {
    if (m.id === caller.user.id) continue; // the caller is never rung by its own group
    const s = core.sessions.get(m.id);
    if (reachable(s)) targets.push(s);
  }
  if (targets.length === 0) throw new CallError('offline');
  return targets;
}

/** A call to `group` in setup: the caller, the stand-in and every target point at it. */
function openGroupCall(
  core: CoreParts,
  caller: LiveSession,
  group: GroupRef,
  targets: readonly LiveSession[],
  kind: GroupLegs['kind'],
  legs: (target: LiveSession, index: number) => MemberLeg,
  source: SrtpKeys | null,
  secure: boolean,
): Call {
  const standIn = groupStandIn(group.name, caller);
  const info: CallInfo = {
    id: randomUUID(),
    caller: caller.user,
    callee: standIn.user,
    relayed: kind === 'page',
    group: group.name,
    ...(kind === 'page' ? { page: true } : {}),
  };
  const call: Call = {
    info,
    caller,
    callee: standIn,
    phase: 'setup',
    ringTimer: null,
    relay: null,
    keys: secure && kind === 'ring' ? drawCallKeys(core.newKey) : null,
    answeredAt: 0,
    group: { name: group.name, kind, members: new Map(), fanout: null, source },
    moving: null,
  };
  caller.call = call;
  standIn.call = call;
  targets.forEach((t, i) => {
    t.call = call;
    call.group!.members.set(t, legs(t, i));
  });
  core.calls.set(info.id, call);
  return call;
}

/**
 * [G-1] `CALL <group>`: rings every reachable member (`incomingCall` each). A member whose
 * call with the caller needs the relay gets its own relay now, so that answering stays
 * synchronous. `reply` runs first [T-11]; its media has port 0: the caller learns where to
 * send from `callStarted` once a member answers.
 */
export async function callGroup(
  core: CoreParts,
  caller: LiveSession,
  group: GroupRef,
  reply: (call: CallInfo, media: Endpoint) => void,
): Promise<CallInfo> {
  if (caller.call) throw new CallError('in_call');
  const targets = reachableMembers(core, caller, group);
  const secure = caller.spec.secure || targets.some((t) => t.spec.secure);
  const call = openGroupCall(
    core,
    caller,
    group,
    targets,
    'ring',
    (_, index) => ({ relay: null, index, srtp: null }),
    null,
    secure,
  );
  const members = call.group!.members;
  for (const t of targets) {
    if (!core.relay || !needsRelay(core, call.info.id, caller.spec, t.spec)) continue;
    try {
      const relay = await core.relay.allocate(
        call.info.id,
        { device: caller.spec.media, srtp: srtpOf(call, caller) },
        { device: t.spec.media, srtp: srtpOf(call, t) },
      );
      const leg = members.get(t);
      if (leg && call.phase === 'setup') leg.relay = relay;
      else relay.release(); // the member or the caller left meanwhile
    } catch (err) {
      core.log.error({ err, call: call.info.id, member: t.user.name }, 'relay allocation failed');
      if (members.delete(t)) t.call = null;
    }
  }
  if (call.phase !== 'setup' || members.size === 0) {
    core.drop(call);
    throw new CallError('offline');
  }
  call.phase = 'ringing';
  call.ringTimer = core.clock.setTimeout(
    () => core.end(call, EndReason.TIMEOUT, null),
    core.ringTimeoutMs,
  );
  core.stats.groupCalls++;
  core.counted();
  reply(call.info, { ip: caller.spec.localIp, port: 0 });
  for (const m of members.keys()) m.spec.sink.incomingCall(call.info);
  core.presence(caller);
  for (const m of members.keys()) core.presence(m);
  core.emitCall('ringing', call, null);
  return call.info;
}

/**
 * [G-1] A ringing member answers: the first wins and the call goes on as a call with it;
 * the others hear `answered_elsewhere` at once, after the winner's reply [T-11].
 */
export function acceptGroup(
  core: CoreParts,
  call: Call,
  winner: LiveSession,
  reply: (call: CallInfo, peer: UserRef, media: Endpoint, srtp: SrtpKeys | null) => void,
): CallInfo {
  const group = call.group!;
  const ringInfo = call.info;
  const others = [...group.members.keys()].filter((m) => m !== winner);
  call.relay = group.members.get(winner)?.relay ?? null;
  for (const m of others) {
    group.members.get(m)?.relay?.release();
    m.call = null;
  }
  group.members.clear();
  call.ringTimer?.cancel();
  call.ringTimer = null;
  call.callee.call = null; // the stand-in
  call.callee = winner;
  call.group = null; // from here on a call like any other
  call.info = { ...ringInfo, callee: winner.user, relayed: call.relay !== null };
  call.phase = 'active';
  call.answeredAt = core.clock.now();
  reply(call.info, call.caller.user, core.mediaFor(call, winner), srtpOf(call, winner));
  for (const m of others) {
    if (!m.closed) m.spec.sink.callEnded(ringInfo, call.caller.user, EndReason.ANSWERED_ELSEWHERE);
  }
  call.caller.spec.sink.callStarted(
    call.info,
    winner.user,
    core.mediaFor(call, call.caller),
    srtpOf(call, call.caller),
  );
  core.presence(call.caller);
  core.presence(winner);
  for (const m of others) if (!m.closed) core.presence(m);
  core.emitCall('started', call, null);
  return call.info;
}

/**
 * A member leaves a ringing group (declines, disconnects) or a page (hangs up,
 * disconnects): it alone is answered through `reply`; the call goes on for the others,
 * and ends with `reason` once nobody is left.
 */
export function leaveGroup(
  core: CoreParts,
  call: Call,
  member: LiveSession,
  reason: EndReason,
  reply: () => void = () => {},
): void {
  const group = call.group!;
  const leg = group.members.get(member);
  if (!leg) return;
  group.members.delete(member);
  member.call = null;
  leg.relay?.release();
  group.fanout?.drop(leg.index);
  reply();
  if (!member.closed) core.presence(member);
  if (group.members.size === 0 && call.phase !== 'setup') core.end(call, reason, null);
}

/**
 * [G-2] `PAGE <group>`: opens a fan-out relay from the caller to every reachable member,
 * then answers the caller with where to send (`reply`) and tells each member where its
 * copy comes from (`paged`). On TLS legs every leg has its own fresh keys [S-4].
 */
export async function page(
  core: CoreParts,
  caller: LiveSession,
  group: GroupRef,
  reply: (call: CallInfo, media: Endpoint, srtp: SrtpKeys | null) => void,
): Promise<CallInfo> {
  if (caller.call) throw new CallError('in_call');
  const targets = reachableMembers(core, caller, group);
  if (!core.relay) throw new CallError('busy', 'paging needs the relay');
  const legKeys = (s: LiveSession): SrtpKeys | null =>
    s.spec.secure ? { send: core.newKey(), recv: core.newKey() } : null;
  const call = openGroupCall(
    core,
    caller,
    group,
    targets,
    'page',
    (t, index) => ({ relay: null, index, srtp: legKeys(t) }),
    legKeys(caller),
    false,
  );
  const g = call.group!;
  try {
    g.fanout = await core.relay.allocateFanout(
      call.info.id,
      { device: caller.spec.media, srtp: g.source },
      targets.map((t) => ({ device: t.spec.media, srtp: g.members.get(t)?.srtp ?? null })),
    );
  } catch (err) {
    core.log.error({ err, call: call.info.id }, 'page relay allocation failed');
    core.drop(call);
    throw new CallError('busy', 'no relay port available');
  }
  // Members that left while the relay opened lose their copy; the caller leaving ends it.
  targets.forEach((t, i) => {
    if (!g.members.has(t)) g.fanout?.drop(i);
  });
  if (call.phase !== 'setup' || g.members.size === 0) {
    core.drop(call);
    throw new CallError('offline');
  }
  call.phase = 'active';
  call.answeredAt = core.clock.now();
  core.stats.pages++;
  core.counted();
  const fanout = g.fanout;
  reply(call.info, { ip: caller.spec.localIp, port: fanout.sourcePort }, g.source);
  for (const [m, leg] of g.members) {
    const media = { ip: m.spec.localIp, port: fanout.memberPorts[leg.index]! };
    m.spec.sink.paged(call.info, caller.user, media, leg.srtp);
  }
  core.presence(caller);
  for (const m of g.members.keys()) core.presence(m);
  core.log.info(
    { call: call.info.id, group: group.name, members: g.members.size },
    'page started [G-2]',
  );
  core.emitCall('started', call, null);
  return call.info;
}

/** Releases a group call's member relays and fan-out, and frees its members. */
export function releaseGroup(call: Call): void {
  const group = call.group;
  if (!group) return;
  for (const [m, leg] of group.members) {
    leg.relay?.release();
    if (m.call === call) m.call = null;
  }
  group.members.clear();
  group.fanout?.release();
  group.fanout = null;
}
