/**
 * The engine's speaker: an 'fd' sink is aplay's stdin (here cat's, or a FIFO), written
 * through echo control (the volume) and playback-aplay.ts' latency guard; setPlayback()
 * swaps it mid-call. The engine's tapFd seam gives every frame as decoded, so what reached
 * the pipe is checked frame by frame against a TS EchoControl's playback() of it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { engine, hearsTone, LOCAL, tsEcho, until } from './engine-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'babel-media-speaker-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const FRAME = 1920; // 20 ms of s16le mono at 48 kHz

/** This process's descriptors of the file or socket `link` (/proc/self/fd's name for it). */
function holders(link: string): number {
  return readdirSync('/proc/self/fd').filter((n) => {
    try {
      return readlinkSync(`/proc/self/fd/${n}`) === link;
    } catch {
      return false; // closed meanwhile (readdir's own descriptor)
    }
  }).length;
}

/** `cat` reading a pipe (the write end's descriptor: `fd`, as aplay's stdin), its output kept. */
function reader() {
  const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  let done = false;
  child.on('close', () => {
    done = true;
  });
  /** EOF seen: every writer of the pipe closed (with a hang guard). */
  const exited = () => until(() => done, 'cat to see the end of its input');
  child.stdin!.on('error', () => {}); // EPIPE once cat is gone
  // Node's child stdio is a socketpair: aplay's stdin is one too.
  const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
  const link = readlinkSync(`/proc/self/fd/${fd}`);
  return { child, fd, exited, holders: () => holders(link), output: () => Buffer.concat(chunks) };
}

/** A FIFO `name` in the test's directory, read by `cat`: bytes it heard, and its end. */
function fifoReader(name: string) {
  const fifo = join(dir, name);
  execFileSync('mkfifo', [fifo]);
  const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(cat);
  let heard = 0;
  cat.stdout.on('data', (d: Buffer) => {
    heard += d.length;
  });
  let done = false;
  cat.on('close', () => {
    done = true;
  });
  /** EOF seen: every writer of the FIFO closed (with a hang guard). */
  const exited = () => until(() => done, 'cat to see the end of its input');
  return { fifo, cat, heard: () => heard, exited };
}

/** A tone sender and a receiving engine with `options`, whose decoded frames go to a file. */
function call(name: string, options: Parameters<typeof engine>[0]) {
  const tapPath = join(dir, `${name}.tap`);
  const tapFd = openSync(tapPath, 'w');
  const far = engine({ capture: { kind: 'tone', hz: 440 } });
  const x = engine({ ...options, tapFd });
  closeSync(tapFd); // the engine has its own copy
  far.e.start({ ip: LOCAL, port: x.port, direction: 'send' });
  x.e.start({ ip: LOCAL, port: far.port, direction: 'receive' });
  const tapped = () => Math.floor(statSync(tapPath).size / FRAME);
  const tap = () => frames(readFileSync(tapPath));
  const close = () => {
    far.e.close();
    x.e.close();
  };
  return { far, x, tapped, tap, close };
}

function frames(pcm: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) out.push(pcm.subarray(at, at + FRAME));
  return out;
}

const voiced = (f: Buffer) => f.some((b) => b !== 0);

/**
 * Whether `got` is `want` with `dropped` frames left out (the sink's drops): each frame of
 * `got` matched in order.
 */
function withDrops(want: Buffer[], got: Buffer[], dropped: number): boolean {
  let j = 0;
  for (const w of want) if (j < got.length && w.equals(got[j]!)) j++;
  return j === got.length && want.length - got.length === dropped;
}

const children: ChildProcess[] = [];
test.after.always(() => {
  for (const c of children) c.kill();
});

