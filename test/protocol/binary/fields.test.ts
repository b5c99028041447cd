import test from 'ava';
import {
  type Fields,
  formatFields,
  formatRecords,
  parseFields,
  parseRecords,
} from '../../../protocol/binary/fields.ts';
import { ProtocolError } from '../../../protocol/errors.ts';
import { mulberry32 } from '../../helpers/prng.ts';

/** Fields as ordered pairs: compares order too, and ignores the (null) prototype. */
const pairs = (f: Fields) => Object.entries(f);

// --- fixtures: (name, fields, canonical text) -> parse, format, round trip --------------

const lists: { name: string; fields: Fields; text: string }[] = [
  { name: 'empty', fields: {}, text: '' },
  { name: 'one pair', fields: { id: '1' }, text: 'id: "1"' },
  {
    name: 'login reply',
    fields: { id: '12', name: 'alice', token: 'a1b2' },
    text: 'id: "12", name: "alice", token: "a1b2"',
  },
  {
    name: 'escaped quote and backslash',
    fields: { name: 'al"ice', path: 'c:\\dir\\' },
    text: 'name: "al\\"ice", path: "c:\\\\dir\\\\"',
  },
  {
    name: 'delimiters inside a value',
    fields: { v: 'a, b: [c], d: "e"' },
    text: 'v: "a, b: [c], d: \\"e\\""',
  },
  { name: 'empty value', fields: { error: '' }, text: 'error: ""' },
  {
    name: 'unicode and a newline',
    fields: { name: 'Zoé 日本 😀\nx' },
    text: 'name: "Zoé 日本 😀\nx"',
  },
  {
    name: 'prototype-named keys are plain keys',
    fields: { ['__proto__']: 'x', constructor: 'y', has_own_property: 'z' },
    text: '__proto__: "x", constructor: "y", has_own_property: "z"',
  },
];

for (const { name, fields, text } of lists) {
  test(`fields parse: ${name}`, (t) => {
    const parsed = parseFields(text);
    t.deepEqual(pairs(parsed), pairs(fields));
    t.is(Object.getPrototypeOf(parsed), null);
  });
  test(`fields format: ${name}`, (t) => {
    t.is(formatFields(fields), text);
  });
  test(`fields round trip: ${name}`, (t) => {
    t.deepEqual(pairs(parseFields(formatFields(fields))), pairs(fields));
  });
}

test('fields parse: a __proto__ key does not touch the prototype', (t) => {
  const f = parseFields('__proto__: "polluted", constructor: "c"');
  t.is(Object.getPrototypeOf(f), null);
  t.deepEqual(pairs(f), [
    ['__proto__', 'polluted'],
    ['constructor', 'c'],
  ]);
  t.is(({} as Record<string, unknown>).polluted, undefined);
});

// Lenient input: accepted, and formatted back in the canonical form.
const lenient: { name: string; text: string; fields: Fields }[] = [
  { name: 'blank', text: ' \t\r\n ', fields: {} },
  {
    name: 'whitespace around every token',
    text: '  id :"1" ,\n\tname:  "x"  ',
    fields: { id: '1', name: 'x' },
  },
  {
    name: "the seed's capitalised keys are lowercased",
    text: 'Id: "1", Token: "t", ERROR: "e"',
    fields: { id: '1', token: 't', error: 'e' },
  },
  {
    name: 'bare digits (extension)',
    text: 'nb_packets: 3, size_packet:160',
    fields: { nb_packets: '3', size_packet: '160' },
  },
  {
    name: "the seed's empty value",
    text: 'user_mail: "", pass: ""',
    fields: { user_mail: '', pass: '' },
  },
];

for (const { name, text, fields } of lenient) {
  test(`fields lenient parse: ${name}`, (t) => {
    t.deepEqual(pairs(parseFields(text)), pairs(fields));
  });
}

// --- error table: text -> offset and message --------------------------------------------

