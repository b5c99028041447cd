import test from 'ava';
import { type HubEvent, hubEvent, isCallEvent } from '../../../device/hub/events.ts';
import { Text } from '../../../protocol/codes.ts';
import { parseReply } from '../../../protocol/text/codec.ts';

/** Base64 of n bytes (n = 30: an SRTP master key and salt). */
function b64(n: number, fill = 7): string {
  return Buffer.alloc(n, fill).toString('base64');
}
const K1 = b64(30, 1);
const K2 = b64(30, 2);

function bad(reason: string): HubEvent {
  return { kind: 'bad_media', peer: 'door', reason };
}

/** Each line a device can get, and what it means; `null`: ignored as unexpected. */
const lines: Array<[string, HubEvent | null]> = [
  [
    '101 0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11 door',
    { kind: 'connected', uuid: '0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11' },
  ],
  ['101', null],
  ['401 door unknown', { kind: 'not_connected', name: 'door', reason: 'unknown' }],
  ['401 door bad_secret', { kind: 'not_connected', name: 'door', reason: 'bad_secret' }],
  ['108 door', { kind: 'created', name: 'door' }],
  ['408 door exists', { kind: 'create_refused', name: 'door', reason: 'exists' }],
  ['109', { kind: 'pong' }],
  ['109 t0k3n', { kind: 'pong' }],
  ['104 kitchen', { kind: 'calling', target: 'kitchen' }],
  ['105 door', { kind: 'ringing', caller: 'door' }],
  ['105', null],
  [
    '106 door 10.0.0.3 6000',
    { kind: 'media', peer: 'door', ip: '10.0.0.3', port: 6000, srtp: null },
  ],
  ['106 door 10.0.0.3 1', { kind: 'media', peer: 'door', ip: '10.0.0.3', port: 1, srtp: null }],
  [
    '106 door 10.0.0.3 65535',
    { kind: 'media', peer: 'door', ip: '10.0.0.3', port: 65535, srtp: null },
  ],
  [
    '106 door ::ffff:10.0.0.3 6000',
    { kind: 'media', peer: 'door', ip: '10.0.0.3', port: 6000, srtp: null },
  ],
  // Input from the hub is input too: every field of a 106 is checked before use.
  ['106 door 10.0.0.3 0', bad('port out of range 1-65535')],
  ['106 door 10.0.0.3 70000', bad('port out of range 1-65535')],
  ['106 door 10.0.0.3 99999', bad('port out of range 1-65535')],
  ['106 door 10.0.0.3 -1', bad('port is not a number')],
  ['106 door 10.0.0.3 +6000', bad('port is not a number')],
  ['106 door 10.0.0.3 6e3', bad('port is not a number')],
  ['106 door 10.0.0.3 0x1770', bad('port is not a number')],
  ['106 door 10.0.0.3 123456', bad('port is not a number')],
  ['106 door 10.0.0.3', bad('port is not a number')],
  ['106 door 10.0.0.3 http', bad('port is not a number')],
  ['106 door 10.0.0.3 50.5', bad('port is not a number')],
  ['106 door example.com 6000', bad('address is not an IPv4 literal')],
  ['106 door localhost 6000', bad('address is not an IPv4 literal')],
  ['106 door 10.0.0.256 6000', bad('address is not an IPv4 literal')],
  ['106 door 10.0.0 6000', bad('address is not an IPv4 literal')],
  ['106 door ::1 6000', bad('address is not an IPv4 literal')],
  ['106 door', bad('no address')],
  ['106', null],
  // [S-4] keys: the suite, then <send> and <recv>, each the base64 of 30 bytes.
  [
    `106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1} ${K2}`,
    {
      kind: 'media',
      peer: 'door',
      ip: '10.0.0.3',
      port: 6000,
      srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', send: K1, recv: K2 },
    },
  ],
  [`106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_32 ${K1} ${K2}`, bad('unsupported SRTP suite')],
  [`106 door 10.0.0.3 6000 AEAD_AES_256_GCM ${K1} ${K2}`, bad('unsupported SRTP suite')],
  [
    `106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1}`,
    bad('SRTP keys missing or extra arguments'),
  ],
  ['106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80', bad('SRTP keys missing or extra arguments')],
  [
    `106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1} ${K2} x`,
    bad('SRTP keys missing or extra arguments'),
  ],
  // 29 and 31 bytes, padding, URL-safe alphabet, lifetime / MKI suffix: all refused.
  [`106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${b64(29)} ${K2}`, bad('bad SRTP key')],
  [`106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1} ${b64(31)}`, bad('bad SRTP key')],
  [`106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1}== ${K2}`, bad('bad SRTP key')],
  [
    `106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1.replace(/./, '-')} ${K2}`,
    bad('bad SRTP key'),
  ],
  [`106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1}|2^31 ${K2}`, bad('bad SRTP key')],
  [
    `106 door 10.0.0.3 6000 AES_CM_128_HMAC_SHA1_80 ${K1} ${K1}`,
    bad('the same SRTP key both ways'),
  ],
  // The address is checked first.
  [`106 door 10.0.0.3 0 AES_CM_128_HMAC_SHA1_80 ${K1} ${K2}`, bad('port out of range 1-65535')],
  // [G-2] A page to play: the same address and key rules as 106.
  [
    '111 door 10.0.0.1 40000',
    { kind: 'paged', caller: 'door', ip: '10.0.0.1', port: 40000, srtp: null },
  ],
  [
    `111 door 10.0.0.1 40000 AES_CM_128_HMAC_SHA1_80 ${K1} ${K2}`,
    {
      kind: 'paged',
      caller: 'door',
      ip: '10.0.0.1',
      port: 40000,
      srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', send: K1, recv: K2 },
    },
  ],
  ['111 door 10.0.0.1 0', bad('port out of range 1-65535')],
  ['111 door relay.example 40000', bad('address is not an IPv4 literal')],
  [
    `111 door 10.0.0.1 40000 AES_CM_128_HMAC_SHA1_80 ${K1}`,
    bad('SRTP keys missing or extra arguments'),
  ],
  ['111 Door 10.0.0.1 40000', null],
  ['111', null],
  [
    '107 kitchen answered_elsewhere',
    { kind: 'ended', peer: 'kitchen', reason: 'answered_elsewhere' },
  ],
  // Names go back to the hub (ACCEPT, HANGUP) and into the narration: valid names only.
  ['105 Door', null],
  ['105 ../../etc', null],
  [`105 ${'a'.repeat(33)}`, null],
  ['106 -door 10.0.0.3 6000', null],
  ['104 k\u00e4che', null],
  ['107 door:x ended', null],
  ['404 door;rm busy', null],
  // Reasons are only told: a short word, else `invalid`.
  ['107 door <script>', { kind: 'ended', peer: 'door', reason: 'invalid' }],
  [`404 kitchen ${'x'.repeat(33)}`, { kind: 'call_refused', name: 'kitchen', reason: 'invalid' }],
  ['401 door Bad_Secret', { kind: 'not_connected', name: 'door', reason: 'invalid' }],
  [`101 ${'f'.repeat(65)} door`, null],
  ['107 door declined', { kind: 'ended', peer: 'door', reason: 'declined' }],
  ['107 door', { kind: 'ended', peer: 'door', reason: '' }],
  ['404 kitchen busy', { kind: 'call_refused', name: 'kitchen', reason: 'busy' }],
  ['404', null],
  ['102', null],
  ['103 door:idle kitchen:online', null],
  ['400 bad_request', null],
  ['999 what', null],
];

for (const [line, event] of lines) {
  test(`${line} -> ${event?.kind ?? 'ignored'}`, (t) => {
    t.deepEqual(hubEvent(parseReply(line)!), event);
  });
}

test('every code a device may get has a meaning, read from the one table', (t) => {
  const meant = new Set(lines.filter(([, e]) => e !== null).map(([l]) => Number(l.slice(0, 3))));
  // Nothing to act on: the answers to OUT and USERS (never sent) and to DND (sent at
  // registration; its answer changes nothing), a request it never gets wrong (400), and
  // the hub's own failure (500: the reply deadline reconnects).
  const { BYE, USERS, BAD_REQUEST, DND, INTERNAL_ERROR, ...device } = Text;
  t.deepEqual([...meant].sort(), Object.values(device).sort());
  for (const code of [BYE, USERS, BAD_REQUEST, DND, INTERNAL_ERROR]) t.false(meant.has(code));
});

test('only call events go to the call machine', (t) => {
  const calls = lines.flatMap(([, e]) => (e && isCallEvent(e) ? [e.kind] : []));
  t.deepEqual(
    [...new Set(calls)],
    ['calling', 'ringing', 'media', 'bad_media', 'paged', 'ended', 'call_refused'],
  );
});