test.serial(
  'the speaker gets EchoControl.playback() of each decoded frame; setSpeakerVolume from the next one',
  async (t) => {
    const cat = reader();
    children.push(cat.child);
    const echo = { mode: 'aec', speakerVolume: 80, playbackDelayMs: 80 } as const;
    const c = call('volume', { playback: { kind: 'fd', fd: cat.fd }, echo });
    t.teardown(c.close);
    await until(() => c.tap().filter(voiced).length >= 25, 'half a second of the tone');
    const before = c.tapped(); // decoded before the change: the old volume
    t.is(c.x.e.setSpeakerVolume(30.4), 30);
    const after = c.tapped(); // decoded after: the new volume
    await until(() => c.tapped() >= after + 25, 'half a second more');
    const stats = c.x.e.stop()!;
    c.x.e.setPlayback({ kind: 'null' }); // the engine's copy of the pipe closed
    cat.child.stdin!.end();
    await cat.exited(); // EOF: nobody else holds the pipe
    const tap = c.tap();
    const got = frames(cat.output());
    t.is(cat.output().length % FRAME, 0);
    t.true(...hearsTone(Buffer.concat(tap.filter(voiced)), 440));
    const switches: number[] = [];
    for (let at = before; at <= after; at++) {
      const ts = tsEcho(echo);
      const want = tap.map((f, k) => {
        if (k === at) ts.setSpeakerVolume(30.4);
        return ts.playback(f, k * 20);
      });
      if (withDrops(want, got, stats.sinkDropped)) switches.push(at);
    }
    // One frame where the volume changed, or frames that look the same either way (the
    // silence of a jitter buffer starting again, when a loaded machine starves the sender).
    t.true(switches.length > 0, `no frame in ${before}..${after} where the volume changed`);
    const silent = tap.slice(switches[0], switches.at(-1)).every((f) => !voiced(f));
    t.true(silent, `several frames where the volume may have changed: ${switches}`);
  },
);

test.serial(
  "the echo control lives across legs: a volume set between legs is the next leg's",
  async (t) => {
    const cat = reader();
    children.push(cat.child);
    const echo = { mode: 'off', speakerVolume: 50 } as const;
    const c = call('legs', { playback: { kind: 'fd', fd: cat.fd, maxLatencyMs: 60_000 }, echo });
    t.teardown(c.close);
    await until(() => c.tap().filter(voiced).length >= 10, 'the first leg');
    c.x.e.stop();
    const first = c.tapped(); // every frame of the first leg
    t.is(c.x.e.setSpeakerVolume(20), 20);
    c.x.e.start({ ip: LOCAL, port: c.far.port, direction: 'receive' });
    await until(() => c.tap().slice(first).filter(voiced).length >= 10, 'the second leg');
    const s = c.x.e.stop()!;
    c.x.e.setPlayback({ kind: 'null' });
    cat.child.stdin!.end();
    await cat.exited();
    const ts = tsEcho(echo);
    const want = c.tap().map((f, k) => {
      if (k === first) ts.setSpeakerVolume(20);
      return ts.playback(f, k * 20);
    });
    t.true(withDrops(want, frames(cat.output()), s.sinkDropped));
  },
);

