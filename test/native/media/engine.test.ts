/**
 * The media engine (native/media) against itself on loopback: two engines call each other
 * in plain RTP and in SRTP [S-4], one-way legs [G-2], G-3's silence, hostile datagrams
 * [M-2, S-5], bad options, close() and the descriptors of many legs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { RtpSender } from '../../../device/media/rtp.ts';
import { SrtpSender } from '../../../protocol/srtp/index.ts';
import { hangGuardMs } from '../../helpers/hang-guard.ts';
import {
  engine,
  hearsTone,
  LOCAL,
  loadWatch,
  media,
  playedFile,
  received,
  toneShare,
  until,
} from './engine-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'babel-media-engine-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Two engines with tones 440 and 1000 Hz, each playing into a file of its own. */
function pair(name: string) {
  const files = { a: join(dir, `${name}-a.raw`), b: join(dir, `${name}-b.raw`) };
  const a = engine({
    capture: { kind: 'tone', hz: 440 },
    playback: { kind: 'fd', fd: openSync(files.a, 'w') },
  });
  const b = engine({
    capture: { kind: 'tone', hz: 1000 },
    playback: { kind: 'fd', fd: openSync(files.b, 'w') },
  });
  return { a, b, files };
}

async function call(t: import('ava').ExecutionContext, name: string, srtp: boolean) {
  const { a, b, files } = pair(name);
  t.teardown(() => {
    a.e.close();
    b.e.close();
  });
  const ab = randomBytes(30);
  const ba = randomBytes(30);
  const watch = loadWatch();
  const started = performance.now();
  a.e.start({ ip: LOCAL, port: b.port, srtp: srtp ? { send: ab, recv: ba } : null });
  b.e.start({ ip: LOCAL, port: a.port, srtp: srtp ? { send: ba, recv: ab } : null });
  t.is(a.e.direction, 'both');
  await until(() => received(a.e.stats()) >= 100 && received(b.e.stats()) >= 100, '100 packets');
  const [sa, sb] = [a.e.stop()!, b.e.stop()!];
  const legMs = performance.now() - started;
  const quiet = watch.quiet();
  t.is(a.e.stop(), null, 'null between legs');
  t.is(a.e.direction, null);
  for (const [s, file] of [
    [sa, files.a],
    [sb, files.b],
  ] as const) {
    t.like(s, { srtp, lost: 0, late: 0, invalid: 0, wrongSource: 0, duplicates: 0 });
    t.like(s, { srtpAuthFailed: 0, srtpReplayed: 0, decodeErrors: 0, sinkDropped: 0 });
    t.true(s.packetsSent >= 100 && s.bytesSent > s.packetsSent * (srtp ? 22 : 12));
    t.true(s.bitrate > 10000 && s.sendBitrate > 10000);
    // The playout never runs ahead of the clock, however loaded the machine: one frame a
    // tick, and ticks at least three quarters of a frame apart (the most the schedule steps
    // to meet the packets' phase: pipeline_next_playout_at), from the leg's start.
    const played = readFileSync(file).length / 1920;
    const playedSays = `played ${played} frames in ${legMs} ms`;
    t.true(played <= legMs / 15 + 2, playedSays);
    // Real-time quality, on a machine that lets threads run when they wake. Start-up only
    // (0-2 concealed here); a broken playout schedule would conceal a large share.
    const quality = `concealed ${s.concealed} of ${s.received}, depth ${s.depthMs}, target ${s.targetMs}, jitter ${s.jitterMs}`;
    if (quiet) {
      // Where no thread was held up the packets' phase stays put, and so do the ticks: a
      // frame apart (+ the start-up tick's rounding). A sender held up for over half a
      // frame moves the phase, and the schedule steps a quarter frame early to follow it
      // (108 frames in 2109.5 ms once, at load 10, with this process's timers on time).
      if (s.concealed <= 2) t.true(played <= legMs / 20 + 2, playedSays);
      t.true(s.concealed <= 2 + s.received / 7, quality);
      t.true(s.depthMs <= 80 && s.targetMs <= 80, quality);
      t.true(s.jitterMs < 30, quality); // < 1 ms on a quiet machine
    } else {
      t.log(`a loaded machine (a timer held up ${watch.heldUpMs()} ms): ${quality}`);
    }
  }
  const heardA = playedFile(files.a, 200);
  const heardB = playedFile(files.b, 200);
  t.true(heardA.length >= 1.5 * 96000, `a played ${heardA.length} bytes`);
  t.true(...hearsTone(heardA, 1000)); // a hears b
  t.true(...hearsTone(heardB, 440)); // b hears a
  t.true(toneShare(heardA, 1000) > 0.8);
  await until(() => a.of('capture').length > 0, "the microphone's 'open'");
  t.deepEqual(a.of('capture'), [{ state: 'open' }]);
  t.deepEqual(a.of('warning'), []);
}

