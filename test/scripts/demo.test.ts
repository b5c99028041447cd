import { execFile, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { DeviceProcess } from '../helpers/device.ts';
import { hangGuardMs } from '../helpers/hang-guard.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

test('npm run demo tells the whole call and each speaker plays the other side', async (t) => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts/demo.ts')],
    {
      cwd: root,
      timeout: hangGuardMs(60_000),
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

test('npm run demo -- --stay: the printed command attaches one more unit to a hub with registration closed', async (t) => {
  const demo = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts/demo.ts'), '--stay'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const grew = new EventEmitter();
  demo.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    grew.emit('data');
  });
  const exited = once(demo, 'exit');
  /** Waits (bounded against hanging) until the demo has printed a match of `re`. */
  const printed = async (re: RegExp, ms = hangGuardMs(60_000)) => {
    const deadline = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > deadline) throw new Error(`demo did not print ${re}: ${out}`);
      await Promise.race([once(grew, 'data'), new Promise((r) => setTimeout(r, 500))]);
    }
  };
  let garage: DeviceProcess | null = null;
  try {
    await printed(/Press Ctrl-C to stop\./);
    const command = /node dist\/device\/bin\.js (.*?)\n\nthen/s.exec(out)?.[1] ?? '';
    const args = command.replace(/\\\n/g, ' ').trim().split(/\s+/);
    const flag = (name: string) => args[args.indexOf(name) + 1] ?? '';
    t.is(flag('--name'), 'garage');
    t.regex(flag('--secret'), /^[A-Za-z0-9_-]{43}$/);
    t.regex(flag('--hub'), /^127\.0\.0\.1:\d+$/);
    // The unit as printed, run from source (DeviceProcess adds --name and --mqtt off).
    const rest = args.filter((a, i) => a !== '--name' && args[i - 1] !== '--name');
    const own = rest
      .map((a) => (a === 'file:garage.wav' ? 'null' : a))
      .filter((a) => a !== '--mqtt' && a !== 'off');
    garage = new DeviceProcess('garage', own);
    await garage.waitFor(/connected to the hub as garage/, hangGuardMs(30_000));
    garage.press();
    await printed(/door: garage is calling/, hangGuardMs(30_000));

    // The hand-typed session of the printed nc line logs in as `me`.
    const me = /type `(CONNECT me 0 \S+)`/.exec(out)?.[1];
    t.truthy(me);
    const port = Number(flag('--hub').split(':')[1]);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`${me}\r\n`));
      s.once('data', (d) => {
        resolve(d.toString().trim());
        s.destroy();
      });
      s.once('error', reject);
    });
    t.regex(reply, /^101 [0-9a-f-]{36} me$/);
    // Registration is closed on the demo's hub: a name it did not provision is refused.
    const refused = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () =>
        s.write('NEW intruder whatever-secret-1234\r\n'),
      );
      s.once('data', (d) => {
        resolve(d.toString().trim());
        s.destroy();
      });
      s.once('error', reject);
    });
    t.is(refused, '408 intruder forbidden');
  } finally {
    await garage?.stop();
    demo.kill('SIGINT');
    await exited;
  }
});
