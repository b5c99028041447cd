import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { runAdmin } from '../../hub/admin.ts';
import { startHub, tempDir } from '../helpers/hub.ts';
import { TextClient } from '../helpers/text-client.ts';

const exec = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../hub/bin.ts');

/** `babel-hub user ...` in this process (the same entry point the CLI calls). */
async function admin(
  dataDir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAdmin(
    [...args, '--data-dir', dataDir],
    {},
    {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    },
  );
  return { code, out, err };
}

/** Runs `babel-hub user ...` as a user would, in its own process. */
async function adminProcess(
  dataDir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [
      '--import',
      'tsx',
      bin,
      'user',
      ...args,
      '--data-dir',
      dataDir,
    ]);
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

async function connect(port: number, line: string): Promise<string | null> {
  const c = await TextClient.connect(port);
  const reply = await c.request(line);
  c.close();
  return reply;
}

test('provisioning a device account while the hub runs: add, list, secret, remove', async (t) => {
  const dataDir = tempDir();
  const { hub, stop } = await startHub([], {}, dataDir);
  try {
    const added = await admin(dataDir, 'add', 'door');
    t.is(added.code, 0, added.err);
    const secret = /^secret: (\S+)$/m.exec(added.out)?.[1];
    t.truthy(secret);
    t.regex(
      (await connect(hub.textPort, `CONNECT door 5004 ${secret}`)) ?? '',
      /^101 [0-9a-f-]{36} door$/,
    );
    t.is(await connect(hub.textPort, 'CONNECT door 5004 wrong'), '401 door bad_secret');

    const listed = await admin(dataDir, 'list');
    t.regex(listed.out, /^door\t[0-9a-f-]{36}\t-\tsecret$/m);

    const again = await admin(dataDir, 'add', 'door', 'x');
    t.is(again.code, 1);
    t.regex(again.err, /door: already exists/);

    const changed = await admin(dataDir, 'secret', 'door', 'n3w-secret');
    t.is(changed.code, 0);
    t.is(await connect(hub.textPort, `CONNECT door 5004 ${secret}`), '401 door bad_secret');
    t.regex((await connect(hub.textPort, 'CONNECT door 5004 n3w-secret')) ?? '', /^101 /);

    t.is((await admin(dataDir, 'remove', 'door')).code, 0);
    t.is(await connect(hub.textPort, 'CONNECT door 5004 n3w-secret'), '401 door unknown');
    t.is((await admin(dataDir, 'remove', 'door')).code, 1);
  } finally {
    await stop();
  }
});

test('the real CLI: babel-hub user add prints a generated secret; usage errors exit 2', async (t) => {
  const dataDir = tempDir();
  const added = await adminProcess(dataDir, 'add', 'porch');
  t.is(added.code, 0, added.err);
  t.regex(added.out, /^created porch [0-9a-f-]{36}\nsecret: [a-z2-9]{20}\n$/);
  const none = await adminProcess(dataDir);
  t.is(none.code, 2);
  t.regex(none.err, /usage: babel-hub user/);
  const bad = await admin(dataDir, 'add', 'Not A Name!');
  t.is(bad.code, 2);
  t.regex(bad.err, /not a valid name/);
  const flag = await admin(dataDir, 'list', '--bogus', '1');
  t.is(flag.code, 2);
  t.regex(flag.err, /--bogus: unknown flag/);
});