test.serial(
  'two engines call each other in plain RTP: packets, bytes and the tone both ways',
  (t) => call(t, 'plain', false),
);

test.serial('[S-4] two engines in SRTP: the tone both ways, nothing refused', (t) =>
  call(t, 'srtp', true),
);

test.serial(
  'DTMF between engines: once per press, and RangeError for what is not a key',
  async (t) => {
    const { a, b } = pair('dtmf');
    t.teardown(() => {
      a.e.close();
      b.e.close();
    });
    t.throws(() => a.e.pressKey('x' as '1'), { instanceOf: RangeError });
    a.e.pressKey('1'); // between legs: ignored
    a.e.start({ ip: LOCAL, port: b.port });
    b.e.start({ ip: LOCAL, port: a.port });
    await until(() => received(b.e.stats()) >= 10, 'audio first');
    a.e.pressKey('7');
    a.e.pressKey('#');
    await until(() => b.of('dtmf').length === 2, 'two keys');
    await until(() => received(b.e.stats()) >= 60, 'audio after the keys');
    t.deepEqual(b.of('dtmf'), ['7', '#']);
    t.like(a.e.stop(), { dtmfSent: 2 });
    t.like(b.e.stop(), { dtmfReceived: 2, lost: 0, late: 0 });
  },
);

test.serial(
  '[G-2] a send leg plays nothing, a receive leg sends nothing and opens no microphone',
  async (t) => {
    const { a: pager, b: member, files } = pair('page');
    t.teardown(() => {
      pager.e.close();
      member.e.close();
    });
    pager.e.start({ ip: LOCAL, port: member.port, direction: 'send' });
    member.e.start({ ip: LOCAL, port: pager.port, direction: 'receive' });
    t.is(member.e.direction, 'receive');
    member.e.pressKey('5'); // a member sends nothing, not even keys
    await until(() => received(member.e.stats()) >= 75, 'the page');
    const [sp, sm] = [pager.e.stop()!, member.e.stop()!];
    t.is(sp.received, 0);
    t.is(sm.packetsSent, 0);
    t.is(readFileSync(files.a).length, 0, 'the pager played nothing');
    t.true(...hearsTone(playedFile(files.b, 200), 440)); // the member plays the page
    await until(() => pager.of('capture').length > 0, "the pager's microphone 'open'");
    t.deepEqual(member.of('capture'), [], 'the member never opened its microphone');
    t.deepEqual(pager.of('capture'), [{ state: 'open' }]);
    t.deepEqual(pager.of('silent'), []);
  },
);

test.serial(
  'an fd playback whose reader does not read: EAGAIN drops frames, counted, said once',
  async (t) => {
    const fifo = join(dir, 'speaker.fifo');
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, constants.O_RDWR); // nobody reads: the pipe fills (64 KiB)
    const { a, b } = pair('fifo');
    // A latency guard looser than the pipe (engine-speaker.test.ts has the guard itself).
    const speaker = engine({ playback: { kind: 'fd', fd, maxLatencyMs: 10_000 } });
    t.teardown(() => {
      a.e.close();
      speaker.e.close();
      b.e.close();
      closeSync(fd);
    });
    a.e.start({ ip: LOCAL, port: speaker.port, direction: 'send' });
    speaker.e.start({ ip: LOCAL, port: a.port, direction: 'receive' });
    await until(
      () => (speaker.e.stats()?.sinkDropped ?? 0) >= 10 && speaker.of('warning').length > 0,
      'dropped frames, and the warning',
    );
    t.like(speaker.e.stop(), { late: 0, lost: 0 });
    t.deepEqual(speaker.of('warning'), [
      { message: 'playback: frames dropped (Resource temporarily unavailable)' },
    ]);
  },
);

