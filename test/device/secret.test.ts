import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadOrCreateSecret, newSecret, SECRET_FILE } from '../../device/secret.ts';

function stateDir(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'babel-secret-')), 'state');
}

test('[S-6] the first start makes a secret with mode 0600; later starts read the same one', (t) => {
  const dir = stateDir();
  const first = loadOrCreateSecret(dir);
  t.true(first.created);
  t.regex(first.secret, /^[A-Za-z0-9_-]{43}$/);
  t.is(fs.statSync(first.path).mode & 0o777, 0o600);
  const again = loadOrCreateSecret(dir);
  t.false(again.created);
  t.is(again.secret, first.secret);
  t.deepEqual(fs.readdirSync(dir), [SECRET_FILE], 'no temporary file left behind');
});

test('[S-6] secrets are 256 bits from the random source', (t) => {
  const calls: number[] = [];
  const secret = newSecret((n) => {
    calls.push(n);
    return Buffer.alloc(n, 0xff);
  });
  t.deepEqual(calls, [32]);
  t.is(Buffer.from(secret, 'base64url').length, 32);
  t.not(newSecret(), newSecret());
});

test('[S-6] a damaged secret file is an error, never replaced', (t) => {
  const dir = stateDir();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, SECRET_FILE), 'short\n');
  t.throws(() => loadOrCreateSecret(dir), { message: /does not hold a usable secret/ });
  t.is(fs.readFileSync(path.join(dir, SECRET_FILE), 'utf8'), 'short\n');
});

test('[S-6] a secret written by hand is taken as it is', (t) => {
  const dir = stateDir();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, SECRET_FILE), '  correct-horse-battery-staple\n');
  t.is(loadOrCreateSecret(dir).secret, 'correct-horse-battery-staple');
});
