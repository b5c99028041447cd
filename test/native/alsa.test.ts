// The addon's own contract (native/alsa/src/alsa_addon.c), against real libasound with no
// sound card: alsa-lib's `file` plugin over the `null` plugin reads its "microphone" from a
// regular file, a FIFO or /dev/zero (`infile`). ALSA_CONFIG_PATH must be set before the
// first open in the process; ava runs each test file in a process of its own.
import { execFileSync, spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import alsa, { type CaptureEvent } from 'babel-alsa';
import { generateTone } from '../../device/media/tone.ts';

const { Capture } = alsa;
const dir = mkdtempSync(join(tmpdir(), 'babel-alsa-addon-'));
const recorded = join(dir, 'recorded.raw');
const fifo = join(dir, 'mic.fifo');
const pcm = (name: string, infile: string) =>
  `pcm.${name} { type file slave.pcm "null" file "/dev/null" infile "${infile}" format "raw" }\n`;
writeFileSync(
  join(dir, 'asound.conf'),
  `</usr/share/alsa/alsa.conf>\n${pcm('babel_file', recorded)}${pcm('babel_fifo', fifo)}${pcm('babel_zero', '/dev/zero')}`,
);
execFileSync('mkfifo', [fifo]);
process.env.ALSA_CONFIG_PATH = join(dir, 'asound.conf');
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** 50 periods of 480 frames of a 1 kHz tone: fewer than the addon's 64-period backlog. */
const PERIOD = 480;
const heard = generateTone(1000, 500, 48000, 8192);
writeFileSync(recorded, heard);

/** Opens `name` and collects its events; `closed` resolves on 'close'. */
function capture(name: string, periodSize = PERIOD) {
  const events: CaptureEvent[] = [];
  let onClose: () => void = () => {};
  let onOpen: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    onClose = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    onOpen = resolve;
  });
  const c = new Capture(name, { periodSize }, (...event) => {
    events.push(event);
    if (event[0] === 'open' || event[0] === 'error') onOpen();
    if (event[0] === 'close') onClose();
  });
  const kinds = () => events.map(([kind]) => kind);
  const data = () => events.flatMap((e) => (e[0] === 'data' ? [e[1]] : []));
  return { c, events, closed, opened, kinds, data };
}

/** Rejects after `ms` of real time: every wait here is bounded. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The process's open descriptors, each with what it points to. Compared as sets: a
 * descriptor an earlier test left to be closed later (a FileHandle collected, a child's
 * pipe) may go away during a test, which is no leak; one the test opened and kept is.
 */
const openFds = () => {
  const open = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      open.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {} // closed by the time it is read: readdir's own descriptor, for one
  }
  return open;
};
/** What is open in `after` and was not, as the same thing, in `before`. */
const newFds = (before: Map<string, string>, after: Map<string, string>) =>
  [...after].filter(([fd, target]) => before.get(fd) !== target).map(([fd, t]) => `${fd} -> ${t}`);
/**
 * The addon's capture threads alive now, by name: the process has other threads that come
 * and go (qemu's own under emulation, Node's), so the total is not a measure.
 */
const captureThreads = () =>
  readdirSync('/proc/self/task').filter((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'babel-alsa';
    } catch {
      return false; // gone meanwhile
    }
  }).length;

test.serial('libasound is linked and says which version', (t) => {
  t.regex(alsa.libasoundVersion, /^1\.\d+\.\d+/);
  t.is(alsa.SAMPLE_RATE, 48000);
});