test.serial('[G-3] a two-way leg with a peer that sends nothing: silent, once', async (t) => {
  const x = engine({ capture: { kind: 'silence' } });
  const quiet = dgram.createSocket('udp4');
  await new Promise<void>((r) => quiet.bind(0, LOCAL, r));
  t.teardown(() => {
    x.e.close();
    quiet.close();
  });
  const started = performance.now();
  x.e.start({ ip: LOCAL, port: quiet.address().port });
  await until(() => x.of('silent').length > 0, 'silent', 6000);
  const after = performance.now() - started;
  t.true(after >= 1990 && after < 3000, `silent after ${after} ms`);
  await until(() => x.e.stats()!.packetsSent >= 150, 'another second');
  t.is(x.of('silent').length, 1);
});

test.serial(
  '[M-2, S-5] garbage, wrong-source, unknown and replayed datagrams: counted, never the end',
  async (t) => {
    const key = randomBytes(30);
    const x = engine();
    const peer = dgram.createSocket('udp4');
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, LOCAL, r));
    await new Promise<void>((r) => stranger.bind(0, LOCAL, r));
    t.teardown(() => {
      x.e.close();
      peer.close();
      stranger.close();
    });
    x.e.start({ ip: LOCAL, port: peer.address().port, srtp: { send: key, recv: key } });
    const rtp = new RtpSender({ payloadType: 111, ssrc: 7, sequence: 100, timestamp: 0 });
    const srtp = new SrtpSender(key.toString('base64'));
    const opus = Buffer.from([0xf8, 0xff, 0xfe]); // an Opus packet of 20 ms of silence
    const send = (s: dgram.Socket, b: Buffer) => s.send(b, x.port, LOCAL);
    const good = srtp.protect(rtp.nextAudio(opus, 960));
    send(peer, good);
    send(peer, good); // replayed
    for (let i = 0; i < 40; i++) send(peer, randomBytes(i)); // garbage, some too short for SRTP
    send(peer, Buffer.alloc(3000, 0x80)); // long garbage
    send(stranger, srtp.protect(rtp.nextAudio(opus, 960)));
    const tampered = srtp.protect(rtp.nextAudio(opus, 960));
    tampered[14]! ^= 1;
    send(peer, tampered);
    send(peer, srtp.protect(rtp.packet(96, opus, 0, false))); // unknown payload type
    await until(
      () =>
        x.e.stats()!.wrongSource === 1 && received(x.e.stats()) === 2 && x.of('warning').length > 0,
      'all of it, and the warning',
    );
    const s = x.e.stats()!;
    t.like(s, { received: 2, wrongSource: 1, srtpReplayed: 1, unknownPayload: 1 });
    // Each piece of garbage is refused as malformed or failing authentication.
    t.is(s.invalid + s.srtpAuthFailed, 40 + 1 + 1, `${s.invalid} + ${s.srtpAuthFailed}`);
    t.true(s.srtpAuthFailed >= 1 && s.invalid >= 22);
    t.is(x.of('warning').length, 1, 'said once a leg');
    send(peer, srtp.protect(rtp.nextAudio(opus, 960)));
    await until(() => received(x.e.stats()) === 3, 'the thread goes on');
    t.like(x.e.stop(), { received: 3 });
    t.is(x.of('warning').length, 1, 'still once');
  },
);

test.serial(
  'bad options throw TypeError or RangeError naming the option; a bound port throws EADDRINUSE',
  async (t) => {
    const cb = () => {};
    const cases: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ frameMs: 30 }, RangeError, /frameMs/],
      [{ bitrate: 100 }, RangeError, /bitrate/],
      [{ complexity: 11 }, RangeError, /complexity/],
      [{ complexity: '5' }, TypeError, /complexity/],
      [{ packetLossPercent: -1 }, RangeError, /packetLossPercent/],
      [{ fec: 1 }, TypeError, /fec/],
      [{ port: 70000 }, RangeError, /port/],
      [{ host: 'localhost' }, RangeError, /host/],
      [{ jitter: { windowMs: -1 } }, RangeError, /jitter.windowMs/],
      [{ capture: { kind: 'mic' } }, RangeError, /capture.kind/],
      [{ capture: { kind: 'tone' } }, TypeError, /capture.hz/],
      [{ capture: { kind: 'file' } }, TypeError, /capture.path/],
      [{ playback: { kind: 'fd' } }, TypeError, /playback.fd/],
      [{ playback: { kind: 'speaker' } }, RangeError, /playback.kind/],
      [null, TypeError, /options/],
    ];
    for (const [options, type, message] of cases) {
      t.throws(() => new media.Engine(options as never, cb), { instanceOf: type, message });
    }
    t.throws(() => new media.Engine({}, undefined as never), { instanceOf: TypeError });
    const x = engine();
    t.teardown(() => x.e.close());
    const legs: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ ip: 'example.org', port: 4000 }, RangeError, /ip/],
      [{ ip: LOCAL }, TypeError, /port/],
      [{ ip: LOCAL, port: 4000, direction: 'sideways' }, RangeError, /direction/],
      [{ ip: LOCAL, port: 4000, srtp: { send: Buffer.alloc(30) } }, TypeError, /srtp.recv/],
      [
        { ip: LOCAL, port: 4000, srtp: { send: Buffer.alloc(16), recv: Buffer.alloc(30) } },
        RangeError,
        /srtp.send/,
      ],
      [{ ip: LOCAL, port: 4000, sequence: 65536 }, RangeError, /sequence/],
    ];
    for (const [leg, type, message] of legs) {
      t.throws(() => x.e.start(leg as never), { instanceOf: type, message });
    }
    t.is(x.e.direction, null, 'no leg started');
    const taken = new media.Engine({ host: LOCAL }, cb);
    t.teardown(() => taken.close());
    const err = t.throws(() => new media.Engine({ host: LOCAL, port: taken.port }, cb));
    t.is((err as NodeJS.ErrnoException).code, 'EADDRINUSE');
  },
);

