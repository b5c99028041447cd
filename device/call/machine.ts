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
 * Section G (extensions):
 *   calling <group> --106 <member>--> in_call with <member>            [G-1]
 *   ringing --107 <caller> answered_elsewhere--> idle (not an error)     [G-1]
 *   idle --page press / page cmd--> paging (PAGE) --106/111--> sending one-way [G-2]
 *   paging --page press / press / hangup--> idle (HANGUP <group>)
 *   idle --111 <caller>--> paged (plays at once, microphone closed) --107--> idle [G-2]
 *   paged --press / hangup--> idle (HANGUP <caller>: this member leaves, the page goes on)
 *   in_call --media silent--> (RELAY <peer>, once a call) --106 again--> media moved [G-3]
 *
 * Hub lines come in as `CallEvent`s (device/hub/events.ts reads the codes).
 */

import { EndReason } from '../../protocol/codes.ts';
import type { CallEvent, SrtpKeys } from '../hub/events.ts';
import type { LedPattern } from '../io/outputs.ts';
import type { MediaDirection } from '../media/session.ts';
import { hangup, hangupBecause, leave, ledFor, none, notice, to } from './steps.ts';

export { ledFor } from './steps.ts';

/**
 * `paging`: this unit sends a page to a group [G-2]; `paged`: it plays one. The hub's
 * presence names them too (docs/protocol.md).
 */
export type CallState = 'idle' | 'calling' | 'ringing' | 'in_call' | 'paging' | 'paged';

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
  /**
   * The other party while not idle: the user or group called (until a member answers
   * [G-1]), the caller ringing or paging here, or the group paged.
   */
  readonly peer: string | null;
  /** What this call was placed to when that was a group a member of which answered [G-1]. */
  readonly via: string | null;
  /** [G-3] `RELAY` was asked for in this call (once a call). */
  readonly relayAsked: boolean;
  /** Where this call's (or page's) media goes, `ip:port`, once the hub said. */
  readonly media: string | null;
  /** Whether the hub session is registered (CONNECT answered `connected`). */
  readonly online: boolean;
  /** When the current state began (injected clock, ms). */
  readonly since: number;
}

export type Input =
  | { readonly kind: 'press'; readonly long: boolean; readonly target?: string }
  | { readonly kind: 'command'; readonly action: 'call' | 'page'; readonly target: string }
  /** [G-2] The page button: pages `target` when idle, ends the page while paging. */
  | { readonly kind: 'page_press'; readonly target: string }
  /** [G-3] The media session heard nothing valid for 2 s while sending (device/media). */
  | { readonly kind: 'media_silent' }
  | { readonly kind: 'command'; readonly action: 'accept' | 'hangup' }
  | { readonly kind: 'hub'; readonly event: CallEvent }
  | { readonly kind: 'online' }
  | { readonly kind: 'offline' };

export type Effect =
  | {
      readonly kind: 'send';
      readonly verb: 'CALL' | 'ACCEPT' | 'HANGUP' | 'PAGE' | 'RELAY';
      readonly arg: string;
    }
  | {
      readonly kind: 'media_start';
      readonly ip: string;
      readonly port: number;
      /** [S-4] SRTP keys of this leg; null: plain RTP (a plaintext link only). */
      readonly srtp: SrtpKeys | null;
      readonly direction: MediaDirection;
      /** [G-3] The running call's media moves (to the relay): the call goes on. */
      readonly moved: boolean;
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
  return {
    state: 'idle',
    peer: null,
    via: null,
    relayAsked: false,
    media: null,
    online: false,
    since: now,
  };
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
    case 'page_press':
      return onPagePress(m, input.target, now);
    case 'media_silent':
      return onSilent(m);
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
    case 'paged':
      // [G-2] A member leaves the page (`HANGUP <caller>`); it goes on for the others.
      return hangupBecause(m, now, `left the page from ${m.peer}`);
    default:
      return hangup(m, now);
  }
}

/** [G-2] The page button: a page when idle, the end of it while paging. */
function onPagePress(m: Machine, target: string, now: number): Step {
  if (!m.online) return none(m, 'not connected to the hub');
  if (m.state === 'idle') return startPage(m, target, now);
  if (m.state === 'paging') return hangup(m, now);
  return none(m, 'busy');
}

/** [G-3] No media from the peer for 2 s while sending: ask the hub to relay, once a call. */
function onSilent(m: Machine): Step {
  if (m.state !== 'in_call' || m.relayAsked) return none(m);
  return {
    machine: { ...m, relayAsked: true },
    effects: [
      { kind: 'send', verb: 'RELAY', arg: m.peer! },
      notice(`no audio from ${m.peer} for 2 s: asking the hub to relay the call`),
    ],
  };
}