test.serial(
  'setPlayback swaps pipes and null mid-call: the old copy closed, nothing written to it once it returns',
  async (t) => {
    const cats = [reader(), reader(), reader()];
    children.push(...cats.map((r) => r.child));
    const [one, two, three] = cats as [
      ReturnType<typeof reader>,
      ReturnType<typeof reader>,
      ReturnType<typeof reader>,
    ];
    const c = call('swap', { playback: { kind: 'fd', fd: one.fd, maxLatencyMs: 60_000 } });
    t.teardown(c.close);
    const marker = Buffer.from('-- after setPlayback returned --');
    /**
     * Waits for `n` more frames played, then swaps to `next`. Into `prev`'s pipe goes a
     * marker at once: a frame written to it after setPlayback returned would follow it (the
     * pipe stays open while the next `n` frames play).
     */
    const swap = async (
      n: number,
      next: Parameters<typeof c.x.e.setPlayback>[0],
      prev?: ReturnType<typeof reader>,
    ) => {
      const from = c.tapped();
      await until(() => c.tapped() >= from + n, `${n} frames`);
      const held = prev?.holders();
      c.x.e.setPlayback(next);
      const at = c.tapped();
      if (prev) {
        prev.child.stdin!.write(marker);
        t.is(held, 2, "the caller's descriptor and the engine's");
        t.is(prev.holders(), 1, "the engine's copy closed when setPlayback returned");
      }
      return at;
    };
    await until(() => c.tap().some(voiced), 'the tone');
    const toTwo = await swap(15, { kind: 'fd', fd: two.fd }, one);
    const toNull = await swap(15, { kind: 'null' }, two);
    const toThree = await swap(10, { kind: 'fd', fd: three.fd });
    await swap(15, { kind: 'null' }, three);
    await swap(10, { kind: 'null' });
    for (const r of cats) {
      r.child.stdin!.end();
      await r.exited();
    }
    t.is(c.x.e.stop()!.sinkDropped, 0);
    const tap = c.tap();
    const outs = [one, two, three].map((r) => {
      const out = r.output();
      t.true(
        out.subarray(-marker.length).equals(marker),
        'the marker is the last thing in the pipe',
      );
      t.is((out.length - marker.length) % FRAME, 0);
      return frames(out.subarray(0, -marker.length));
    });
    const [a, b, cc] = outs as [Buffer[], Buffer[], Buffer[]];
    // The first pipe had every frame up to the swap, the second the next ones (no volume,
    // no echo: the frames as decoded), then nothing while null, then the third.
    t.deepEqual(a, tap.slice(0, a.length));
    t.true(a.length <= toTwo);
    t.deepEqual(b, tap.slice(a.length, a.length + b.length));
    t.true(a.length + b.length <= toNull);
    t.true(cc.length >= 10, `${cc.length} frames on the third pipe`);
    const first = tap.findIndex((f, k) => k >= toNull && f.equals(cc[0]!));
    t.true(first >= a.length + b.length + 1, 'frames played to nothing while null');
    t.true(first <= toThree + 1);
    t.deepEqual(cc, tap.slice(first, first + cc.length));
  },
);

test.serial(
  'the engine writes to its own dup: the caller closing and reusing its number changes nothing',
  async (t) => {
    const { fifo, heard, exited } = fifoReader('reuse.fifo');
    const fd = openSync(fifo, constants.O_RDWR);
    const c = call('reuse', { playback: { kind: 'fd', fd } });
    t.teardown(c.close);
    await until(() => heard() >= 10 * FRAME, 'frames through the pipe');
    closeSync(fd);
    const other = join(dir, 'other.raw');
    const reused = openSync(other, 'w');
    t.teardown(() => closeSync(reused));
    t.is(reused, fd, 'the same number, now another file');
    const was = heard();
    await until(() => heard() >= was + 10 * FRAME, 'frames still through the pipe');
    t.is(readFileSync(other).length, 0, 'nothing in the file that took the number');
    c.x.e.close();
    await exited(); // the engine's copy closed at close(): the FIFO's last writer gone
    t.pass();
  },
);