test.serial(
  'close() is idempotent, "close" comes last and once, and a closed engine refuses a leg',
  async (t) => {
    const x = engine({ capture: { kind: 'tone', hz: 500 } });
    x.e.start({ ip: LOCAL, port: 9 });
    x.e.close();
    x.e.close();
    t.is(x.e.stats(), null);
    t.is(x.e.stop(), null);
    t.throws(() => x.e.start({ ip: LOCAL, port: 9 }), { message: /closed/ });
    await x.waitClosed();
    await new Promise((r) => setTimeout(r, 50)); // nothing comes after it
    t.is(x.events.filter(([k]) => k === 'close').length, 1);
    t.is(x.events.at(-1)![0], 'close');
  },
);

/** Runs `code` in a child node: its exit code (null: killed by the guard) and its stdout. */
function child(code: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    const guard = setTimeout(() => p.kill('SIGKILL'), hangGuardMs(10_000));
    p.on('close', (status) => {
      clearTimeout(guard);
      resolve({ status, out });
    });
  });
}

test.serial(
  "the process exits with an engine closed (its 'close' delivered first), and with an idle one",
  async (t) => {
    const index = JSON.stringify(join(import.meta.dirname, '../../../native/media/index.js'));
    // Nothing but the engine keeps this process alive while its 'close' is on its way.
    const closed = `const { Engine } = require(${index});
    const e = new Engine({ host: '127.0.0.1', capture: { kind: 'tone', hz: 440 } },
      (kind) => { if (kind === 'close') console.log('close'); });
    e.start({ ip: '127.0.0.1', port: 9 });
    setTimeout(() => e.close(), 100);`;
    const idle = `const { Engine } = require(${index});
    const e = new Engine({ host: '127.0.0.1' }, () => {});
    e.start({ ip: '127.0.0.1', port: 9 });
    e.stop();`;
    t.deepEqual(await child(closed), { status: 0, out: 'close\n' });
    t.deepEqual(await child(idle), { status: 0, out: '' });
  },
);

test.serial('200 legs started and stopped leak no descriptor', async (t) => {
  const fds = () => readdirSync('/proc/self/fd').sort().join(',');
  const path = join(dir, 'leak.wav');
  const { encodeWav } = await import('../../../device/audio/wav.ts');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, encodeWav(Buffer.alloc(9600)));
  const x = engine({ capture: { kind: 'file', path } });
  t.teardown(() => x.e.close());
  x.e.start({ ip: LOCAL, port: 9 });
  await until(() => x.of('capture').length === 1, 'the file open');
  x.e.stop();
  await new Promise((r) => setTimeout(r, 50));
  const before = fds();
  for (let i = 0; i < 200; i++) {
    x.e.start({
      ip: LOCAL,
      port: 9,
      srtp: i % 2 ? { send: randomBytes(30), recv: randomBytes(30) } : null,
    });
    if (i % 20 === 0) await until(() => x.of('capture').length > i / 20 + 1, 'the file open');
    t.truthy(x.e.stop());
  }
  await until(() => fds() === before, 'the descriptors back as they were');
  t.pass();
});
