import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { FakeClock } from '../../shared/clock.ts';
import { createLogger } from '../../shared/log.ts';
import { type NotifySocket, SdNotify } from '../../shared/sd-notify.ts';
import { loopbackHubArgs } from '../helpers/hub-launch.ts';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * A unix datagram socket in python, as systemd's notify socket is: SO_PASSCRED on, so each
 * datagram comes with the sender's PID (what `NotifyAccess=main` checks). One JSON object
 * per datagram on stdout.
 */
const LISTENER = `
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
print(json.dumps({"data": "LISTENING", "pid": 0}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", cdata[:12])[0]
    print(json.dumps({"data": data.decode(), "pid": pid}), flush=True)
`;

interface Datagram {
  data: string;
  pid: number;
}

/** A bound notify socket in a fresh directory; `datagrams` fills as they arrive. */
async function listen(t: ExecutionContext) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sd-notify-'));
  const socketPath = path.join(dir, 'notify.sock');
  const child = spawn('python3', ['-c', LISTENER, socketPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const datagrams: Datagram[] = [];
  let buffered = '';
  let wake = () => {};
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) datagrams.push(JSON.parse(line) as Datagram);
    wake();
  });
  /** Resolves once `ok()` holds, checked at each datagram (never by polling the clock). */
  const until = (ok: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!ok()) return;
        wake = () => {};
        resolve();
      };
      wake = check;
      check();
    });
  await until(() => datagrams.some((d) => d.data === 'LISTENING'));
  datagrams.splice(0);
  return { socketPath, datagrams, until };
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

/** Counts the sockets made; each fails its send with `err` (or succeeds). */
function socketSpy(err?: Error) {
  const sent: string[] = [];
  let closed = 0;
  const createSocket = (): NotifySocket => ({
    send(buf, _offset, _length, _path, callback) {
      sent.push(buf.toString());
      callback(err);
    },
    close() {
      closed++;
    },
  });
  return { sent, closed: () => closed, createSocket };
}

test('a real socket: READY=1, WATCHDOG=1 on the fake clock, STOPPING=1, in order, from us', async (t) => {
  const { socketPath, datagrams, until } = await listen(t);
  const clock = new FakeClock();
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000' }, clock });
  t.true(sd.enabled);

  sd.ready('listening\non 4242');
  sd.startWatchdog();
  t.is(clock.pending, 1);
  clock.advance(999);
  await until(() => datagrams.length === 1);
  clock.advance(1);
  await until(() => datagrams.length === 2);
  sd.stopping();
  sd.stop();
  t.is(clock.pending, 0);
  await until(() => datagrams.length === 3);

  t.deepEqual(datagrams, [
    { data: 'READY=1\nSTATUS=listening on 4242', pid: process.pid },
    { data: 'WATCHDOG=1', pid: process.pid },
    { data: 'STOPPING=1', pid: process.pid },
  ]);
});

test('without NOTIFY_SOCKET no socket is made and no timer is armed', (t) => {
  const spy = socketSpy();
  const clock = new FakeClock();
  const sd = new SdNotify({
    env: { WATCHDOG_USEC: '1000000' },
    createSocket: spy.createSocket,
    clock,
  });
  t.false(sd.enabled);
  sd.ready('up');
  sd.status('busy');
  sd.startWatchdog();
  clock.advance(60_000);
  sd.stopping();
  sd.stop();
  t.is(clock.pending, 0);
  t.deepEqual(spy.sent, []);
});

test('each message is one datagram on a socket closed at once', (t) => {
  const spy = socketSpy();
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: '/run/x' }, createSocket: spy.createSocket });
  sd.ready();
  sd.status('3 users\nonline');
  sd.stopping();
  t.deepEqual(spy.sent, ['READY=1', 'STATUS=3 users online', 'STOPPING=1']);
  t.is(spy.closed(), 3);
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
    const sd = new SdNotify({ env, clock, pid: 4321, createSocket: socketSpy().createSocket });
    sd.startWatchdog();
    sd.startWatchdog();
    t.is(clock.pending, timers, JSON.stringify(env));
  }
});

test('a failing socket is logged (warn once, then debug), never thrown', (t) => {
  const { lines, log } = logSink();
  const throwing = () => {
    throw new Error('addon missing');
  };
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: '/run/x' }, createSocket: throwing, log });
  t.notThrows(() => sd.ready());
  t.like(lines[0], { level: 40, msg: 'sd_notify failed', err: { message: 'addon missing' } });

  const dir = mkdtempSync(path.join(tmpdir(), 'sd-notify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const missing = new SdNotify({ env: { NOTIFY_SOCKET: path.join(dir, 'none.sock') }, log });
  t.notThrows(() => missing.ready());
  t.notThrows(() => missing.stopping());
  t.like(lines[1], { level: 40, message: ['READY=1'], err: { code: -2 } });
  t.like(lines[2], { level: 20, message: ['STOPPING=1'] });
});

test('an abstract NOTIFY_SOCKET is reported, not sent to a wrong path', (t) => {
  const { lines, log } = logSink();
  const spy = socketSpy();
  const sd = new SdNotify({
    env: { NOTIFY_SOCKET: '@notify' },
    createSocket: spy.createSocket,
    log,
  });
  sd.ready();
  t.deepEqual(spy.sent, []);
  t.like(lines[0], { level: 40, err: { message: 'abstract NOTIFY_SOCKET is not supported' } });
});

/** The real programs, as the units start them; their own PID must send (NotifyAccess=main). */
const programs: [string, (dir: string) => string[]][] = [
  ['hub/bin.ts', (dir) => loopbackHubArgs(dir)],
  [
    'device/bin.ts',
    () => [
      '--name',
      'notifier',
      '--hub',
      '127.0.0.1:9',
      '--media-port',
      '0',
      '--capture',
      'silence',
      '--playback',
      'null',
      '--mqtt',
      'off',
    ],
  ],
];

for (const [program, args] of programs) {
  test(`${program} as a service: READY=1, WATCHDOG=1, STOPPING=1 from its main PID`, async (t) => {
    const { socketPath, datagrams, until } = await listen(t);
    const dir = mkdtempSync(path.join(tmpdir(), 'sd-notify-data-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, program), ...args(dir)],
      {
        cwd: root,
        // 100 ms watchdog pings: the test waits for the first one, not for a time.
        env: { ...env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    t.teardown(() => child.kill('SIGKILL'));

    await until(() => datagrams.some((d) => d.data === 'WATCHDOG=1'));
    child.kill('SIGTERM');
    await until(() => datagrams.some((d) => d.data === 'STOPPING=1'));
    t.is(await exited, 0);

    const [first, ...rest] = datagrams;
    t.regex(first?.data ?? '', /^READY=1\nSTATUS=\S/);
    t.deepEqual(
      rest.map((d) => d.data),
      [...rest.slice(0, -1).map(() => 'WATCHDOG=1'), 'STOPPING=1'],
    );
    t.true(rest.length >= 2);
    t.deepEqual(new Set(datagrams.map((d) => d.pid)), new Set([child.pid]));
  });
}
