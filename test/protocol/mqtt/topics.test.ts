/** Topic names and payload builders of docs/mqtt.md, as tables. */
import test from 'ava';
import {
  availability,
  type CallEvent,
  callEvent,
  doorbell,
  hasStateTopic,
  parseDeviceAnnouncement,
  topicsFor,
  userState,
} from '../../../protocol/mqtt/topics.ts';

test('topic names under the default and a nested base topic', (t) => {
  for (const base of ['babel', 'home/babel']) {
    const topics = topicsFor(base);
    t.is(topics.bridgeState, `${base}/bridge/state`);
    t.is(topics.calls, `${base}/calls`);
    t.is(topics.group('house'), `${base}/bridge/group/house`);
    t.is(topics.user('alice'), `${base}/alice`);
    t.is(topics.availability('alice'), `${base}/alice/availability`);
    t.is(topics.doorbell('alice'), `${base}/alice/doorbell`);
    t.is(topics.device('alice'), `${base}/alice/device`);
    t.is(topics.stats('alice'), `${base}/alice/stats`);
    t.is(topics.set('alice'), `${base}/alice/set`);
    t.is(topics.anyDevice, `${base}/+/device`);
    t.is(topics.haStatus, 'homeassistant/status');
  }
});

test('deviceOwner reads the user out of a device topic and nothing else', (t) => {
  const topics = topicsFor('home/babel');
  const table: Array<[string, string | null]> = [
    ['home/babel/alice/device', 'alice'],
    ['home/babel/a.b-c_d/device', 'a.b-c_d'],
    ['home/babel//device', null],
    ['home/babel/x/y/device', null],
    ['home/babel/alice/stats', null],
    ['babel/alice/device', null],
  ];
  for (const [topic, owner] of table) t.is(topics.deviceOwner(topic), owner, topic);
});

test('a user named calls has no state topic (it is the call event topic)', (t) => {
  t.false(hasStateTopic('calls'));
  for (const name of ['alice', 'bridge', 'call', 'calls2']) t.true(hasStateTopic(name));
});

test('userState: state, peer and since as ISO-8601 UTC', (t) => {
  const since = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  t.deepEqual(userState({ state: 'in_call', peer: 'bob', since }), {
    state: 'in_call',
    peer: 'bob',
    since: '2026-01-02T03:04:05.678Z',
  });
  t.deepEqual(userState({ state: 'offline', peer: null, since }).peer, null);
});

test('availability follows the state', (t) => {
  t.is(availability('offline'), 'offline');
  for (const s of ['idle', 'calling', 'ringing', 'in_call'] as const)
    t.is(availability(s), 'online');
});

const call = {
  id: '6c1b0b5e-58c5-4b6a-9c55-0d6f2a2d9f10',
  caller: { id: 'u1', name: 'door' },
  callee: { id: 'u2', name: 'flat3' },
  relayed: false,
};

test('callEvent: the fields of babel/calls for each event', (t) => {
  const table: Array<[CallEvent, Record<string, unknown>]> = [
    [
      { event: 'ringing', call, reason: null, durationMs: 0 },
      { event: 'ringing', reason: null, duration_ms: 0 },
    ],
    [
      { event: 'started', call, reason: null, durationMs: 0 },
      { event: 'started', reason: null, duration_ms: 0 },
    ],
    [
      { event: 'ended', call, reason: 'ended', durationMs: 12_345.6 },
      { event: 'ended', reason: 'ended', duration_ms: 12_346 },
    ],
    [
      { event: 'ended', call, reason: 'timeout', durationMs: 0 },
      { event: 'ended', reason: 'timeout', duration_ms: 0 },
    ],
  ];
  for (const [e, want] of table) {
    t.deepEqual(callEvent(e), {
      call_id: call.id,
      caller: 'door',
      callee: 'flat3',
      ...want,
    } as ReturnType<typeof callEvent>);
  }
});

test('doorbell: an HA event payload with event_type ring', (t) => {
  t.deepEqual(doorbell({ event: 'ringing', call, reason: null, durationMs: 0 }), {
    event_type: 'ring',
    callee: 'flat3',
    call_id: call.id,
  });
});

test('parseDeviceAnnouncement: door only when exactly true; junk is no announcement', (t) => {
  const table: Array<[string, unknown]> = [
    ['{"door":true}', { door: true }],
    ['{"door":false}', { door: false }],
    ['{"door":"yes"}', { door: false }],
    ['{}', { door: false }],
    [
      '{"door":true,"model":"Pi Zero door","sw_version":"0.1.0"}',
      { door: true, model: 'Pi Zero door', sw_version: '0.1.0' },
    ],
    ['{"door":true,"model":42}', { door: true }],
    ['{"door":false,"volume":70}', { door: false, volume: 70 }],
    ['{"door":false,"volume":101}', { door: false }],
    ['{"door":false,"volume":"70"}', { door: false }],
    ['', null],
    ['null', null],
    ['[true]', null],
    ['door', null],
    [`{"door":true,"model":"${'x'.repeat(5000)}"}`, null],
  ];
  for (const [payload, want] of table)
    t.deepEqual(parseDeviceAnnouncement(payload), want, payload.slice(0, 40));
  t.deepEqual(parseDeviceAnnouncement(Buffer.from('{"door":true}')), { door: true });
});

test('[G-1, G-2] callEvent names the group of a group call, and marks a page', (t) => {
  const ringing = { ...call, callee: { id: 'group:house', name: 'house' }, group: 'house' };
  t.like(callEvent({ event: 'ringing', call: ringing, reason: null, durationMs: 0 }), {
    callee: 'house',
    group: 'house',
  });
  const answered = { ...call, group: 'house' };
  const started = callEvent({ event: 'started', call: answered, reason: null, durationMs: 0 });
  t.like(started, { callee: 'flat3', group: 'house' });
  t.false('page' in started);
  const page = { ...ringing, relayed: true, page: true };
  t.like(callEvent({ event: 'started', call: page, reason: null, durationMs: 0 }), {
    group: 'house',
    page: true,
  });
  t.false('group' in callEvent({ event: 'started', call, reason: null, durationMs: 0 }));
});
