/**
 * Issue 14, tried as a new user would: each bad input ends the real program at once with
 * one clear line (config: `path: message` on stderr, exit 2; a directory that cannot be
 * made: one fatal log line, exit 1), never a stack trace, a crash later or a spin.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { hangGuardMs } from '../../helpers/hang-guard.ts';
import { loopbackHubArgs } from '../../helpers/hub-launch.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-cli-errors-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly stdout: string[];
  readonly stderr: string[];
}

/** Runs `babel-hub` or `babel-device` with `args`; kills it (and fails) if it has not ended by the hang guard. */
function run(program: 'hub' | 'device', args: string[]): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), path.join(root, program, 'bin.ts'), ...args],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`babel-${program} ${args.join(' ')} still running; stdout ${out} stderr ${err}`),
      );
    }, hangGuardMs(30_000));
    child.once('exit', (code) => {
      clearTimeout(timer);
      const lines = (s: string) => s.split('\n').filter((l) => l !== '');
      resolve({ code, stdout: lines(out), stderr: lines(err) });
    });
  });
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

const bomb = (() => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const [prev, cur] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
})();

const CONFIG_ERRORS: Array<[string, 'hub' | 'device', () => string[], RegExp]> = [
  [
    'a self-referential alias',
    'hub',
    () => ['--config', file('self.yaml', 'a: &a [*a]\n')],
    /^\/.*self\.yaml: line 1: an alias refers to the node that contains it$/,
  ],
  [
    'an alias bomb',
    'device',
    () => ['--config', file('bomb.yaml', bomb)],
    /^\/.*bomb\.yaml: too many aliases \(more than 100\); /,
  ],
  [
    'a hub MQTT URL that does not parse',
    'hub',
    () => ['--mqtt', 'mqtt://[broken'],
    /^--mqtt: is not a valid URL/,
  ],
  [
    'a device MQTT URL that does not parse',
    'device',
    () => ['--mqtt', 'mqtt://[broken'],
    /^--mqtt: is not a valid URL/,
  ],
  [
    'a hub port out of range',
    'device',
    () => ['--hub', '127.0.0.1:99999'],
    /^--hub: port 99999 is out of range 1-65535$/,
  ],
  [
    'a GPIO line off the header',
    'device',
    () => ['--config', file('led.yaml', 'led: gpio:99\n')],
    /^led: GPIO 99 is not on the Raspberry Pi's 40-pin header \(BCM 0-27\)$/,
  ],
  [
    'a null capture',
    'device',
    () => ['--config', file('capture.yaml', 'capture: null\n')],
    /^capture: is null \(YAML reads null and ~ as no value\); /,
  ],
];

for (const [name, program, args, line] of CONFIG_ERRORS) {
  test(`babel-${program}: ${name} is one line and exit 2`, async (t) => {
    const r = await run(program, args());
    t.is(r.code, 2, r.stderr.join('\n'));
    t.is(r.stderr.length, 1, r.stderr.join('\n'));
    t.regex(r.stderr[0] ?? '', line);
    t.deepEqual(r.stdout, []);
  });
}

const procfs = fs.existsSync('/proc/self');

(procfs ? test : test.skip)(
  'babel-hub --data-dir /proc/x ends with one fatal line, no spin',
  async (t) => {
    const r = await run('hub', loopbackHubArgs('/proc/x'));
    t.is(r.code, 1);
    t.is(r.stdout.length, 1, r.stdout.join('\n'));
    const fatal = JSON.parse(r.stdout[0] ?? '{}') as { level?: number; err?: { message?: string } };
    t.is(fatal.level, 60);
    t.regex(
      fatal.err?.message ?? '',
      /^cannot create directory \/proc\/x: \/proc cannot hold new directories/,
    );
  },
);

(procfs ? test : test.skip)(
  'babel-device --state-dir /proc/x ends with one fatal line, no spin',
  async (t) => {
    const r = await run('device', [
      ...['--state-dir', '/proc/x', '--mqtt', 'off', '--capture', 'silence', '--playback', 'null'],
      ...['--hub', '127.0.0.1:9', '--media-port', '0'],
    ]);
    t.is(r.code, 1);
    const fatal = r.stdout.map(
      (l) => JSON.parse(l) as { level?: number; err?: { message?: string } },
    );
    t.is(fatal.filter((l) => l.level === 60).length, 1);
    t.regex(fatal.at(-1)?.err?.message ?? '', /cannot create directory \/proc\/x/);
  },
);

(procfs ? test : test.skip)(
  'babel-hub user list --data-dir /proc/x: one line, exit 1',
  async (t) => {
    const r = await run('hub', ['user', 'list', '--data-dir', '/proc/x']);
    t.is(r.code, 1);
    t.deepEqual(r.stderr, [
      'babel-hub: cannot create directory /proc/x: /proc cannot hold new directories (ENOENT)',
    ]);
  },
);
