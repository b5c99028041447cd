/**
 * The device's call state machine: a pure function of (state, input) with time passed in.
 * It turns button presses, hub lines and MQTT commands into effects (requests to the hub,
 * media start/stop, tones, LED pattern). The agent's adapters execute the effects.
 *
 *   idle --press / call cmd--> calling --media--> in_call
 *   idle --ringing--> ringing --press / accept--> (ACCEPT) --media--> in_call
 *   ringing --long press--> idle (HANGUP: declined)
 *   calling / in_call --press / hangup--> idle (HANGUP)
 *   any --ended / hub lost--> idle
 *
 * Hub lines come in as `CallEvent`s (device/hub/events.ts reads the codes).
 */

import type { CallEvent, SrtpKeys } from '../hub/events.ts';
import type { LedPattern } from '../io/outputs.ts';

export type CallState = 'idle' | 'calling' | 'ringing' | 'in_call';

export type Tone = 'ring' | 'ringback' | 'none';

export interface MachineOptions {
  /** Who a short press calls when idle. Null: a press while idle does nothing. */
  readonly target: string | null;
  /** Answer incoming calls without a press. */
  readonly autoAnswer: boolean;
  /** Do not disturb: incoming calls are declined at once (the caller hears `declined`). */
  readonly doNotDisturb: boolean;
}

export interface Machine {
  readonly state: CallState;
  /** The other party while not idle. */
  readonly peer: string | null;
  /** Whether the hub session is registered (CONNECT answered `connected`). */
  readonly online: boolean;
  /** When the current state began (injected clock, ms). */
  readonly since: number;
}

export type Input =
  | { readonly kind: 'press'; readonly long: boolean; readonly target?: string }
  | { readonly kind: 'command'; readonly action: 'call'; readonly target: string }
  | { readonly kind: 'command'; readonly action: 'accept' | 'hangup' }
  | { readonly kind: 'hub'; readonly event: CallEvent }
  | { readonly kind: 'online' }
  | { readonly kind: 'offline' };

export type Effect =
  | { readonly kind: 'send'; readonly verb: 'CALL' | 'ACCEPT' | 'HANGUP'; readonly arg: string }
  | {
      readonly kind: 'media_start';
      readonly ip: string;
      readonly port: number;
      /** [S-4] SRTP keys of this leg; null: plain RTP (a plaintext link only). */
      readonly srtp: SrtpKeys | null;
    }
  | { readonly kind: 'media_stop' }
  | { readonly kind: 'tone'; readonly tone: Tone }
  | { readonly kind: 'led'; readonly pattern: LedPattern }
  | { readonly kind: 'notice'; readonly text: string };

export interface Step {
  readonly machine: Machine;
  readonly effects: readonly Effect[];
}

export function initialMachine(now: number): Machine {
  return { state: 'idle', peer: null, online: false, since: now };
}

/** One transition. Never throws: an input that makes no sense in a state is ignored. */
export function step(m: Machine, input: Input, now: number, opts: MachineOptions): Step {
  switch (input.kind) {
    case 'online':
      return to({ ...m, online: true }, m.state, m.peer, now, [
        { kind: 'led', pattern: ledFor(m.state, true) },
      ]);
    case 'offline':
      // The hub is gone: any call is over for us (the hub ended it for the peer too).
      return leave({ ...m, online: false }, now, m.state === 'idle' ? null : 'hub unreachable');
    case 'press':
      return onPress(m, input.long, input.target ?? opts.target, now);
    case 'command':
      return onCommand(m, input, now);
    case 'hub':
      return onHub(m, input.event, now, opts);
  }
}

function onPress(m: Machine, long: boolean, target: string | null, now: number): Step {
  if (!m.online) return none(m, 'not connected to the hub');
  switch (m.state) {
    case 'idle':
      if (long || !target) return none(m);
      return startCall(m, target, now);
    case 'ringing':
      // One button, three meanings: a press accepts; a long press declines.
      return long ? hangup(m, now) : accept(m);
    default:
      return hangup(m, now);
  }
}

function onCommand(m: Machine, input: Extract<Input, { kind: 'command' }>, now: number): Step {
  if (!m.online) return none(m, 'not connected to the hub');
  if (input.action === 'call')
    return m.state === 'idle' ? startCall(m, input.target, now) : none(m, 'busy');
  if (input.action === 'accept')
    return m.state === 'ringing' ? accept(m) : none(m, 'nothing to accept');
  return m.state === 'idle' ? none(m, 'no call') : hangup(m, now);
}

