/**
 * shared/read-or-create.ts: a small file read, or created atomically with mode 0600; an
 * invalid one is an error naming it and is left alone; racing creators agree on one value.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { type ReadOrCreateOptions, readOrCreate } from '../../shared/read-or-create.ts';

const exec = promisify(execFile);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'babel-roc-'));
}

/** Four hex digits a line; `create` counts its calls and gives `made`. */
function options(made = 'beef', extra: Partial<ReadOrCreateOptions<string>> = {}) {
  const calls = { create: 0 };
  const opts: ReadOrCreateOptions<string> = {
    parse: (text) => (/^[0-9a-f]{4}$/.test(text.trim()) ? text.trim() : null),
    create: () => {
      calls.create++;
      return made;
    },
    format: (v) => `${v}\n`,
    invalid: 'not an id (4 hex digits)',
    ...extra,
  };
  return { opts, calls };
}

const table: Array<{
  name: string;
  /** The file's text beforehand; null: no file. */
  before: string | null;
  /** The value returned, or the error's message after `<file>: `. */
  expect: { value: string; created: boolean } | { error: string };
}> = [
  { name: 'missing: created', before: null, expect: { value: 'beef', created: true } },
  { name: 'valid: read', before: 'c0de\n', expect: { value: 'c0de', created: false } },
  { name: 'valid, loose spaces', before: '  c0de \n\n', expect: { value: 'c0de', created: false } },
  { name: 'invalid', before: 'not-an-id\n', expect: { error: 'not an id (4 hex digits)' } },
  { name: 'empty', before: '', expect: { error: 'not an id (4 hex digits)' } },
  { name: 'only a newline', before: '\n', expect: { error: 'not an id (4 hex digits)' } },
];

for (const row of table) {
  test(`table: ${row.name}`, (t) => {
    const dir = tempDir();
    const file = path.join(dir, 'id');
    if (row.before !== null) fs.writeFileSync(file, row.before);
    const { opts, calls } = options();
    if ('error' in row.expect) {
      t.throws(() => readOrCreate(file, opts), { message: `${file}: ${row.expect.error}` });
      t.is<string | null, string | null>(
        fs.readFileSync(file, 'utf8'),
        row.before,
        'the file is left as it was',
      );
      t.is(calls.create, 0);
    } else {
      const got = readOrCreate(file, opts);
      t.deepEqual(got, { ...row.expect, path: file });
      t.is(calls.create, row.expect.created ? 1 : 0);
      if (row.expect.created) {
        t.is(fs.readFileSync(file, 'utf8'), 'beef\n');
        t.is(fs.statSync(file).mode & 0o777, 0o600);
        t.deepEqual(readOrCreate(file, opts), { value: 'beef', created: false, path: file });
      }
    }
    t.deepEqual(fs.readdirSync(dir), row.before === null && 'error' in row.expect ? [] : ['id']);
  });
}

test('missing directories are made, with dirMode', (t) => {
  const dir = path.join(tempDir(), 'a', 'b');
  const { opts } = options('f00d', { dirMode: 0o700 });
  const got = readOrCreate(path.join(dir, 'id'), opts);
  t.true(got.created);
  t.is(fs.statSync(dir).mode & 0o777, 0o700);
  t.is(fs.statSync(path.dirname(dir)).mode & 0o777, 0o700);
});

test('a race: another process creates the file first, its value wins and stays', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'id');
  // `create` runs after the read found no file and before ours is linked into place: the
  // moment another creator may win.
  const { opts } = options('beef', {
    create: () => {
      fs.writeFileSync(file, 'abcd\n');
      return 'beef';
    },
  });
  t.deepEqual(readOrCreate(file, opts), { value: 'abcd', created: false, path: file });
  t.is(fs.readFileSync(file, 'utf8'), 'abcd\n');
  t.deepEqual(fs.readdirSync(dir), ['id'], 'no temporary file left');
});

test('a race lost to a creator that wrote something invalid is an error, not a clobber', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'id');
  const { opts } = options('beef', {
    create: () => {
      fs.writeFileSync(file, 'junk');
      return 'beef';
    },
  });
  t.throws(() => readOrCreate(file, opts), { message: `${file}: not an id (4 hex digits)` });
  t.is(fs.readFileSync(file, 'utf8'), 'junk');
});

test('two processes creating 40 files at once agree on every value', async (t) => {
  const dir = tempDir();
  const helper = path.resolve(import.meta.dirname, '../../shared/read-or-create.ts');
  const script = `
    import { randomBytes } from 'node:crypto';
    import { readOrCreate } from ${JSON.stringify(helper)};
    const out = [];
    for (let i = 0; i < 40; i++) {
      const r = readOrCreate(${JSON.stringify(dir)} + '/f' + i, {
        parse: (t) => (/^[0-9a-f]{16}$/.test(t.trim()) ? t.trim() : null),
        create: () => randomBytes(8).toString('hex'),
        format: (v) => v + '\\n',
        invalid: 'bad',
      });
      out.push([r.value, r.created]);
    }
    console.log(JSON.stringify(out));`;
  const run = () =>
    exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
  const [a, b] = await Promise.all([run(), run()]);
  const ra = JSON.parse(a.stdout) as Array<[string, boolean]>;
  const rb = JSON.parse(b.stdout) as Array<[string, boolean]>;
  for (let i = 0; i < 40; i++) {
    t.is(ra[i]![0], rb[i]![0], `f${i}: one value`);
    t.true(ra[i]![1] !== rb[i]![1], `f${i}: exactly one creator`);
    t.is(fs.readFileSync(path.join(dir, `f${i}`), 'utf8'), `${ra[i]![0]}\n`);
  }
  t.is(fs.readdirSync(dir).length, 40, 'no temporary file left');
});

test('a directory that cannot be written is a clear error naming the file', (t) => {
  // /sys refuses new files even to root.
  const inSys = '/sys/babel-read-or-create-test';
  const { opts, calls } = options();
  const e1 = t.throws(() => readOrCreate(inSys, opts));
  t.regex(
    e1!.message,
    /^\/sys\/babel-read-or-create-test: cannot be created: permission denied in \/sys \(EACCES\)$/,
  );
  t.is(calls.create, 1);
  t.false(fs.existsSync(inSys));
  // A parent that cannot be made: a file is in its way.
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'plain'), '');
  const under = path.join(dir, 'plain', 'sub', 'id');
  const e2 = t.throws(() => readOrCreate(under, opts));
  t.true(e2!.message.startsWith(`${under}: cannot create directory`), e2!.message);
});

test('a file that cannot be read (a directory at its name) is an error, never replaced', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'id');
  fs.mkdirSync(file);
  const { opts } = options();
  t.throws(() => readOrCreate(file, opts), { message: `${file}: cannot be read (EISDIR)` });
  t.true(fs.statSync(file).isDirectory());
});

test('a format that parse refuses is a programming error, caught before writing', (t) => {
  const dir = tempDir();
  const { opts } = options('not hex');
  t.throws(() => readOrCreate(path.join(dir, 'id'), opts), { message: /does not parse/ });
  t.deepEqual(fs.readdirSync(dir), []);
});
