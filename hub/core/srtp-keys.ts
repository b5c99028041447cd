/**
 * [S-4] The SRTP master keys of one call: one per direction, drawn fresh for every call,
 * each handed only to the parties whose signaling runs over TLS.
 */
import { newMasterKey } from '../../protocol/srtp/index.ts';
import type { Call, LiveSession } from './call.ts';
import type { SrtpKeys } from './types.ts';

/** The call's two keys: `forward` protects caller to callee, `back` callee to caller. */
export interface CallKeys {
  readonly forward: string;
  readonly back: string;
}

/** `draw` makes one master key: 16-byte key + 14-byte salt, base64 (SDES `inline:`). */
export function drawCallKeys(draw: () => string = newMasterKey): CallKeys {
  return { forward: draw(), back: draw() };
}

/**
 * One party's view: what it sends is protected with its direction's key, what it receives
 * with the other's. The relay forwards between two secure legs as they are (the same
 * keys end to end) and translates to and from a plain leg.
 */
export function keysOf(keys: CallKeys, side: 'caller' | 'callee'): SrtpKeys {
  return side === 'caller'
    ? { send: keys.forward, recv: keys.back }
    : { send: keys.back, recv: keys.forward };
}

/** A party's SRTP keys in `call`: its view of the call's keys, null on a plain leg. */
export function srtpOf(call: Call, side: LiveSession): SrtpKeys | null {
  if (!call.keys || !side.spec.secure) return null;
  return keysOf(call.keys, side === call.caller ? 'caller' : 'callee');
}
