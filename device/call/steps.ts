/**
 * The call machine's building blocks (device/call/machine.ts): a move to a state with its
 * effects, back to idle, a hang-up, nothing. Pure, like the machine.
 */
import type { LedPattern } from '../io/outputs.ts';
import type { CallState, Effect, Machine, Step } from './machine.ts';

export function hangup(m: Machine, now: number): Step {
  return hangupBecause(m, now, `hung up on ${m.peer}`);
}

export function hangupBecause(m: Machine, now: number, why: string): Step {
  const peer = m.peer!;
  const left = leave(m, now, why);
  return {
    machine: left.machine,
    effects: [{ kind: 'send', verb: 'HANGUP', arg: peer }, ...left.effects],
  };
}

/** Back to idle: media and tones stop, the LED shows idle or offline. */
export function leave(m: Machine, now: number, why: string | null): Step {
  const effects: Effect[] = [];
  if (m.state === 'in_call' || m.state === 'paging' || m.state === 'paged')
    effects.push({ kind: 'media_stop' });
  if (m.state !== 'idle') effects.push({ kind: 'tone', tone: 'none' });
  effects.push({ kind: 'led', pattern: ledFor('idle', m.online) });
  if (why) effects.push(notice(why));
  return to(m, 'idle', null, now, effects);
}

/**
 * To `state` with `peer`; `media` (`ip:port`) when the hub has just named where media
 * goes. A new call (or none) forgets what the last one was placed through, asked for and
 * sent to.
 */
export function to(
  m: Machine,
  state: CallState,
  peer: string | null,
  now: number,
  effects: Effect[],
  media?: string,
): Step {
  const same = state === m.state && peer === m.peer;
  const since = same ? m.since : now;
  const fresh = state === 'idle' || m.state === 'idle';
  const call = fresh ? { via: null, relayAsked: false, media: null } : {};
  const at = media === undefined ? {} : { media };
  return { machine: { ...m, ...call, ...at, state, peer, since }, effects };
}

export function none(m: Machine, why?: string): Step {
  return { machine: m, effects: why ? [notice(why)] : [] };
}

export function notice(text: string): Effect {
  return { kind: 'notice', text };
}

export function ledFor(state: CallState, online: boolean): LedPattern {
  if (!online) return 'fast_blink';
  if (state === 'idle') return 'off';
  return state === 'in_call' || state === 'paged' || state === 'paging' ? 'on' : 'blink';
}
