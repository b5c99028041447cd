import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { packageVersion } from '../../shared/version.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

test('the version is the package version, and --version prints it from the sources', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  t.is(packageVersion(), pkg.version);
  const hub = await run(process.execPath, [
    '--import',
    'tsx',
    path.join(root, 'hub/bin.ts'),
    '--version',
  ]);
  t.is(hub.stdout, `babel-hub ${pkg.version}\n`);
  const device = await run(process.execPath, [
    '--import',
    'tsx',
    path.join(root, 'device/bin.ts'),
    '--version',
  ]);
  t.is(device.stdout, `babel-device ${pkg.version}\n`);
});