test.serial('bad arguments throw; nothing is opened', (t) => {
  const cb = () => {};
  t.throws(() => new Capture('', { periodSize: PERIOD }, cb), {
    instanceOf: RangeError,
    message: 'pcm must be a PCM name of 1 to 254 bytes',
  });
  t.throws(() => new Capture('default', { periodSize: 15 }, cb), {
    instanceOf: RangeError,
    message: 'options.periodSize must be an integer from 16 to 48000',
  });
  t.throws(() => new Capture('default', { periodSize: 480.5 }, cb), { instanceOf: RangeError });
  t.throws(() => new Capture('default', { periodSize: 480, periods: 65 }, cb), {
    instanceOf: RangeError,
    message: 'options.periods must be an integer from 2 to 64',
  });
  t.throws(() => new Capture('default', {} as never, cb), {
    instanceOf: TypeError,
    message: 'options.periodSize is required',
  });
  t.throws(() => new Capture('default', { periodSize: PERIOD }, null as never), {
    instanceOf: TypeError,
  });
  t.throws(() => (Capture as unknown as (...a: unknown[]) => void)('x', {}, cb), {
    instanceOf: TypeError,
    message: 'Capture must be called with new',
  });
});

test.serial('a PCM that does not exist: an error with ALSA message, then close', async (t) => {
  const { closed, events } = capture('babel_no_such_pcm');
  await bounded(closed, 10_000, 'close');
  t.is(events.length, 2);
  const [kind, err] = events[0] ?? [];
  t.is(kind, 'error');
  t.true(err instanceof Error);
  t.is(
    (err as Error).message,
    'snd_pcm_open: No such file or directory (Unknown PCM babel_no_such_pcm)',
  );
  t.is((err as Error & { errno: number }).errno, -2);
  t.deepEqual(events[1], ['close', undefined]);
});

test.serial(
  'captures from a file-plugin PCM: the bytes of its infile, period by period',
  async (t) => {
    const { c, closed, opened, events, data, kinds } = capture('babel_file');
    await bounded(opened, 10_000, 'open');
    t.deepEqual(events[0], ['open', { rate: 48000, periodSize: PERIOD, bufferSize: 4 * PERIOD }]);
    // The null slave never blocks: the thread reads far faster than real time, so wait for
    // the periods rather than for a time.
    await bounded(
      new Promise<void>((resolve) => {
        const poll = () => (data().length >= 50 ? resolve() : setImmediate(poll));
        poll();
      }),
      10_000,
      '50 periods',
    );
    c.close();
    await bounded(closed, 10_000, 'close');
    const periods = data();
    t.true(periods.every((p) => p.length === PERIOD * 2));
    t.deepEqual(Buffer.concat(periods.slice(0, 50)), heard, 'bit-exact');
    // (After the file's end, the null slave's silence. How many periods JS took before
    // close() depends on the machine; the queue's bound is checked in the next test.)
    t.deepEqual(kinds().at(-1), 'close');
    t.false(kinds().includes('error'));
  },
);