function onCommand(m: Machine, input: Extract<Input, { kind: 'command' }>, now: number): Step {
  if (!m.online) return none(m, 'not connected to the hub');
  if (input.action === 'call')
    return m.state === 'idle' ? startCall(m, input.target, now) : none(m, 'busy');
  if (input.action === 'page')
    return m.state === 'idle' ? startPage(m, input.target, now) : none(m, 'busy');
  if (input.action === 'accept')
    return m.state === 'ringing' ? accept(m) : none(m, 'nothing to accept');
  if (m.state === 'paged') return hangupBecause(m, now, `left the page from ${m.peer}`);
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
    case 'media':
      return onMedia(m, e, now);
    case 'paged':
      return onPaged(m, e, now);
    case 'bad_media':
      // A media address we cannot use (device/hub/events.ts): the call cannot go on, so it
      // ends cleanly for both sides instead of sending nowhere. (A malformed 106 naming
      // someone else is ignored, as before groups: it could be anyone's.)
      if (m.state === 'idle' || m.state === 'paged' || m.peer !== e.peer) return none(m);
      return hangupBecause(
        m,
        now,
        `ended the call with ${e.peer}: bad media address (${e.reason})`,
      );
    case 'ended':
      if (m.state === 'idle' || m.peer !== e.peer) return none(m);
      return leave(m, now, endedText(m, e.reason));
    case 'call_refused': // CALL, ACCEPT, HANGUP, PAGE or RELAY refused
      if (m.state === 'calling' && m.peer === e.name)
        return leave(m, now, `cannot call ${e.name}: ${e.reason || 'refused'}`);
      if (m.state === 'paging' && m.peer === e.name)
        return leave(m, now, `cannot page ${e.name}: ${e.reason || 'refused'}`);
      if (m.state === 'ringing' && m.peer === e.name && e.reason === 'no_call')
        return leave(m, now, `call from ${e.name} is gone`);
      if (m.state === 'in_call' && m.peer === e.name && m.relayAsked)
        return none(m, `the hub did not relay the call with ${e.name}: ${e.reason || 'refused'}`);
      return none(m);
    case 'calling':
      return none(m);
  }
}

/** `106 <peer> <ip> <port> [keys]`: media to and from there [T-9]. */
function onMedia(m: Machine, e: Extract<CallEvent, { kind: 'media' }>, now: number): Step {
  const who = e.peer;
  const media = (direction: MediaDirection, moved: boolean): Effect => ({
    kind: 'media_start',
    ip: e.ip,
    port: e.port,
    srtp: e.srtp,
    direction,
    moved,
  });
  const at = `${e.ip}:${e.port}`;
  if (m.state === 'in_call' && m.peer === who) {
    // [G-3] A call already relayed is answered with its media as it is: nothing moves.
    if (at === m.media) return none(m, `the call with ${who} stays where it is`);
    // A new 106 in a call: the hub moved it (to its relay, with fresh keys); the media
    // session follows and the call goes on.
    return {
      machine: { ...m, media: at },
      effects: [media('both', true), notice(`the call with ${who} now goes through the hub`)],
    };
  }
  if (m.state === 'paging' && m.peer === who) {
    // [G-2] Where the page goes: the hub's relay copies it to every member.
    return to(
      m,
      'paging',
      who,
      now,
      [{ kind: 'led', pattern: 'on' }, media('send', false), notice(`paging ${who}`)],
      at,
    );
  }
  // [G-1] A call to a group is answered by one of its members: the call goes on with it.
  const answered = m.state === 'calling' && m.peer !== who;
  if (m.peer !== who && !answered) return none(m);
  if (m.state !== 'calling' && m.state !== 'ringing') return none(m);
  const via = answered ? m.peer : null;
  const step = to(
    m,
    'in_call',
    who,
    now,
    [
      { kind: 'tone', tone: 'none' },
      { kind: 'led', pattern: 'on' },
      media('both', false),
      notice(via ? `talking with ${who} (answered for ${via})` : `talking with ${who}`),
    ],
    at,
  );
  return { machine: { ...step.machine, via }, effects: step.effects };
}

/** [G-2] `111 <caller> <ip> <port> [keys]`: a page plays here at once, without a press. */
function onPaged(m: Machine, e: Extract<CallEvent, { kind: 'paged' }>, now: number): Step {
  const who = e.caller;
  if (m.state === 'paging' && m.peer === who) {
    // A hub that answers PAGE with 111 names the pager's relay address the same way.
    return onMedia(m, { kind: 'media', peer: who, ip: e.ip, port: e.port, srtp: e.srtp }, now);
  }
  if (m.state !== 'idle') return none(m, `a page from ${who} is not played: busy`);
  const play: Effect = {
    kind: 'media_start',
    ip: e.ip,
    port: e.port,
    srtp: e.srtp,
    direction: 'receive',
    moved: false,
  };
  const effects: Effect[] = [{ kind: 'led', pattern: 'on' }, play, notice(`${who} is paging`)];
  return to(m, 'paged', who, now, effects, `${e.ip}:${e.port}`);
}

function endedText(m: Machine, reason: string): string {
  const who = m.peer;
  if (reason === EndReason.ANSWERED_ELSEWHERE) return `call from ${who} answered elsewhere`;
  if (m.state === 'paged') return `page from ${who} ${reason || 'ended'}`;
  if (m.state === 'paging') return `page to ${who} ${reason || 'ended'}`;
  return `call with ${who} ${reason || 'ended'}`;
}

/** [G-2] `PAGE <group>`: no ring-back; the page starts when the hub names the relay. */
function startPage(m: Machine, target: string, now: number): Step {
  return to(m, 'paging', target, now, [
    { kind: 'send', verb: 'PAGE', arg: target },
    { kind: 'led', pattern: 'blink' },
    notice(`paging ${target}: waiting for the hub`),
  ]);
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
