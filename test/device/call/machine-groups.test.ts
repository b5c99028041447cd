/**
 * The call machine's section G transitions (extensions): calls to a group answered by a
 * member [G-1], pages out and in [G-2], and the relay fallback of a direct call [G-3].
 */
import test from 'ava';
import {
  type CallState,
  type Effect,
  type Input,
  initialMachine,
  type Machine,
  type MachineOptions,
  step,
} from '../../../device/call/machine.ts';
import { hubEvent, isCallEvent } from '../../../device/hub/events.ts';

const OPTS: MachineOptions = { target: 'family', autoAnswer: false, doNotDisturb: false };
const press: Input = { kind: 'press', long: false };
const silent: Input = { kind: 'media_silent' };
const pagePress = (target: string): Input => ({ kind: 'page_press', target });
const hub = (line: string): Input => {
  const [code = '', ...args] = line.split(' ');
  const event = hubEvent({ code: Number(code), args });
  if (!event || !isCallEvent(event)) throw new Error(`${line} is not a call event`);
  return { kind: 'hub', event };
};

/** Runs inputs from idle+online; the final machine, its effects and its notices. */
function run(inputs: Input[], opts: MachineOptions = OPTS) {
  let m: Machine = step(initialMachine(0), { kind: 'online' }, 0, opts).machine;
  const effects: string[] = [];
  const notices: string[] = [];
  inputs.forEach((input, i) => {
    const s = step(m, input, i + 1, opts);
    m = s.machine;
    for (const e of s.effects) {
      if (e.kind === 'notice') notices.push(e.text);
      else effects.push(show(e));
    }
  });
  return { m, effects, notices };
}

function show(e: Effect): string {
  switch (e.kind) {
    case 'send':
      return `${e.verb} ${e.arg}`;
    case 'media_start':
      return `media ${e.direction} ${e.ip}:${e.port}${e.moved ? ' moved' : ''}${e.srtp ? ' srtp' : ''}`;
    case 'media_stop':
      return 'media stop';
    case 'tone':
      return `tone ${e.tone}`;
    case 'led':
      return `led ${e.pattern}`;
    default:
      return e.kind;
  }
}

const K1 = Buffer.alloc(30, 1).toString('base64');
const K2 = Buffer.alloc(30, 2).toString('base64');
const K3 = Buffer.alloc(30, 3).toString('base64');
const K4 = Buffer.alloc(30, 4).toString('base64');