const fieldErrors: { text: string; at: number; says: string }[] = [
  { text: 'id', at: 2, says: `expected ':' after key "id", found end of text` },
  { text: 'id "1"', at: 3, says: `expected ':' after key "id", found "\\""` },
  { text: 'id: ', at: 4, says: 'expected a value, found end of text' },
  { text: 'id: 1a', at: 4, says: 'unquoted value "1a" (only digits may be left unquoted)' },
  { text: 'id: abc', at: 4, says: 'unquoted value "abc" (only digits may be left unquoted)' },
  { text: 'id: -1', at: 4, says: 'unquoted value "-1" (only digits may be left unquoted)' },
  { text: 'id: [x]', at: 4, says: 'expected a value, found "["' },
  { text: 'id: "1', at: 4, says: 'unterminated string' },
  { text: 'id: "1\\"', at: 4, says: 'unterminated string' },
  { text: 'id: "1\\', at: 4, says: 'unterminated string' },
  { text: 'id: "\\n"', at: 5, says: 'invalid escape "\\\\n"' },
  { text: "id: '1'", at: 4, says: `unquoted value "'1'" (only digits may be left unquoted)` },
  { text: 'id: "1",', at: 8, says: 'expected a key, found end of text' },
  { text: ', id: "1"', at: 0, says: 'expected a key, found ","' },
  { text: 'id: "1",, x: "2"', at: 8, says: 'expected a key, found ","' },
  { text: 'id: "1" name: "2"', at: 8, says: `expected ',' or end of text, found "n"` },
  { text: 'id: "1" "2"', at: 8, says: `expected ',' or end of text, found "\\""` },
  { text: 'id: "1"]', at: 7, says: `expected ',' or end of text, found "]"` },
  { text: 'id: "1", id: "2"', at: 9, says: 'duplicate key "id"' },
  { text: 'Id: "1", iD: "2"', at: 9, says: 'duplicate key "id"' },
  { text: 'id1: "1"', at: 0, says: 'invalid key "id1" (keys are [a-z_]+)' },
  { text: 'a-b: "1"', at: 0, says: 'invalid key "a-b" (keys are [a-z_]+)' },
  { text: 'clé: "1"', at: 0, says: 'invalid key "clé" (keys are [a-z_]+)' },
  { text: '\u212aey: "1"', at: 0, says: 'invalid key "\u212aey" (keys are [a-z_]+)' },
  { text: ': "1"', at: 0, says: 'expected a key, found ":"' },
  { text: '[id: "1"]', at: 0, says: 'expected a key, found "["' },
];

for (const { text, at, says } of fieldErrors) {
  test(`fields error: ${JSON.stringify(text)}`, (t) => {
    const err = t.throws(() => parseFields(text), { instanceOf: ProtocolError });
    t.like(err, { code: 400, reason: 'bad_fields', fatal: false });
    t.is(err?.message, `bad field list: ${says} at offset ${at}`);
  });
}

test('fields error: a long token is shortened in the message', (t) => {
  const err = t.throws(() => parseFields(`${'x'.repeat(1000)}9: "1"`));
  t.true((err?.message.length ?? 0) < 120);
});

test('formatFields refuses a key that would not parse back', (t) => {
  for (const key of ['Id', 'a1', '', 'a b', 'é']) {
    t.throws(() => formatFields({ [key]: 'v' }), { instanceOf: RangeError });
  }
});

// --- records ----------------------------------------------------------------------------

const recordLists: { name: string; records: Fields[]; text: string }[] = [
  { name: 'no records', records: [], text: '' },
  { name: 'one empty record', records: [{}], text: '[]' },
  {
    name: 'contacts',
    records: [
      { id: '1', name: 'bob', status: 'idle' },
      { id: '2', name: 'eve', status: 'pending' },
    ],
    text: '[id: "1", name: "bob", status: "idle"], [id: "2", name: "eve", status: "pending"]',
  },
  {
    name: 'brackets and commas inside values',
    records: [{ x: '], [' }, {}, { y: '"[' }],
    text: '[x: "], ["], [], [y: "\\"["]',
  },
];

for (const { name, records, text } of recordLists) {
  test(`records parse: ${name}`, (t) => {
    t.deepEqual(parseRecords(text).map(pairs), records.map(pairs));
  });
  test(`records format: ${name}`, (t) => {
    t.is(formatRecords(records), text);
  });
  test(`records round trip: ${name}`, (t) => {
    t.deepEqual(parseRecords(formatRecords(records)).map(pairs), records.map(pairs));
  });
}

test('records lenient parse: whitespace, capitals and the seed\'s `id:""`', (t) => {
  t.deepEqual(parseRecords('  [ Id:"1" ] ,\n[id:"", name: "", status: ""]  ').map(pairs), [
    [['id', '1']],
    [
      ['id', ''],
      ['name', ''],
      ['status', ''],
    ],
  ]);
});

const recordErrors: { text: string; at: number; says: string }[] = [
  { text: 'id: "1"', at: 0, says: `expected '[', found "i"` },
  { text: '[id: "1"', at: 8, says: `expected ',' or ']', found end of text` },
  { text: '[id: "1"],', at: 10, says: `expected '[', found end of text` },
  { text: '[id: "1"] [id: "2"]', at: 10, says: `expected ',' or end of text, found "["` },
  { text: '[id: "1",]', at: 9, says: 'expected a key, found "]"' },
  { text: '[[id: "1"]]', at: 1, says: 'expected a key, found "["' },
  { text: '[id: "1", id: "2"]', at: 10, says: 'duplicate key "id"' },
  { text: '[id: "1"]]', at: 9, says: `expected ',' or end of text, found "]"` },
  { text: ']', at: 0, says: `expected '[', found "]"` },
];

for (const { text, at, says } of recordErrors) {
  test(`records error: ${JSON.stringify(text)}`, (t) => {
    const err = t.throws(() => parseRecords(text), { instanceOf: ProtocolError });
    t.like(err, { code: 400, reason: 'bad_fields' });
    t.is(err?.message, `bad field list: ${says} at offset ${at}`);
  });
}

// --- fuzz ---------------------------------------------------------------------------------