test.serial(
  'the latency guard: a pipe nobody reads holds maxLatencyMs of frames, the rest dropped; reading again, frames flow',
  async (t) => {
    const fifo = join(dir, 'guard.fifo');
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, constants.O_RDWR); // nobody reads
    t.teardown(() => closeSync(fd));
    const c = call('guard', { playback: { kind: 'fd', fd, maxLatencyMs: 100 } });
    t.teardown(c.close);
    await until(
      () => (c.x.e.stats()?.sinkDropped ?? 0) >= 10 && c.x.of('warning').length > 0,
      'frames dropped, and the warning',
    );
    const drain = () => {
      const buf = Buffer.alloc(1 << 16);
      let n = 0;
      try {
        for (;;) {
          const got = readSync(fd, buf, 0, buf.length, null);
          if (got === 0) break;
          n += got;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      return n;
    };
    t.is(drain(), 5 * FRAME, '100 ms of frames, no more');
    t.deepEqual(c.x.of('warning'), [
      { message: 'playback: frames dropped (more than 100 ms queued)' },
    ]);
    let flowed = 0;
    await until(() => {
      flowed += drain();
      return flowed >= 10 * FRAME;
    }, 'frames again once the reader reads');
    t.pass();
  },
);

test.serial(
  'a reader that stalls and comes back: frames dropped meanwhile, every frame it got whole',
  async (t) => {
    const cat = reader();
    children.push(cat.child);
    // Only the socket's buffer limits what is queued here (no guard to speak of).
    const c = call('stall', { playback: { kind: 'fd', fd: cat.fd, maxLatencyMs: 60_000 } });
    t.teardown(c.close);
    await until(() => cat.output().length >= 10 * FRAME, 'frames through the socket');
    cat.child.kill('SIGSTOP');
    await until(() => (c.x.e.stats()?.sinkDropped ?? 0) >= 5, 'the socket full: frames dropped');
    cat.child.kill('SIGCONT');
    const was = cat.output().length;
    await until(() => cat.output().length >= was + 20 * FRAME, 'frames again');
    const s = c.x.e.stop()!;
    c.x.e.setPlayback({ kind: 'null' });
    cat.child.stdin!.end();
    await cat.exited();
    // Each frame went whole or not at all (a part a socket took would be finished before
    // anything else): the stream never lost the samples' alignment.
    t.is(cat.output().length % FRAME, 0);
    t.true(withDrops(c.tap(), frames(cat.output()), s.sinkDropped), `${s.sinkDropped} dropped`);
  },
);

test.serial(
  "the latency guard's clock: a frame more than maxLatencyMs ahead is dropped",
  async (t) => {
    const cat = reader();
    children.push(cat.child);
    // Less than a frame: every frame would be ahead by more than that.
    const c = call('ahead', { playback: { kind: 'fd', fd: cat.fd, maxLatencyMs: 10 } });
    t.teardown(c.close);
    await until(() => c.tapped() >= 20 && c.x.of('warning').length > 0, 'frames played');
    const s = c.x.e.stop()!;
    t.true(s.sinkDropped >= 20, `${s.sinkDropped} dropped`);
    c.x.e.setPlayback({ kind: 'null' });
    cat.child.stdin!.end();
    await cat.exited();
    t.is(cat.output().length, 0);
    t.deepEqual(c.x.of('warning'), [
      { message: 'playback: frames dropped (more than 10 ms ahead)' },
    ]);
  },
);

test.serial(
  'a reader that is gone (EPIPE): dropped, counted, and the engine closes its copy',
  async (t) => {
    const { fifo, cat, heard, exited } = fifoReader('gone.fifo');
    const fd = openSync(fifo, constants.O_WRONLY); // cat is its only reader
    t.teardown(() => closeSync(fd));
    const c = call('epipe', { playback: { kind: 'fd', fd } });
    t.teardown(c.close);
    await until(() => heard() >= 10 * FRAME, 'frames through the pipe');
    t.is(holders(fifo), 2, "the caller's descriptor and the engine's");
    cat.kill();
    await exited();
    await until(() => (c.x.e.stats()?.sinkDropped ?? 0) >= 1, 'a frame dropped');
    await until(() => holders(fifo) === 1, "only the caller's left");
    await until(() => c.x.of('warning').length > 0, 'the warning');
    t.deepEqual(c.x.of('warning'), [{ message: 'playback: frames dropped (Broken pipe)' }]);
    const was = c.tapped();
    await until(() => c.tapped() >= was + 10, 'frames played on');
    t.is(c.x.e.stop()!.sinkDropped, 1, 'the copy closed: nothing more written or dropped');
  },
);