const scenarios: Array<[string, Input[], CallState, string | null, string[]]> = [
  [
    '[G-1] a call to a group goes on with the member that answered',
    [press, hub('104 family'), hub('106 kitchen 10.0.0.2 5004')],
    'in_call',
    'kitchen',
    [
      'CALL family',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media both 10.0.0.2:5004',
    ],
  ],
  [
    '[G-1] hanging up after a member answered names the member',
    [press, hub('104 family'), hub('106 kitchen 10.0.0.2 5004'), press],
    'idle',
    null,
    [
      'CALL family',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media both 10.0.0.2:5004',
      'HANGUP kitchen',
      'media stop',
      'tone none',
      'led off',
    ],
  ],
  [
    '[G-1] cancelling before anyone answered names the group',
    [press, hub('104 family'), press],
    'idle',
    null,
    ['CALL family', 'tone ringback', 'led blink', 'HANGUP family', 'tone none', 'led off'],
  ],
  [
    '[G-1] nobody in the group answers: 107 <group> timeout',
    [press, hub('104 family'), hub('107 family timeout')],
    'idle',
    null,
    ['CALL family', 'tone ringback', 'led blink', 'tone none', 'led off'],
  ],
  [
    '[G-1] no member reachable: 404 <group> offline',
    [press, hub('404 family offline')],
    'idle',
    null,
    ['CALL family', 'tone ringback', 'led blink', 'tone none', 'led off'],
  ],
  [
    '[G-1] ringing, answered elsewhere: the ring stops at once, back to idle',
    [hub('105 door'), hub('107 door answered_elsewhere')],
    'idle',
    null,
    ['tone ring', 'led blink', 'tone none', 'led off'],
  ],
  [
    '[G-1] answered elsewhere after our own ACCEPT crossed it: idle, no media',
    [hub('105 door'), press, hub('107 door answered_elsewhere'), hub('404 door no_call')],
    'idle',
    null,
    ['tone ring', 'led blink', 'ACCEPT door', 'tone none', 'tone none', 'led off'],
  ],
  [
    '[G-2] the page button pages; the hub names the relay; the mic goes there one-way',
    [pagePress('floors'), hub('106 floors 10.0.0.1 40000')],
    'paging',
    'floors',
    ['PAGE floors', 'led blink', 'led on', 'media send 10.0.0.1:40000'],
  ],
  [
    '[G-2] a hub that answers PAGE with 111 is understood the same way',
    [pagePress('floors'), hub('104 floors'), hub('111 floors 10.0.0.1 40000')],
    'paging',
    'floors',
    ['PAGE floors', 'led blink', 'led on', 'media send 10.0.0.1:40000'],
  ],
  [
    '[G-2] the page button again ends the page',
    [pagePress('floors'), hub('106 floors 10.0.0.1 40000'), pagePress('floors')],
    'idle',
    null,
    [
      'PAGE floors',
      'led blink',
      'led on',
      'media send 10.0.0.1:40000',
      'HANGUP floors',
      'media stop',
      'tone none',
      'led off',
    ],
  ],
  [
    '[G-2] a hang-up press ends the page too',
    [pagePress('floors'), hub('106 floors 10.0.0.1 40000'), press],
    'idle',
    null,
    [
      'PAGE floors',
      'led blink',
      'led on',
      'media send 10.0.0.1:40000',
      'HANGUP floors',
      'media stop',
      'tone none',
      'led off',
    ],
  ],
  [
    '[G-2] the MQTT page command pages, the MQTT hangup ends it',
    [
      { kind: 'command', action: 'page', target: 'floors' },
      { kind: 'command', action: 'hangup' },
    ],
    'idle',
    null,
    ['PAGE floors', 'led blink', 'HANGUP floors', 'media stop', 'tone none', 'led off'],
  ],
  [
    '[G-2] a page refused (no member reachable) returns to idle',
    [pagePress('floors'), hub('404 floors offline')],
    'idle',
    null,
    ['PAGE floors', 'led blink', 'media stop', 'tone none', 'led off'],
  ],
  [
    '[G-2] a page to play starts at once, receive only, no ring, no press',
    [hub('111 door 10.0.0.1 40002')],
    'paged',
    'door',
    ['led on', 'media receive 10.0.0.1:40002'],
  ],
  [
    '[G-2] a page in SRTP keeps its keys',
    [hub(`111 door 10.0.0.1 40002 AES_CM_128_HMAC_SHA1_80 ${K1} ${K2}`)],
    'paged',
    'door',
    ['led on', 'media receive 10.0.0.1:40002 srtp'],
  ],
  [
    '[G-2] 107 <pager> ended stops the page',
    [hub('111 door 10.0.0.1 40002'), hub('107 door ended')],
    'idle',
    null,
    ['led on', 'media receive 10.0.0.1:40002', 'media stop', 'tone none', 'led off'],
  ],
  [
    '[G-2] a press while a page plays leaves it (HANGUP <pager>: it goes on for the others)',
    [hub('111 door 10.0.0.1 40002'), press],
    'idle',
    null,
    ['led on', 'media receive 10.0.0.1:40002', 'HANGUP door', 'media stop', 'tone none', 'led off'],
  ],
  [
    '[G-2] so does the MQTT hangup',
    [hub('111 door 10.0.0.1 40002'), { kind: 'command', action: 'hangup' }],
    'idle',
    null,
    ['led on', 'media receive 10.0.0.1:40002', 'HANGUP door', 'media stop', 'tone none', 'led off'],
  ],
  [
    '[G-2] the page button while a page plays does nothing',
    [hub('111 door 10.0.0.1 40002'), pagePress('floors')],
    'paged',
    'door',
    ['led on', 'media receive 10.0.0.1:40002'],
  ],
  [
    '[G-2] a page while in a call is not played',
    [press, hub('106 kitchen 10.0.0.2 5004'), hub('111 door 10.0.0.1 40002')],
    'in_call',
    'kitchen',
    [
      'CALL family',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media both 10.0.0.2:5004',
    ],
  ],
  ['[G-2] a bad page address is ignored', [hub('111 door 10.0.0.1 0')], 'idle', null, []],
  [
    '[G-2] the page button while in a call does nothing',
    [press, hub('106 kitchen 10.0.0.2 5004'), pagePress('floors')],
    'in_call',
    'kitchen',
    [
      'CALL family',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media both 10.0.0.2:5004',
    ],
  ],
  [
    '[G-3] silence while sending asks the hub to relay, once; the new 106 moves the media',
    [
      press,
      hub(`106 kitchen 10.0.0.2 5004 AES_CM_128_HMAC_SHA1_80 ${K1} ${K2}`),
      silent,
      hub(`106 kitchen 10.0.0.1 40010 AES_CM_128_HMAC_SHA1_80 ${K3} ${K4}`),
      silent,
    ],
    'in_call',
    'kitchen',
    [
      'CALL family',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media both 10.0.0.2:5004 srtp',
      'RELAY kitchen',
      'media both 10.0.0.1:40010 moved srtp',
    ],
  ],
  [
    '[G-3] the hub may move a call without being asked',
    [hub('105 door'), press, hub('106 door 10.0.0.3 6000'), hub('106 door 10.0.0.1 40010')],
    'in_call',
    'door',
    [
      'tone ring',
      'led blink',
      'ACCEPT door',
      'tone none',
      'tone none',
      'led on',
      'media both 10.0.0.3:6000',
      'media both 10.0.0.1:40010 moved',
    ],
  ],
  [
    '[G-3] silence outside a call asks nothing',
    [silent, press, silent],
    'calling',
    'family',
    ['CALL family', 'tone ringback', 'led blink'],
  ],
  [
    '[G-3] a refused RELAY leaves the call as it is',
    [press, hub('106 kitchen 10.0.0.2 5004'), silent, hub('404 kitchen no_relay')],
    'in_call',
    'kitchen',
    [
      'CALL family',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media both 10.0.0.2:5004',
      'RELAY kitchen',
    ],
  ],
];

