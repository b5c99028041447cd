import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import test from 'ava';
import Database from 'better-sqlite3';
import { runBackupCommand } from '../../../hub/backup-command.ts';
import { DB_FILE, PRE_RESTORE_SUFFIX } from '../../../hub/store/backup.ts';
import { openDatabase, SCHEMA_VERSION } from '../../../hub/store/db.ts';
import { runHubCli, startHub, tempDir } from '../../helpers/hub.ts';

/**
 * Inserts users w1, w2, ... into the database at argv[1], each in its own transaction,
 * and prints each number once committed; the rows are padded so the file spans many
 * pages and a backup has several steps to take. Stops on stdin's end.
 */
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
const insert = db.prepare('INSERT INTO users (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)');
const pad = 'x'.repeat(400);
let i = 0, stop = false;
process.stdin.on('end', () => { stop = true; }).resume();
(function loop() {
  if (stop) { db.close(); return; }
  for (let k = 0; k < 5; k++) {
    i++;
    insert.run('id-' + i, 'w' + i, pad, Date.now());
    process.stdout.write(i + '\\n');
  }
  setImmediate(loop);
})();
`;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

function userNames(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT name FROM users').all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
  } finally {
    db.close();
  }
}

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

test('a backup taken during another process writes restores to a consistent database', async (t) => {
  const dataDir = tempDir();
  const live = path.join(dataDir, DB_FILE);
  openDatabase(live).close();
  const writer = spawn(process.execPath, ['-e', WRITER, live], {
    cwd: path.resolve(import.meta.dirname, '../../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => writer.once('exit', resolve));
  let committed = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  readline.createInterface({ input: writer.stdout! }).on('line', (line) => {
    committed = Number(line);
    for (const w of waiters.splice(0)) {
      if (committed >= w.n) w.resolve();
      else waiters.push(w);
    }
  });
  const reach = (n: number) =>
    new Promise<void>((resolve) => {
      if (committed >= n) resolve();
      else waiters.push({ n, resolve });
    });
  try {
    await reach(2000);
    const before = committed;
    const file = path.join(tempDir(), 'babel-backup.sqlite');
    const b = io();
    t.is(await runBackupCommand('backup', [file, '--data-dir', dataDir], {}, b.io), 0, b.err());
    // The writer went on meanwhile: the backup ran beside live writes.
    await reach(committed + 50);
    t.true(committed > before);
    t.regex(b.out(), /integrity ok/);
    t.regex(b.out(), /not in it: tls\//);

    const target = tempDir();
    const r = io();
    t.is(await runBackupCommand('restore', [file, '--data-dir', target], {}, r.io), 0, r.err());
    const restored = path.join(target, DB_FILE);
    t.is(integrity(restored), 'ok');
    // Every row committed before the backup began is there, and the snapshot is a prefix
    // of the writer's sequence: no row without every row committed before it.
    const numbers = userNames(restored)
      .map((n) => Number(n.slice(1)))
      .sort((a, b) => a - b);
    const n = numbers.length;
    t.true(n >= before, `${n} rows restored, ${before} committed before the backup`);
    t.deepEqual(
      numbers,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    // It opens as the hub opens it, at this schema version.
    const db = openDatabase(restored);
    t.is(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
    // One self-contained file: no WAL beside the backup.
    t.false(fs.existsSync(`${file}-wal`));
  } finally {
    writer.stdin!.end();
    await exited;
  }
});

test('restore refuses while the hub is running, plainly, and changes nothing', async (t) => {
  const hub = await startHub();
  try {
    const file = path.join(tempDir(), 'b.sqlite');
    const b = io();
    t.is(await runBackupCommand('backup', [file, '--data-dir', hub.dataDir], {}, b.io), 0);
    const live = path.join(hub.dataDir, DB_FILE);
    const beforeSize = fs.statSync(live).size;
    const r = io();
    t.is(await runBackupCommand('restore', [file, '--data-dir', hub.dataDir], {}, r.io), 1);
    t.regex(r.err(), /the hub is running on .*; stop it first/);
    t.regex(r.err(), /Nothing was changed/);
    t.is(fs.statSync(live).size, beforeSize);
    t.false(fs.existsSync(`${live}${PRE_RESTORE_SUFFIX}`));
  } finally {
    await hub.stop();
  }
});

test('restore replaces a stopped hub database atomically and keeps the old one', async (t) => {
  const dataDir = tempDir();
  const live = path.join(dataDir, DB_FILE);
  const seed = (file: string, names: string[]) => {
    const db = openDatabase(file);
    const ins = db.prepare('INSERT INTO users (id, name, created_at) VALUES (?, ?, 0)');
    for (const n of names) ins.run(`id-${n}`, n);
    db.close();
  };
  seed(live, ['old1', 'old2']);
  fs.chmodSync(live, 0o640);
  const liveMode = 0o640;
  const other = path.join(tempDir(), DB_FILE);
  seed(other, ['new1']);
  const file = path.join(tempDir(), 'b.sqlite');
  const b = io();
  t.is(
    await runBackupCommand('backup', [file, '--data-dir', path.dirname(other)], {}, b.io),
    0,
    b.err(),
  );
  const r = io();
  t.is(await runBackupCommand('restore', [file, '--data-dir', dataDir], {}, r.io), 0, r.err());
  t.regex(r.out(), /1 user, schema version/);
  t.deepEqual(userNames(live), ['new1']);
  // The backup is the owner's only; the restored file keeps the live file's mode.
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.is(fs.statSync(live).mode & 0o777, liveMode);
  t.deepEqual(userNames(`${live}${PRE_RESTORE_SUFFIX}`).sort(), ['old1', 'old2']);
  t.false(fs.existsSync(`${live}-wal`));
  t.deepEqual(
    fs.readdirSync(dataDir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

/** Files `restore` must refuse, with what it says; the live database stays as it was. */
const BAD_BACKUPS: Array<{ name: string; make: (file: string) => void; says: RegExp }> = [
  {
    name: 'not SQLite at all',
    make: (f) => fs.writeFileSync(f, 'hello, this is not a database\n'.repeat(200)),
    says: /not an SQLite database|cannot open/,
  },
  {
    name: 'a database from a newer hub',
    make: (f) => {
      const db = openDatabase(f);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
    },
    says: /schema version \d+ is newer than this hub knows/,
  },
  {
    name: 'an SQLite database of something else',
    make: (f) => {
      const db = new Database(f);
      db.exec('CREATE TABLE notes (x TEXT)');
      db.close();
    },
    says: /not a babel-hub database/,
  },
  {
    name: 'a damaged database',
    make: (f) => {
      const db = openDatabase(f);
      const ins = db.prepare(
        'INSERT INTO users (id, name, secret_hash, created_at) VALUES (?, ?, ?, 0)',
      );
      for (let i = 0; i < 300; i++) ins.run(`id-${i}`, `u${i}`, 'y'.repeat(300));
      db.pragma('journal_mode = DELETE');
      db.close();
      // Scribble over a page in the middle of the users table's b-tree.
      const fd = fs.openSync(f, 'r+');
      fs.writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096 * 3);
      fs.closeSync(fd);
    },
    says: /: (integrity check failed|damaged)/,
  },
  {
    name: 'a file that is not there',
    make: () => {},
    says: /cannot open/,
  },
];

for (const bad of BAD_BACKUPS) {
  test(`restore refuses ${bad.name} and changes nothing`, async (t) => {
    const dataDir = tempDir();
    const live = path.join(dataDir, DB_FILE);
    const db = openDatabase(live);
    db.prepare("INSERT INTO users (id, name, created_at) VALUES ('a', 'keep', 0)").run();
    db.close();
    const file = path.join(tempDir(), 'bad.sqlite');
    bad.make(file);
    const r = io();
    t.is(await runBackupCommand('restore', [file, '--data-dir', dataDir], {}, r.io), 1);
    t.regex(r.err(), bad.says);
    t.regex(r.err(), /nothing was changed/);
    t.deepEqual(userNames(live), ['keep']);
    t.false(fs.existsSync(`${live}${PRE_RESTORE_SUFFIX}`));
  });
}

test('backup of a data directory without a database says so', async (t) => {
  const r = io();
  const dir = tempDir();
  t.is(
    await runBackupCommand('backup', [path.join(dir, 'x.sqlite'), '--data-dir', dir], {}, r.io),
    1,
  );
  t.regex(r.err(), /no database here/);
  t.false(fs.existsSync(path.join(dir, 'x.sqlite')));
});

test('backup onto the live database, or restore from it, is refused and changes nothing', async (t) => {
  const dataDir = tempDir();
  const live = path.join(dataDir, DB_FILE);
  const db = openDatabase(live);
  db.prepare("INSERT INTO users (id, name, created_at) VALUES ('a', 'keep', 0)").run();
  db.close();
  const before = fs.readFileSync(live);
  const link = path.join(tempDir(), 'link.sqlite');
  fs.symlinkSync(live, link);
  for (const [verb, file] of [
    ['backup', live],
    ['backup', link],
    ['restore', live],
  ] as const) {
    const r = io();
    t.is(await runBackupCommand(verb, [file, '--data-dir', dataDir], {}, r.io), 1, verb);
    t.regex(r.err(), /is the live database itself/, verb);
  }
  t.deepEqual(fs.readFileSync(live), before);
  t.deepEqual(userNames(live), ['keep']);
});

test('usage errors exit 2; --help exits 0', async (t) => {
  const r = io();
  t.is(await runBackupCommand('backup', [], {}, r.io), 2);
  t.regex(r.err(), /usage: babel-hub backup FILE/);
  t.is(await runBackupCommand('restore', ['a', 'b'], {}, io().io), 2);
  t.is(await runBackupCommand('backup', ['--bogus', 'x'], {}, io().io), 2);
  const h = io();
  t.is(await runBackupCommand('restore', ['--help'], {}, h.io), 0);
  t.regex(h.out(), /hub must be stopped first/);
});

test('babel-hub backup through the real command line', async (t) => {
  const dataDir = tempDir();
  openDatabase(path.join(dataDir, DB_FILE)).close();
  const file = path.join(tempDir(), 'cli.sqlite');
  const res = await runHubCli(['backup', file, '--data-dir', dataDir]);
  t.is(res.code, 0, res.stderr);
  t.regex(res.stdout, /0 users, schema version \d+, \d+ bytes, integrity ok/);
  t.is(integrity(file), 'ok');
});