function onHub(m: Machine, e: CallEvent, now: number, opts: MachineOptions): Step {
  switch (e.kind) {
    case 'ringing': {
      const who = e.caller;
      if (m.state !== 'idle') return none(m);
      if (opts.doNotDisturb) {
        return {
          machine: m,
          effects: [
            { kind: 'send', verb: 'HANGUP', arg: who },
            notice(`declined ${who}: do not disturb`),
          ],
        };
      }
      if (opts.autoAnswer) {
        return to(m, 'ringing', who, now, [
          { kind: 'send', verb: 'ACCEPT', arg: who },
          notice(`answering ${who}`),
        ]);
      }
      return to(m, 'ringing', who, now, [
        { kind: 'tone', tone: 'ring' },
        { kind: 'led', pattern: 'blink' },
        notice(`${who} is calling`),
      ]);
    }
    case 'media': {
      // The call is up: send media to, and expect it from, <ip> <port> [T-9].
      const who = e.peer;
      if (m.peer !== who || (m.state !== 'calling' && m.state !== 'ringing')) return none(m);
      return to(m, 'in_call', who, now, [
        { kind: 'tone', tone: 'none' },
        { kind: 'led', pattern: 'on' },
        { kind: 'media_start', ip: e.ip, port: e.port, srtp: e.srtp },
        notice(`talking with ${who}`),
      ]);
    }
    case 'bad_media':
      // A media address we cannot use (device/hub/events.ts): the call cannot go on, so it
      // ends cleanly for both sides instead of sending nowhere.
      if (m.state === 'idle' || m.peer !== e.peer) return none(m);
      return hangupBecause(
        m,
        now,
        `ended the call with ${e.peer}: bad media address (${e.reason})`,
      );
    case 'ended':
      if (m.state === 'idle' || m.peer !== e.peer) return none(m);
      return leave(m, now, `call with ${e.peer} ${e.reason || 'ended'}`);
    case 'call_refused': // CALL, ACCEPT or HANGUP refused
      if (m.state === 'calling' && m.peer === e.name)
        return leave(m, now, `cannot call ${e.name}: ${e.reason || 'refused'}`);
      if (m.state === 'ringing' && m.peer === e.name && e.reason === 'no_call')
        return leave(m, now, `call from ${e.name} is gone`);
      return none(m);
    case 'calling':
      return none(m);
  }
}

function startCall(m: Machine, target: string, now: number): Step {
  return to(m, 'calling', target, now, [
    { kind: 'send', verb: 'CALL', arg: target },
    { kind: 'tone', tone: 'ringback' },
    { kind: 'led', pattern: 'blink' },
    notice(`calling ${target}`),
  ]);
}

function accept(m: Machine): Step {
  // State changes when the hub answers `media`; until then the ring tone stops.
  return {
    machine: m,
    effects: [
      { kind: 'send', verb: 'ACCEPT', arg: m.peer! },
      { kind: 'tone', tone: 'none' },
    ],
  };
}

function hangup(m: Machine, now: number): Step {
  return hangupBecause(m, now, `hung up on ${m.peer}`);
}

function hangupBecause(m: Machine, now: number, why: string): Step {
  const peer = m.peer!;
  const left = leave(m, now, why);
  return {
    machine: left.machine,
    effects: [{ kind: 'send', verb: 'HANGUP', arg: peer }, ...left.effects],
  };
}

/** Back to idle: media and tones stop, the LED shows idle or offline. */
function leave(m: Machine, now: number, why: string | null): Step {
  const effects: Effect[] = [];
  if (m.state === 'in_call') effects.push({ kind: 'media_stop' });
  if (m.state !== 'idle') effects.push({ kind: 'tone', tone: 'none' });
  effects.push({ kind: 'led', pattern: ledFor('idle', m.online) });
  if (why) effects.push(notice(why));
  return to(m, 'idle', null, now, effects);
}

function to(
  m: Machine,
  state: CallState,
  peer: string | null,
  now: number,
  effects: Effect[],
): Step {
  const since = state === m.state && peer === m.peer ? m.since : now;
  return { machine: { ...m, state, peer, since }, effects };
}

function none(m: Machine, why?: string): Step {
  return { machine: m, effects: why ? [notice(why)] : [] };
}

function notice(text: string): Effect {
  return { kind: 'notice', text };
}

export function ledFor(state: CallState, online: boolean): LedPattern {
  if (!online) return 'fast_blink';
  if (state === 'idle') return 'off';
  return state === 'in_call' ? 'on' : 'blink';
}
