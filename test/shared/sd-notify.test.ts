import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { FakeClock } from '../../shared/clock.ts';
import { createLogger } from '../../shared/log.ts';
import { SdNotify } from '../../shared/sd-notify.ts';

/** A unix datagram socket in python, printing each datagram as one JSON string per line. */
const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("LISTENING"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

async function listen(socketPath: string) {
  const child = spawn('python3', ['-c', LISTENER, socketPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const datagrams: string[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) datagrams.push(JSON.parse(line) as string);
  });
  await until(() => datagrams.includes('LISTENING'));
  return { child, datagrams };
}

async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, log: createLogger('debug', stream) };
}

/** Records each spawn and returns a child that exits at once with `code`. */
function spawnSpy(code = 0) {
  const calls: { command: string; args: readonly string[] }[] = [];
  const fn = (command: string, args: readonly string[]) => {
    calls.push({ command, args });
    const child = new EventEmitter() as ChildProcess;
    setImmediate(() => child.emit('close', code, null));
    return child;
  };
  return { calls, spawnFn: fn as unknown as typeof spawn };
}

test('a real run: READY=1, WATCHDOG=1 on the fake clock, STOPPING=1, in order', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sd-notify-'));
  const socketPath = path.join(dir, 'notify.sock');
  const { child, datagrams } = await listen(socketPath);
  t.teardown(() => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const clock = new FakeClock();
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000' }, clock });
  t.true(sd.enabled);

  sd.ready('listening\non 4242');
  sd.startWatchdog();
  t.is(clock.pending, 1);
  clock.advance(999);
  await until(() => datagrams.some((d) => d.includes('READY=1')));
  t.false(datagrams.some((d) => d.includes('WATCHDOG=1')));
  clock.advance(1);
  await until(() => datagrams.some((d) => d.includes('WATCHDOG=1')));
  sd.stopping();
  sd.stop();
  t.is(clock.pending, 0);
  await until(() => datagrams.some((d) => d.includes('STOPPING=1')));

  const messages = datagrams.filter((d) => d !== 'LISTENING' && d !== 'BARRIER=1');
  t.deepEqual(messages, [
    `MAINPID=${process.pid}\nREADY=1\nSTATUS=listening on 4242`,
    `MAINPID=${process.pid}\nWATCHDOG=1`,
    `MAINPID=${process.pid}\nSTOPPING=1`,
  ]);
});

test('without NOTIFY_SOCKET nothing is spawned and no timer is armed', (t) => {
  const { calls, spawnFn } = spawnSpy();
  const clock = new FakeClock();
  const sd = new SdNotify({ env: { WATCHDOG_USEC: '1000000' }, spawnFn, clock });
  t.false(sd.enabled);
  sd.ready('up');
  sd.status('busy');
  sd.startWatchdog();
  clock.advance(60_000);
  sd.stopping();
  sd.stop();
  t.is(clock.pending, 0);
  t.deepEqual(calls, []);
});

test('messages go one child at a time, with --pid and the message as arguments', async (t) => {
  const { calls, spawnFn } = spawnSpy();
  const sd = new SdNotify({
    env: { NOTIFY_SOCKET: '/run/x' },
    spawnFn,
    pid: 4321,
    command: '/usr/bin/systemd-notify',
  });
  sd.ready();
  sd.status('3 users online');
  sd.stopping();
  t.is(calls.length, 1);
  await until(() => calls.length === 3);
  t.deepEqual(calls, [
    { command: '/usr/bin/systemd-notify', args: ['--pid=4321', 'READY=1'] },
    { command: '/usr/bin/systemd-notify', args: ['--pid=4321', 'STATUS=3 users online'] },
    { command: '/usr/bin/systemd-notify', args: ['--pid=4321', 'STOPPING=1'] },
  ]);
});

test('the watchdog runs only for us: WATCHDOG_USEC set, WATCHDOG_PID absent or ours', (t) => {
  const cases: [NodeJS.ProcessEnv, number][] = [
    [{ NOTIFY_SOCKET: '/run/x' }, 0],
    [{ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '0' }, 0],
    [{ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '1' }, 0],
    [{ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '4321' }, 1],
    [{ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '10000000' }, 1],
  ];
  for (const [env, timers] of cases) {
    const clock = new FakeClock();
    const sd = new SdNotify({ env, clock, pid: 4321, spawnFn: spawnSpy().spawnFn });
    sd.startWatchdog();
    sd.startWatchdog();
    t.is(clock.pending, timers, JSON.stringify(env));
  }
});

test('a failing spawn is logged, never thrown, and later messages still go', async (t) => {
  const { lines, log } = logSink();
  const throwing = (() => {
    throw new Error('EAGAIN');
  }) as unknown as typeof spawn;
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: '/run/x' }, spawnFn: throwing, log });
  t.notThrows(() => sd.ready());
  t.like(lines[0], { level: 40, msg: 'systemd-notify failed', err: { message: 'EAGAIN' } });

  const missing = new SdNotify({
    env: { NOTIFY_SOCKET: '/run/x' },
    command: '/nonexistent/systemd-notify',
    log,
  });
  missing.ready();
  missing.stopping();
  await until(() => lines.length === 3);
  t.like(lines[1], { level: 40, message: ['READY=1'], err: { code: 'ENOENT' } });
  t.like(lines[2], { level: 20, message: ['STOPPING=1'] });
});

test('a non-zero exit is logged with its code', async (t) => {
  const { lines, log } = logSink();
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: '/run/x' }, spawnFn: spawnSpy(1).spawnFn, log });
  sd.ready();
  await until(() => lines.length === 1);
  t.like(lines[0], { level: 40, code: 1, message: ['READY=1'] });
});
