/**
 * NativeMediaSession's own logic over a fake babel-media Engine (the real thread is tested
 * in test/native/media/ and end to end in test/device/): what it hands the thread, what it
 * makes of the thread's events, and which setups `mediaEngineFor()` gives the thread.
 */
import test from 'ava';
import { parseCaptureSpec, parsePlaybackSpec } from '../../../device/audio/index.ts';
import {
  type Engine,
  type EngineAudio,
  type EngineLeg,
  type EngineListener,
  type EngineModule,
  type EngineOptions,
  type EnginePlayback,
  mediaEngineFor,
  NativeMediaSession,
} from '../../../device/media/native-session.ts';
import type { MediaStats } from '../../../device/media/pipeline-types.ts';
import { newMasterKey, parseMasterKey, SrtpKeyError } from '../../../protocol/srtp/index.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { capturingLog, testLog } from '../../helpers/log.ts';

const STATS = { packetsSent: 7, received: 5 } as MediaStats;

class FakeEngine implements Engine {
  readonly options: EngineOptions;
  readonly onEvent: EngineListener;
  legs: Array<EngineLeg & { keysAtStart: { send: string; recv: string } | null }> = [];
  running = false;
  keys: string[] = [];
  closed = 0;
  readonly port = 40000;
  constructor(options: EngineOptions, onEvent: EngineListener) {
    this.options = options;
    this.onEvent = onEvent;
  }
  start(leg: EngineLeg): void {
    // What the thread would copy at once (the caller may wipe the buffers afterwards).
    const keysAtStart = leg.srtp
      ? { send: leg.srtp.send.toString('base64'), recv: leg.srtp.recv.toString('base64') }
      : null;
    this.legs.push({ ...leg, keysAtStart });
    this.running = true;
  }
  stop(): MediaStats | null {
    const was = this.running;
    this.running = false;
    return was ? STATS : null;
  }
  stats(): MediaStats | null {
    return this.running ? STATS : null;
  }
  pressKey(key: string): void {
    this.keys.push(key);
  }
  playbacks: EnginePlayback[] = [];
  setPlayback(p: EnginePlayback): void {
    this.playbacks.push(p);
  }
  volumes: number[] = [];
  setSpeakerVolume(v: number): number {
    this.volumes.push(v);
    return v;
  }
  close(): void {
    this.closed++;
    queueMicrotask(() => this.onEvent('close', undefined));
  }
}

const fakeModule: EngineModule = { Engine: FakeEngine };

async function open(clock = new FakeClock(), log = testLog) {
  let engine!: FakeEngine;
  const module: EngineModule = {
    Engine: class extends FakeEngine {
      constructor(options: EngineOptions, onEvent: EngineListener) {
        super(options, onEvent);
        engine = this;
      }
    },
  };
  const s = new NativeMediaSession({
    log,
    clock,
    module,
    capture: { kind: 'tone', hz: 440 },
    playback: { kind: 'null' },
    port: 0,
    pipeline: { frameMs: 20, codec: { complexity: 3 }, jitter: { maxDepthMs: 120 } },
  });
  const port = await s.open();
  return { s, port, engine, clock };
}

test('the thread gets the pipeline settings; a leg gets fresh random RTP numbers [M-1]', async (t) => {
  const { s, port, engine } = await open();
  t.is(port, 40000);
  t.like(engine.options, {
    frameMs: 20,
    complexity: 3,
    bitrate: 24000,
    fec: true,
    capture: { kind: 'tone', hz: 440 },
    playback: { kind: 'null' },
    jitter: { initialDepthMs: 40, maxDepthMs: 120 },
  });
  s.start({ ip: '127.0.0.1', port: 5004 });
  s.start({ ip: '127.0.0.1', port: 5006 }, null, 'send');
  t.is(engine.legs.length, 2);
  const [a, b] = engine.legs;
  t.like(a, { ip: '127.0.0.1', port: 5004, direction: 'both', srtp: null });
  t.like(b, { port: 5006, direction: 'send' });
  t.not(a!.ssrc, b!.ssrc);
  for (const leg of [a!, b!]) {
    t.true(Number.isInteger(leg.sequence) && leg.sequence >= 0 && leg.sequence < 0x10000);
    t.true(Number.isInteger(leg.timestamp) && leg.timestamp >= 0 && leg.timestamp < 2 ** 32);
  }
  t.is(s.direction, 'send');
  await s.close();
});

