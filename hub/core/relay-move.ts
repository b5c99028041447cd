/**
 * [G-3] Relay fallback: a party of a direct call that hears nothing (client isolation, a
 * firewall) sends `RELAY <peer>`; the call moves to the relay without ending, and both
 * parties get a new media address, with fresh keys on TLS legs [S-4].
 */
import { type Call, type CallSelector, type LiveSession, matches, otherSide } from './call.ts';
import { CallError } from './errors.ts';
import type { CoreParts } from './group-calls.ts';
import { drawCallKeys, srtpOf } from './srtp-keys.ts';
import type { CallInfo, Endpoint, SrtpKeys, UserRef } from './types.ts';

type MediaReply = (call: CallInfo, peer: UserRef, media: Endpoint, srtp: SrtpKeys | null) => void;

/**
 * Moves `me`'s active call to the relay. A call already relayed (by the mode, or by an
 * earlier `RELAY` of either party, even one still opening) is not moved again: `me` is
 * answered with its current media and keys, and the peer is told nothing.
 */
export async function moveToRelay(
  core: CoreParts,
  me: LiveSession,
  which: CallSelector,
  reply: MediaReply,
): Promise<CallInfo> {
  const call = me.call;
  if (call?.phase !== 'active' || call.group || call.info.page || !matches(call, which, me)) {
    throw new CallError('no_call');
  }
  if (call.moving) await call.moving;
  else if (!call.relay) {
    const moved = move(core, call, me);
    call.moving = moved.then(
      () => {},
      () => {},
    );
    try {
      await moved;
    } finally {
      call.moving = null;
    }
    if (call.phase === 'active' && call.relay) {
      // The requester first [T-11], then the peer.
      answer(core, call, me, reply);
      const peer = otherSide(call, me);
      peer.spec.sink.callStarted(call.info, me.user, core.mediaFor(call, peer), srtpOf(call, peer));
      return call.info;
    }
  }
  if (call.phase !== 'active' || me.call !== call || !call.relay) throw new CallError('no_call');
  core.log.debug(
    { call: call.info.id, by: me.user.name },
    'RELAY on a relayed call: media re-sent',
  );
  answer(core, call, me, reply);
  return call.info;
}

function answer(core: CoreParts, call: Call, me: LiveSession, reply: MediaReply): void {
  reply(call.info, otherSide(call, me).user, core.mediaFor(call, me), srtpOf(call, me));
}

/** Opens the relay for `call` with fresh keys; CallError `busy` when it cannot. */
async function move(core: CoreParts, call: Call, by: LiveSession): Promise<void> {
  if (!core.relay) throw new CallError('busy', 'no relay');
  const { caller, callee } = call;
  const oldKeys = call.keys;
  // [S-4] fresh keys on TLS legs: the relay starts a new SRTP context per leg
  call.keys = caller.spec.secure || callee.spec.secure ? drawCallKeys(core.newKey) : null;
  let relay: Awaited<ReturnType<typeof core.relay.allocate>>;
  try {
    relay = await core.relay.allocate(
      call.info.id,
      { device: caller.spec.media, srtp: srtpOf(call, caller) },
      { device: callee.spec.media, srtp: srtpOf(call, callee) },
    );
  } catch (err) {
    call.keys = oldKeys;
    core.log.error({ err, call: call.info.id }, 'relay fallback failed: no relay port');
    throw new CallError('busy', 'no relay port available');
  }
  if (call.phase !== 'active') {
    relay.release(); // the call ended while the relay opened
    return;
  }
  call.relay = relay;
  call.info = { ...call.info, relayed: true };
  core.stats.relayFallbacks++;
  core.counted();
  core.log.info(
    { call: call.info.id, by: by.user.name, peer: otherSide(call, by).user.name },
    'direct call moved to the relay [G-3]',
  );
}
