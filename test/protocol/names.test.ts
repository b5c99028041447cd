import test from 'ava';
import { NAME_PATTERN, normalizeName } from '../../protocol/names.ts';
import { mulberry32 } from '../helpers/prng.ts';

const valid: Array<[string, string, string]> = [
  ['lowercase', 'alice', 'alice'],
  ['uppercase folded [T-4]', 'ALICE', 'alice'],
  ['mixed case', 'BoB.Smith', 'bob.smith'],
  ['single letter', 'a', 'a'],
  ['single digit', '7', '7'],
  ['digits first', '42door', '42door'],
  ['dot, underscore, dash', 'door_1.lobby-a', 'door_1.lobby-a'],
  ['32 characters', 'a'.repeat(32), 'a'.repeat(32)],
  ['trailing punctuation', 'a-', 'a-'],
];

for (const [name, raw, expected] of valid) {
  test(`normalizeName accepts ${name}`, (t) => {
    t.is(normalizeName(raw), expected);
    t.true(NAME_PATTERN.test(expected));
  });
}

const invalid: Array<[string, string]> = [
  ['empty', ''],
  ['33 characters', 'a'.repeat(33)],
  ['leading dot', '.alice'],
  ['leading dash', '-alice'],
  ['leading underscore', '_alice'],
  ['space inside', 'al ice'],
  ['leading space', ' alice'],
  ['trailing newline', 'alice\n'],
  ['colon', 'alice:idle'],
  ['non-ASCII letter', 'zoë'],
  ['Kelvin sign, which toLowerCase() maps to k', '\u212Aelvin'],
  ['dotted capital I, which toLowerCase() expands', '\u0130nes'],
  ['quote', "'alice'"],
  ['slash', 'a/b'],
];

for (const [name, raw] of invalid) {
  test(`normalizeName rejects ${name}`, (t) => {
    t.is(normalizeName(raw), null);
  });
}

test('NAME_PATTERN is the contract pattern [T-4]', (t) => {
  t.is(NAME_PATTERN.source, '^[a-z0-9][a-z0-9._-]{0,31}$');
  t.is(NAME_PATTERN.flags, '');
});

test('normalizeName fuzz: 100,000 random strings give null or a valid, idempotent name', (t) => {
  const random = mulberry32(0x4e414d45);
  const alphabet = 'aZz09._- :\u212A\u0130é\n"[';
  for (let n = 0; n < 100_000; n++) {
    let raw = '';
    const length = Math.floor(random() * 36);
    for (let i = 0; i < length; i++) raw += alphabet[Math.floor(random() * alphabet.length)];
    const name = normalizeName(raw);
    if (name === null) continue;
    if (!NAME_PATTERN.test(name) || name !== raw.toLowerCase() || normalizeName(name) !== name) {
      t.fail(`case ${n}: ${JSON.stringify(raw)} -> ${JSON.stringify(name)}`);
      return;
    }
  }
  t.pass();
});