test('SRTP keys reach the thread as 30 raw bytes [S-4]; a bad key throws before it', async (t) => {
  const { s, engine } = await open();
  const keys = { send: newMasterKey(), recv: newMasterKey() };
  s.start({ ip: '127.0.0.1', port: 5004 }, keys);
  t.deepEqual(engine.legs[0]!.keysAtStart, {
    send: parseMasterKey(keys.send).toString('base64'),
    recv: parseMasterKey(keys.recv).toString('base64'),
  });
  t.throws(() => s.start({ ip: '127.0.0.1', port: 5004 }, { send: 'nope', recv: keys.recv }), {
    instanceOf: SrtpKeyError,
  });
  t.is(engine.legs.length, 1);
  await s.close();
});

test('stats every interval during a leg and once at its end; none between legs', async (t) => {
  const clock = new FakeClock();
  const { s } = await open(clock);
  const seen: MediaStats[] = [];
  s.on('stats', (x) => seen.push(x));
  clock.advance(20_000);
  t.is(seen.length, 0);
  t.is(s.stats(), null);
  s.start({ ip: '127.0.0.1', port: 5004 });
  clock.advance(10_000);
  t.is(seen.length, 2);
  t.is(s.stop(), STATS);
  t.is(seen.length, 3);
  clock.advance(10_000);
  t.is(seen.length, 3);
  t.is(s.stop(), null);
  await s.close();
});

test('key presses go to the thread only on a leg that sends', async (t) => {
  const { s, engine } = await open();
  s.pressKey('5');
  s.start({ ip: '127.0.0.1', port: 5004 }, null, 'receive');
  s.pressKey('6');
  s.start({ ip: '127.0.0.1', port: 5004 }, null, 'both');
  s.pressKey('#');
  t.deepEqual(engine.keys, ['#']);
  t.throws(() => s.pressKey('x' as never), { instanceOf: RangeError });
  await s.close();
});

test("the thread's events: a key, G-3's silence, the microphone, warnings", async (t) => {
  const captured = capturingLog('debug');
  const { s, engine } = await open(new FakeClock(), captured.log);
  const keys: string[] = [];
  let silent = 0;
  s.on('dtmf', (k) => keys.push(k));
  s.on('silent', () => silent++);
  engine.onEvent('dtmf', '9');
  engine.onEvent('dtmf', 'not a key');
  engine.onEvent('silent', undefined);
  engine.onEvent('capture', { state: 'error', message: 'file gone', retryInMs: 1000 });
  engine.onEvent('capture', { state: 'open' });
  engine.onEvent('warning', { message: 'send failed: ENETUNREACH' });
  engine.onEvent('something new', {});
  t.deepEqual(keys, ['9']);
  t.is(silent, 1);
  const records = captured.records;
  const msgs = records.map((r) => r.msg);
  // As ResilientCapture says it for the JS loop, under the same `capture` field.
  t.true(
    records.some(
      (r) =>
        r.msg === 'audio device unavailable; retrying until it is back' &&
        r.capture === 'tone:440' &&
        r.delayMs === 1000 &&
        typeof r.hint === 'string',
    ),
  );
  t.true(records.some((r) => r.msg === 'audio device open' && r.capture === 'tone:440'));
  t.true(msgs.includes('no media from the peer for 2 s while sending'));
  t.true(records.some((r) => r.msg === 'media engine' && r.reason === 'send failed: ENETUNREACH'));
  await s.close();
});

test('close() stops the leg, closes the thread once and waits for its end', async (t) => {
  const { s, engine } = await open();
  s.start({ ip: '127.0.0.1', port: 5004 });
  await s.close();
  await s.close();
  t.is(engine.closed, 1);
  t.false(engine.running);
  t.is(s.direction, null);
  t.throws(() => s.start({ ip: '127.0.0.1', port: 5004 }), { message: /open\(\) before/ });
});

const BASE: EngineAudio = {
  engine: 'auto',
  echo: 'off',
  noise_suppression: false,
  auto_gain: false,
  mic_gain_db: 0,
  speaker_volume: 100,
};
const loads = () => fakeModule;
const fails = () => {
  throw new Error("Cannot find module 'babel-media'\nRequire stack: ...");
};