for (const [name, inputs, state, peer, effects] of scenarios) {
  test(name, (t) => {
    const r = run(inputs);
    t.is(r.m.state, state);
    t.is(r.m.peer, peer);
    t.deepEqual(r.effects, effects);
  });
}

test('[G-1] the narration says who answered for the group, and answered elsewhere', (t) => {
  const caller = run([press, hub('106 kitchen 10.0.0.2 5004')]);
  t.is(caller.m.via, 'family');
  t.true(caller.notices.includes('talking with kitchen (answered for family)'));
  const member = run([hub('105 door'), hub('107 door answered_elsewhere')]);
  t.true(member.notices.includes('call from door answered elsewhere'));
});

test('[G-3] RELAY is asked for once per call, and again in the next call', (t) => {
  const r = run([
    press,
    hub('106 kitchen 10.0.0.2 5004'),
    silent,
    silent,
    hub('107 kitchen ended'),
    press,
    hub('106 office 10.0.0.4 5004'),
    silent,
  ]);
  t.deepEqual(
    r.effects.filter((e) => e.startsWith('RELAY')),
    ['RELAY kitchen', 'RELAY office'],
  );
  t.false(run([press, hub('106 kitchen 10.0.0.2 5004')]).m.relayAsked);
});

test('[G-2] a page from someone else while paged, and a ring while paged, are not taken', (t) => {
  const r = run([hub('111 door 10.0.0.1 40002'), hub('111 gate 10.0.0.1 40004'), hub('105 gate')]);
  t.is(r.m.state, 'paged');
  t.is(r.m.peer, 'door');
  t.deepEqual(r.effects, ['led on', 'media receive 10.0.0.1:40002']);
});

test('[G-3] a 106 naming where the media already goes moves nothing (a call already relayed)', (t) => {
  const r = run([
    press,
    hub('106 kitchen 10.0.0.1 40010'),
    silent,
    hub('106 kitchen 10.0.0.1 40010'),
  ]);
  t.is(r.m.state, 'in_call');
  t.is(r.m.media, '10.0.0.1:40010');
  t.deepEqual(r.effects.slice(-2), ['media both 10.0.0.1:40010', 'RELAY kitchen']);
  t.true(r.notices.includes('the call with kitchen stays where it is'));
});

test('the media address is remembered for calls and pages, and forgotten after', (t) => {
  t.is(run([hub('111 door 10.0.0.1 40002')]).m.media, '10.0.0.1:40002');
  t.is(run([pagePress('floors'), hub('106 floors 10.0.0.1 40000')]).m.media, '10.0.0.1:40000');
  t.is(run([hub('111 door 10.0.0.1 40002'), hub('107 door ended')]).m.media, null);
});