const KEY_CHARS = [...'abcdefghijklmnopqrstuvwxyz_'];
const SPECIAL_KEYS = ['__proto__', 'constructor', 'prototype', 'to_string', 'has_own_property'];
const VALUE_PIECES = ['a', 'Z', '0', '7', ' ', ',', ':', '"', '\\', '\\\\', '\\"', '[', ']', '{'];
const UNICODE = ['é', '日本', '😀', '\u0000', '\n', '\ufeff', '\u212a'];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function randomKey(rand: () => number): string {
  if (rand() < 0.1) return pick(rand, SPECIAL_KEYS);
  let key = '';
  for (let n = 1 + Math.floor(rand() * 8); n > 0; n--) key += pick(rand, KEY_CHARS);
  return key;
}

function randomValue(rand: () => number): string {
  let value = '';
  for (let n = Math.floor(rand() * 8); n > 0; n--) {
    value += rand() < 0.2 ? pick(rand, UNICODE) : pick(rand, VALUE_PIECES);
  }
  return value;
}

function randomFields(rand: () => number): Fields {
  const f: Fields = Object.create(null);
  for (let n = Math.floor(rand() * 5); n > 0; n--) f[randomKey(rand)] = randomValue(rand);
  return f;
}

test('fuzz: formatFields then parseFields gives back random fields (20,000 lists)', (t) => {
  const rand = mulberry32(7);
  const failures: string[] = [];
  for (let n = 0; n < 20_000 && failures.length < 5; n++) {
    const f = randomFields(rand);
    const text = formatFields(f);
    const back = JSON.stringify(pairs(parseFields(text)));
    if (back !== JSON.stringify(pairs(f))) failures.push(text);
  }
  t.deepEqual(failures, []);
});

test('fuzz: formatRecords then parseRecords gives back random records (5,000 lists)', (t) => {
  const rand = mulberry32(8);
  const failures: string[] = [];
  for (let n = 0; n < 5_000 && failures.length < 5; n++) {
    const records = Array.from({ length: Math.floor(rand() * 4) }, () => randomFields(rand));
    const text = formatRecords(records);
    const back = JSON.stringify(parseRecords(text).map(pairs));
    if (back !== JSON.stringify(records.map(pairs))) failures.push(text);
  }
  t.deepEqual(failures, []);
});

const SOUP = [
  ...VALUE_PIECES,
  ...UNICODE,
  'id',
  'Name',
  '_',
  ': ',
  ', ',
  '"x"',
  '""',
  '12',
  '\t',
  'k: "v"',
  '[',
  '], [',
  '\ud800',
];

/** Token soup half the time; otherwise a valid text with a few characters changed. */
function randomText(rand: () => number, records: boolean): string {
  if (rand() < 0.5) {
    let text = '';
    for (let n = Math.floor(rand() * 12); n > 0; n--) text += pick(rand, SOUP);
    return text;
  }
  const list = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => randomFields(rand));
  let text = records ? formatRecords(list) : formatFields(list[0]!);
  for (let n = Math.floor(rand() * 3); n > 0; n--) {
    const at = Math.floor(rand() * (text.length + 1));
    const cut = rand() < 0.5 ? 1 : 0;
    text = text.slice(0, at) + (rand() < 0.7 ? pick(rand, SOUP) : '') + text.slice(at + cut);
  }
  return text;
}

function fuzzParse(
  t: import('ava').ExecutionContext,
  seed: number,
  records: boolean,
  parse: (text: string) => string,
): void {
  const rand = mulberry32(seed);
  const failures: string[] = [];
  let accepted = 0;
  for (let n = 0; n < 100_000 && failures.length < 5; n++) {
    const text = randomText(rand, records);
    try {
      parse(text);
      accepted++;
    } catch (err) {
      if (!(err instanceof ProtocolError) || err.reason !== 'bad_fields') {
        failures.push(`${JSON.stringify(text)}: ${String(err)}`);
      }
    }
  }
  t.deepEqual(failures, []);
  t.true(accepted > 10_000 && accepted < 90_000, `accepted ${accepted}`);
}

/** Parses, then checks the result is canonical: keys valid, format-parse is stable. */
function checkFields(f: Fields): string {
  if (Object.getPrototypeOf(f) !== null) throw new Error('prototype');
  for (const [k, v] of Object.entries(f)) {
    if (!/^[a-z_]+$/.test(k) || typeof v !== 'string') throw new Error(`bad key ${k}`);
  }
  const text = formatFields(f);
  if (JSON.stringify(pairs(parseFields(text))) !== JSON.stringify(pairs(f))) {
    throw new Error(`unstable ${text}`);
  }
  return text;
}

test('fuzz: parseFields on 100,000 random texts throws only bad_fields', (t) =>
  fuzzParse(t, 9, false, (text) => checkFields(parseFields(text))));

test('fuzz: parseRecords on 100,000 random texts throws only bad_fields', (t) =>
  fuzzParse(t, 10, true, (text) => parseRecords(text).map(checkFields).join()));