test('mediaEngineFor: the setups the thread covers, and why the others stay in JS', (t) => {
  const cap = parseCaptureSpec;
  const play = parsePlaybackSpec;
  for (const c of ['alsa:default', 'file:/tmp/a.wav', 'tone:440', 'silence']) {
    t.is(mediaEngineFor(BASE, cap(c), play('null'), loads).kind, 'native', c);
  }
  const covered: Array<[Partial<EngineAudio>, string, string]> = [
    [{ echo: 'aec' }, 'alsa:default', 'aplay:default'],
    [{ echo: 'duck', mic_gain_db: 6, speaker_volume: 40 }, 'alsa:hw:1', 'aplay:default'],
    [{ noise_suppression: true, auto_gain: true }, 'tone:440', 'null'],
  ];
  for (const [audio, c, p] of covered) {
    const choice = mediaEngineFor({ ...BASE, ...audio }, cap(c), play(p), loads);
    t.like(choice, {
      kind: 'native',
      speaker: p === 'null' ? 'null' : 'aplay',
      echo: {
        mode: audio.echo ?? 'off',
        micGainDb: audio.mic_gain_db ?? 0,
        speakerVolume: audio.speaker_volume ?? 100,
        noiseSuppression: audio.noise_suppression ?? false,
        autoGain: audio.auto_gain ?? false,
      },
    });
  }
  const js: Array<[Partial<EngineAudio>, string, string, RegExp]> = [
    [{}, 'arecord:default', 'null', /capture arecord/],
    [{}, 'fake-alsa:440', 'null', /capture fake-alsa/],
    [{}, 'tone:440', 'file:/tmp/o.wav', /playback file/],
    [{ engine: 'js' }, 'tone:440', 'null', /audio.engine is js/],
  ];
  for (const [audio, c, p, why] of js) {
    const choice = mediaEngineFor({ ...BASE, ...audio }, cap(c), play(p), loads);
    t.is(choice.kind, 'js');
    t.regex((choice as { reason: string }).reason, why);
  }
  const missing = mediaEngineFor(BASE, cap('tone:440'), play('null'), fails);
  t.deepEqual(missing, {
    kind: 'js',
    reason: "the babel-media addon did not load (Cannot find module 'babel-media')",
  });
  const noEngine = mediaEngineFor(BASE, cap('tone:440'), play('null'), () => ({}) as never);
  t.is(noEngine.kind, 'js');
});

test('mediaEngineFor: engine native where it cannot run throws, naming why', (t) => {
  const native = { ...BASE, engine: 'native' as const };
  t.throws(
    () =>
      mediaEngineFor(
        native,
        parseCaptureSpec('tone:440'),
        parsePlaybackSpec('file:/t/o.wav'),
        loads,
      ),
    { message: 'audio.engine native: playback file is written from JavaScript' },
  );
  t.throws(
    () => mediaEngineFor(native, parseCaptureSpec('tone:440'), parsePlaybackSpec('null'), fails),
    { message: /audio.engine native: the babel-media addon did not load/ },
  );
  t.is(
    mediaEngineFor(native, parseCaptureSpec('silence'), parsePlaybackSpec('null'), loads).kind,
    'native',
  );
});

test('the speaker: aplay pipe changes and volume reach the thread; echo options at start', async (t) => {
  const { s, engine } = await open();
  t.is(engine.options.echo, undefined);
  s.setPlayback({ kind: 'fd', fd: 42 });
  s.setPlayback({ kind: 'null' });
  s.setSpeakerVolume(30);
  t.deepEqual(engine.playbacks, [{ kind: 'fd', fd: 42 }, { kind: 'null' }]);
  t.deepEqual(engine.volumes, [30]);
  await s.close();
  s.setPlayback({ kind: 'fd', fd: 43 });
  t.is(engine.playbacks.length, 2);
});

test("the thread's echo events are logged as the JS echo control logs them", async (t) => {
  const captured = capturingLog('debug');
  const { s, engine } = await open(new FakeClock(), captured.log);
  engine.onEvent('echo', { event: 'delay', delayMs: 84 });
  engine.onEvent('echo', { event: 'heard', delayMs: 84 });
  const r = captured.records;
  t.true(r.some((x) => x.msg === 'echo delay measured' && x.delayMs === 84 && x.level === 20));
  t.true(r.some((x) => x.msg === 'echo heard: cancelling' && x.delayMs === 84 && x.level === 30));
  await s.close();
});

test('close() does not hang on a thread that never says it ended', async (t) => {
  const clock = new FakeClock();
  const captured = capturingLog('debug');
  const { s, engine } = await open(clock, captured.log);
  engine.close = () => {
    engine.closed++;
  };
  let done = false;
  const closing = s.close().then(() => {
    done = true;
  });
  await Promise.resolve();
  t.false(done);
  clock.advance(2000);
  await closing;
  t.true(done);
  t.true(captured.records.some((r) => /no word of its thread ending/.test(String(r.msg))));
});