test.serial(
  'JS blocked: 64 periods queued, the rest dropped and reported as backlog',
  async (t) => {
    // 200 periods through the FIFO by `cat`. JS blocks inside the 'open' event, before any
    // period is delivered, until `cat` has exited (a zombie: nobody reaps it while JS is
    // blocked). By then the thread has read all but the pipe's 64 KiB, over 130 periods.
    const feed = join(dir, 'feed.raw');
    writeFileSync(feed, generateTone(1000, 2000, 48000, 8192));
    let catPid = 0;
    let blockedMs = 0;
    const events: string[] = [];
    let dropped = 0;
    let onClose: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      onClose = resolve;
    });
    const c = new Capture('babel_fifo', { periodSize: PERIOD }, (...event) => {
      events.push(event[0]);
      if (event[0] === 'xrun' && dropped === 0) dropped = event[1].periods;
      if (event[0] === 'close') onClose();
      if (event[0] !== 'open') return;
      const start = Date.now();
      const exitedNow = () => {
        try {
          return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${catPid}/stat`, 'utf8'));
        } catch {
          return true; // already reaped
        }
      };
      while (!exitedNow() && Date.now() - start < 120_000) {}
      blockedMs = Date.now() - start;
    });
    const cat = spawn('sh', ['-c', `exec cat '${feed}' > '${fifo}'`], { stdio: 'ignore' });
    catPid = cat.pid ?? 0;
    const exited = new Promise((resolve) => cat.once('exit', resolve));
    await bounded(
      (async () => {
        while (events.filter((e) => e === 'data').length < 100 && !events.includes('close'))
          await new Promise((r) => setImmediate(r));
      })(),
      60_000,
      'periods after the block',
    );
    c.close();
    await bounded(closed, 10_000, 'close');
    await exited;
    t.log(`JS blocked ${blockedMs} ms`);
    t.is(events[0], 'open');
    t.deepEqual(events.slice(1, 65), Array(64).fill('data'), '64 periods were queued');
    t.is(events[65], 'xrun', 'then the drop is reported');
    t.true(dropped >= 60, `${dropped} periods dropped`);
    t.is(events.at(-1), 'close');
  },
);

test.serial('close() right after the constructor: one close, last, no error', async (t) => {
  const { c, closed, kinds } = capture('babel_zero');
  c.close();
  await bounded(closed, 10_000, 'close');
  // Whether the thread read a period before it saw the stop is a race; the end is not.
  t.false(kinds().includes('error'));
  t.is(kinds().filter((k) => k === 'close').length, 1);
  t.is(kinds().at(-1), 'close');
  c.close(); // idempotent, also after the end
});

test.serial(
  'close() while a plugin read blocks returns at once; close follows the read',
  async (t) => {
    const { c, closed, opened, kinds } = capture('babel_fifo');
    // The file plugin opens its infile at snd_pcm_open: a FIFO open waits for a writer.
    const writer: FileHandle = await bounded(open(fifo, 'w'), 10_000, 'the PCM opening its FIFO');
    try {
      await bounded(opened, 10_000, 'open');
      await writer.write(heard.subarray(0, PERIOD * 2));
      while (!kinds().includes('data')) await new Promise((r) => setImmediate(r));
      // Now the thread is blocked in read() of the empty FIFO, inside alsa-lib.
      const before = process.hrtime.bigint();
      c.close();
      const tookMs = Number(process.hrtime.bigint() - before) / 1e6;
      t.true(tookMs < 1000, `close() took ${tookMs} ms`);
      t.false(kinds().includes('close'), 'the read has not returned yet');
    } finally {
      await writer.close(); // EOF: read() returns, the thread sees the stop
    }
    await bounded(closed, 10_000, 'close after EOF');
    t.is(kinds().at(-1), 'close');
  },
);

test.serial('open and close 200 times: no file descriptor or thread is left', async (t) => {
  // One round first: alsa-lib's config and libuv's own threads are set up once.
  const warm = capture('babel_zero');
  await bounded(warm.opened, 10_000, 'open');
  warm.c.close();
  await bounded(warm.closed, 10_000, 'close');
  const fds = openFds();
  t.is(captureThreads(), 0);
  for (let i = 0; i < 200; i++) {
    const { c, opened, closed, kinds } = capture(i % 2 ? 'babel_zero' : 'babel_no_such_pcm');
    await bounded(opened, 10_000, `open ${i}`);
    c.close();
    await bounded(closed, 10_000, `close ${i}`);
    if (kinds().at(-1) !== 'close') t.fail(`round ${i}: ${kinds().join(',')}`);
  }
  t.deepEqual(newFds(fds, openFds()), [], 'file descriptors opened and left open');
  t.is(captureThreads(), 0, 'capture threads (each joined before its close event)');
});

test.serial('an object dropped without close() is stopped when collected', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let closedAt: number | undefined;
  let sawOpen: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    sawOpen = resolve;
  });
  const closed = new Promise<void>((resolve) => {
    // No reference to the object is kept: only this listener, which does not hold it.
    new Capture('babel_zero', { periodSize: PERIOD }, (...[kind]) => {
      if (kind === 'open') sawOpen();
      if (kind === 'close') {
        closedAt = Date.now();
        resolve();
      }
    });
  });
  await bounded(opened, 10_000, 'open');
  t.is(captureThreads(), 1, 'the capture thread runs');
  await bounded(
    (async () => {
      while (closedAt === undefined) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    })(),
    10_000,
    'collection',
  );
  await closed;
  t.is(captureThreads(), 0);
});
