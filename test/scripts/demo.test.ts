import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

test('npm run demo tells the whole call and each speaker plays the other side', async (t) => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts/demo.ts')],
    {
      cwd: root,
      timeout: 60_000,
    },
  );
  for (const line of [
    /door: connected to the hub as door/,
    /door: calling kitchen/,
    /kitchen: door is calling/,
    /kitchen: talking with door/,
    /door: hung up on kitchen/,
    /kitchen: call with door ended/,
  ]) {
    t.regex(stdout, line);
  }
  const results = stdout.slice(stdout.indexOf('What each speaker played'));
  const door = /^ {2}door {5}(.*)$/m.exec(results)?.[1] ?? '';
  const kitchen = /^ {2}kitchen {2}(.*)$/m.exec(results)?.[1] ?? '';
  // Each ring tone first, then the other side's microphone: the demo paces its units'
  // clock on packet arrival, so the three seconds of talk play whole (the first half
  // second may still carry the jitter buffer's start) whatever the machine's load.
  t.regex(door, /^425 Hz, 425 Hz, .*(, 1000 Hz){5}$/);
  t.regex(kitchen, /^660 Hz, 523 Hz, .*(, 440 Hz){5}$/);
  t.notRegex(door, /440 Hz/);
  t.notRegex(kitchen, /1000 Hz/);
});
