import fs from 'node:fs';
import test from 'ava';
import {
  FINGERPRINT_FILE,
  fingerprintOf,
  HubTrust,
  judge,
  normalizeFingerprint,
  type TrustVerdict,
} from '../../../device/hub/trust.ts';
import { tempDir } from '../../helpers/hub.ts';
import { capturingLog } from '../../helpers/log.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

/** [S-3] presented, pin, recorded -> verdict. */
const table: Array<[string, string | null, string | null, TrustVerdict]> = [
  [A, null, null, { kind: 'first_use' }],
  [A, A, null, { kind: 'trusted', by: 'pin' }],
  [A, null, A, { kind: 'trusted', by: 'recorded' }],
  [A, A, A, { kind: 'trusted', by: 'pin' }],
  // The pin decides alone: a record that disagrees with it is not asked.
  [A, A, B, { kind: 'trusted', by: 'pin' }],
  [B, A, B, { kind: 'mismatch', by: 'pin', expected: A, presented: B }],
  [B, A, null, { kind: 'mismatch', by: 'pin', expected: A, presented: B }],
  [B, null, A, { kind: 'mismatch', by: 'recorded', expected: A, presented: B }],
];
for (const [presented, pin, recorded, verdict] of table) {
  test(`judge ${presented.slice(7, 9)} pin ${pin?.slice(7, 9)} recorded ${recorded?.slice(7, 9)} -> ${verdict.kind}`, (t) => {
    t.deepEqual(judge(presented, pin, recorded), verdict);
  });
}

const hex = '0123456789abcdef'.repeat(4);
const pairs = hex.match(/../g)!.join(':');
const forms: Array<[string, string | null]> = [
  [`sha256:${hex}`, `sha256:${hex}`],
  [`sha256:${hex.toUpperCase()}`, `sha256:${hex}`],
  [`sha256:${pairs.toUpperCase()}`, `sha256:${hex}`],
  [`  sha256:${hex}\n`, `sha256:${hex}`],
  [`SHA256:${hex}`, `sha256:${hex}`],
  [hex, null],
  [`sha1:${hex}`, null],
  [`sha256:${hex.slice(2)}`, null],
  [`sha256:${hex}00`, null],
  [`sha256:${pairs.slice(3)}`, null],
  [`sha256:${hex.slice(0, 62)}zz`, null],
  [`sha256:${hex.slice(0, 2)}:${hex.slice(2)}`, null],
  ['', null],
];
test('normalizeFingerprint: the forms a person may paste, and what is not one', (t) => {
  for (const [text, canonical] of forms) t.is(normalizeFingerprint(text), canonical, text);
});

test('fingerprintOf is sha256 of the DER, lowercase hex', (t) => {
  // echo -n abc | sha256sum
  t.is(
    fingerprintOf(Buffer.from('abc')),
    'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
});

test('[S-3] first use records the fingerprint (0600), then only that one is trusted', (t) => {
  const dir = tempDir();
  const cap = capturingLog();
  const log = cap.log;
  const trust = new HubTrust({ pin: null, stateDir: `${dir}/state`, log });
  const der = Buffer.from('certificate one');
  t.true(trust.check(der, 'hub:4342'));
  const file = `${dir}/state/${FINGERPRINT_FILE}`;
  t.is(fs.readFileSync(file, 'utf8'), `${fingerprintOf(der)}\n`);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  const warn = cap.records.find((r) => r.level === 40);
  t.regex(String(warn?.msg), /trusting the hub on first use: .*babel-hub fingerprint/);
  t.true(trust.check(der, 'hub:4342'));
  t.false(trust.check(Buffer.from('certificate two'), 'hub:4342'));
  const error = cap.records.find((r) => r.level === 50);
  t.is(error?.expected, fingerprintOf(der));
  t.is(error?.presented, fingerprintOf(Buffer.from('certificate two')));
  t.regex(String(error?.msg), new RegExp(`delete ${file} or set hub_fingerprint`));
  // Deleting the record re-pairs, without a restart.
  fs.rmSync(file);
  t.true(trust.check(Buffer.from('certificate two'), 'hub:4342'));
  t.is(fs.readFileSync(file, 'utf8'), `${fingerprintOf(Buffer.from('certificate two'))}\n`);
});

test('[S-3] a pin decides alone and is never recorded; a refusal is logged once per streak', (t) => {
  const dir = tempDir();
  const cap = capturingLog();
  const log = cap.log;
  const der = Buffer.from('the hub');
  const trust = new HubTrust({
    pin: fingerprintOf(der).toUpperCase().replace('SHA256', 'sha256'),
    stateDir: dir,
    log,
  });
  t.true(trust.check(der, 'h'));
  t.false(fs.existsSync(`${dir}/${FINGERPRINT_FILE}`));
  for (let i = 0; i < 3; i++) t.false(trust.check(Buffer.from('an impostor'), 'h'));
  const errors = cap.records.filter((r) => r.level === 50);
  t.is(errors.length, 1);
  t.regex(String(errors[0]?.msg), /expected sha256:[0-9a-f]{64} \(hub_fingerprint\)/);
});

test('[S-3] a damaged record refuses every hub (never overwritten) and says how to re-pair', (t) => {
  const dir = tempDir();
  fs.writeFileSync(`${dir}/${FINGERPRINT_FILE}`, 'garbage\n');
  const cap = capturingLog();
  const log = cap.log;
  const trust = new HubTrust({ pin: null, stateDir: dir, log });
  t.false(trust.check(Buffer.from('x'), 'h'));
  t.is(fs.readFileSync(`${dir}/${FINGERPRINT_FILE}`, 'utf8'), 'garbage\n');
  t.regex(String(cap.records.find((r) => r.level === 50)?.msg), /delete it to trust/);
});

test('a pin that is not a fingerprint is a programming error (config validation catches it)', (t) => {
  t.throws(
    () => new HubTrust({ pin: 'sha256:xyz', stateDir: tempDir(), log: capturingLog().log }),
    {
      instanceOf: RangeError,
    },
  );
});
