/**
 * A call to one user [T-5 table, `CALL`]: the busy rules, the relay when the parties'
 * addresses or transports need it [T-9, M-4, S-4], fresh keys [S-4], then the ring.
 */
import { randomUUID } from 'node:crypto';
import { EndReason } from '../../protocol/codes.ts';
import { type Call, type LiveSession, relayByMode } from './call.ts';
import { CallError } from './errors.ts';
import type { CoreParts } from './group-calls.ts';
import { type CallKeys, drawCallKeys, srtpOf } from './srtp-keys.ts';
import type { CallInfo, Endpoint, SessionSpec, UserRef } from './types.ts';

/**
 * Places `caller`'s call to `target`. Throws CallError `self`, `in_call`, `offline` or
 * `busy`. `reply` gets where the caller should send media: the callee's own address or a
 * relay port (binary `/call` returns it; text `104` does not carry it).
 */
export async function placeCall(
  core: CoreParts,
  caller: LiveSession,
  target: UserRef,
  reply: (call: CallInfo, media: Endpoint) => void,
): Promise<CallInfo> {
  if (target.id === caller.user.id) throw new CallError('self');
  if (caller.call) throw new CallError('in_call');
  const callee = core.sessions.get(target.id);
  if (!callee) throw new CallError('offline');
  if (callee.call || callee.dnd) throw new CallError('busy');

  const id = randomUUID();
  const relayed = needsRelay(core, id, caller.spec, callee.spec);
  const info: CallInfo = { id, caller: caller.user, callee: callee.user, relayed };
  // [S-4] fresh keys for every call, only when a party can be given them over TLS
  const keys: CallKeys | null =
    caller.spec.secure || callee.spec.secure ? drawCallKeys(core.newKey) : null;
  const call: Call = {
    info,
    caller,
    callee,
    phase: 'setup',
    ringTimer: null,
    relay: null,
    keys,
    answeredAt: 0,
    group: null,
    moving: null,
  };
  caller.call = call;
  callee.call = call;
  core.calls.set(info.id, call);

  if (relayed && core.relay) {
    try {
      call.relay = await core.relay.allocate(
        info.id,
        { device: caller.spec.media, srtp: srtpOf(call, caller) },
        { device: callee.spec.media, srtp: srtpOf(call, callee) },
      );
    } catch (err) {
      core.log.error({ err, call: info.id }, 'relay allocation failed');
      core.drop(call);
      throw new CallError('busy', 'no relay port available');
    }
    // Either party may have left while the relay was being opened.
    if (call.phase !== 'setup') {
      call.relay.release();
      throw new CallError('offline');
    }
  }

  call.phase = 'ringing';
  call.ringTimer = core.clock.setTimeout(
    () => core.end(call, EndReason.TIMEOUT, null),
    core.ringTimeoutMs,
  );
  reply(info, core.mediaFor(call, caller));
  callee.spec.sink.incomingCall(info);
  core.presence(caller);
  core.presence(callee);
  core.emitCall('ringing', call, null);
  return info;
}

/** [T-9, M-4, S-4] Whether a call between these parties goes through the relay. */
export function needsRelay(
  core: CoreParts,
  callId: string,
  a: SessionSpec,
  b: SessionSpec,
): boolean {
  if (a.secure !== b.secure && core.relay) {
    // [S-4] one SRTP leg and one plain: only the relay can translate, so it relays
    // whatever the mode; with `relay: never` that is said, since it overrides a setting.
    if (core.relayMode === 'never') {
      core.log.warn(
        { call: callId },
        'call between a TLS and a plaintext client relayed despite relay: never [S-4]',
      );
    }
    return true;
  }
  return relayByMode(core.relayMode, a.media, b.media);
}
