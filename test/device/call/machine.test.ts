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

const OPTS: MachineOptions = { target: 'kitchen', autoAnswer: false, doNotDisturb: false };
const press: Input = { kind: 'press', long: false };
const longPress: Input = { kind: 'press', long: true };
/** A hub line as the client hands it on: its meaning, read by device/hub/events.ts. */
const hub = (code: number, ...args: string[]): Input => {
  const event = hubEvent({ code, args });
  if (!event || !isCallEvent(event)) throw new Error(`${code} is not a call event`);
  return { kind: 'hub', event };
};

/** Runs inputs from idle+online and returns the final machine and all non-notice effects. */
function run(inputs: Input[], opts: MachineOptions = OPTS): { m: Machine; effects: string[] } {
  let m = step(initialMachine(0), { kind: 'online' }, 0, opts).machine;
  const effects: string[] = [];
  inputs.forEach((input, i) => {
    const s = step(m, input, i + 1, opts);
    m = s.machine;
    effects.push(...s.effects.filter((e) => e.kind !== 'notice').map(show));
  });
  return { m, effects };
}

function show(e: Effect): string {
  switch (e.kind) {
    case 'send':
      return `${e.verb} ${e.arg}`;
    case 'media_start':
      return `media ${e.ip}:${e.port}`;
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

const scenarios: Array<[string, Input[], CallState, string | null, string[]]> = [
  [
    'idle press calls the target; 106 starts media',
    [press, hub(104, 'kitchen'), hub(106, 'kitchen', '10.0.0.2', '5004')],
    'in_call',
    'kitchen',
    ['CALL kitchen', 'tone ringback', 'led blink', 'tone none', 'led on', 'media 10.0.0.2:5004'],
  ],
  [
    'ringing press accepts; the hub reply 106 starts media',
    [hub(105, 'door'), press, hub(106, 'door', '10.0.0.3', '6000')],
    'in_call',
    'door',
    [
      'tone ring',
      'led blink',
      'ACCEPT door',
      'tone none',
      'tone none',
      'led on',
      'media 10.0.0.3:6000',
    ],
  ],
  [
    'long press while ringing declines',
    [hub(105, 'door'), longPress],
    'idle',
    null,
    ['tone ring', 'led blink', 'HANGUP door', 'tone none', 'led off'],
  ],
  [
    'press in a call hangs up and stops media',
    [hub(105, 'door'), press, hub(106, 'door', '10.0.0.3', '6000'), press],
    'idle',
    null,
    [
      'tone ring',
      'led blink',
      'ACCEPT door',
      'tone none',
      'tone none',
      'led on',
      'media 10.0.0.3:6000',
      'HANGUP door',
      'media stop',
      'tone none',
      'led off',
    ],
  ],
  [
    'press while calling cancels',
    [press, press],
    'idle',
    null,
    ['CALL kitchen', 'tone ringback', 'led blink', 'HANGUP kitchen', 'tone none', 'led off'],
  ],
  [
    'peer hangs up (107) in a call',
    [press, hub(106, 'kitchen', '10.0.0.2', '5004'), hub(107, 'kitchen', 'ended')],
    'idle',
    null,
    [
      'CALL kitchen',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media 10.0.0.2:5004',
      'media stop',
      'tone none',
      'led off',
    ],
  ],
  [
    'CALL refused (404 busy) returns to idle',
    [press, hub(404, 'kitchen', 'busy')],
    'idle',
    null,
    ['CALL kitchen', 'tone ringback', 'led blink', 'tone none', 'led off'],
  ],
  [
    'a second 105 while ringing is ignored',
    [hub(105, 'door'), hub(105, 'garage')],
    'ringing',
    'door',
    ['tone ring', 'led blink'],
  ],
  [
    'a 107 about someone else is ignored',
    [press, hub(107, 'garage', 'ended')],
    'calling',
    'kitchen',
    ['CALL kitchen', 'tone ringback', 'led blink'],
  ],
  // A 106 whose address cannot be used (port 0 or out of range, a host name) ends the
  // call cleanly: HANGUP to the hub, no media, back to idle.
  [
    '106 with port 0 hangs up instead of calling without media',
    [press, hub(106, 'kitchen', '10.0.0.2', '0')],
    'idle',
    null,
    ['CALL kitchen', 'tone ringback', 'led blink', 'HANGUP kitchen', 'tone none', 'led off'],
  ],
  [
    '106 with port 70000 while ringing hangs up',
    [hub(105, 'door'), press, hub(106, 'door', '10.0.0.3', '70000')],
    'idle',
    null,
    ['tone ring', 'led blink', 'ACCEPT door', 'tone none', 'HANGUP door', 'tone none', 'led off'],
  ],
  [
    '106 with a host name in a call stops the media and hangs up',
    [press, hub(106, 'kitchen', '10.0.0.2', '5004'), hub(106, 'kitchen', 'evil.example', '5004')],
    'idle',
    null,
    [
      'CALL kitchen',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media 10.0.0.2:5004',
      'HANGUP kitchen',
      'media stop',
      'tone none',
      'led off',
    ],
  ],
  [
    'a bad 106 about someone else is ignored',
    [press, hub(106, 'garage', '10.0.0.2', '-1')],
    'calling',
    'kitchen',
    ['CALL kitchen', 'tone ringback', 'led blink'],
  ],
  ['long press while idle does nothing', [longPress], 'idle', null, []],
  [
    'losing the hub in a call stops media; LED fast blink',
    [press, hub(106, 'kitchen', '10.0.0.2', '5004'), { kind: 'offline' }],
    'idle',
    null,
    [
      'CALL kitchen',
      'tone ringback',
      'led blink',
      'tone none',
      'led on',
      'media 10.0.0.2:5004',
      'media stop',
      'tone none',
      'led fast_blink',
    ],
  ],
  [
    'MQTT commands: call, then hangup',
    [
      { kind: 'command', action: 'call', target: 'garage' },
      { kind: 'command', action: 'hangup' },
    ],
    'idle',
    null,
    ['CALL garage', 'tone ringback', 'led blink', 'HANGUP garage', 'tone none', 'led off'],
  ],
  [
    'MQTT accept while ringing',
    [hub(105, 'door'), { kind: 'command', action: 'accept' }],
    'ringing',
    'door',
    ['tone ring', 'led blink', 'ACCEPT door', 'tone none'],
  ],
  [
    'a press on a panel button names its own target',
    [{ kind: 'press', long: false, target: 'flat-2' }],
    'calling',
    'flat-2',
    ['CALL flat-2', 'tone ringback', 'led blink'],
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

test('auto-answer accepts without a press', (t) => {
  const r = run([hub(105, 'door')], { ...OPTS, autoAnswer: true });
  t.is(r.m.state, 'ringing');
  t.deepEqual(r.effects, ['ACCEPT door']);
});

test('do not disturb declines at once and stays idle', (t) => {
  const r = run([hub(105, 'door')], { ...OPTS, doNotDisturb: true });
  t.is(r.m.state, 'idle');
  t.deepEqual(r.effects, ['HANGUP door']);
});

test('a press while the hub is unreachable does nothing but say why', (t) => {
  const s = step(initialMachine(0), press, 1, OPTS);
  t.is(s.machine.state, 'idle');
  t.deepEqual(s.effects, [{ kind: 'notice', text: 'not connected to the hub' }]);
});

test('since follows state changes, with time passed in', (t) => {
  let m = step(initialMachine(0), { kind: 'online' }, 5, OPTS).machine;
  t.is(m.since, 0);
  m = step(m, press, 100, OPTS).machine;
  t.is(m.since, 100);
  m = step(m, hub(104, 'kitchen'), 150, OPTS).machine;
  t.is(m.since, 100);
});
