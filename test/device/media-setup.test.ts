/** Which media loop the agent builds for a config (device/media-setup.ts). */
import test from 'ava';
import { type DeviceConfig, loadDeviceConfig } from '../../device/config-schema.ts';
import { type EngineModule, NativeMediaSession } from '../../device/media/native-session.ts';
import { MediaSession } from '../../device/media/session.ts';
import {
  chooseMediaEngine,
  createDeviceMedia,
  describeMediaEngine,
} from '../../device/media-setup.ts';
import { FakeClock, realClock } from '../../shared/clock.ts';
import { testLog } from '../helpers/log.ts';

const module = { Engine: class {} } as unknown as EngineModule;
const load = () => module;

/** A fake Engine that keeps what it was given. */
interface Recorded {
  options: Record<string, unknown>;
  playbacks: unknown[];
}
const engines: Recorded[] = [];
const recordingLoad = () =>
  ({
    Engine: class {
      port = 1;
      options: Record<string, unknown>;
      playbacks: unknown[] = [];
      constructor(options: Record<string, unknown>, onEvent: (k: string, a: unknown) => void) {
        this.options = options;
        this.#onEvent = onEvent;
        engines.push(this);
      }
      setPlayback(p: unknown) {
        this.playbacks.push(p);
      }
      #onEvent: (kind: string, arg: unknown) => void;
      close() {
        this.#onEvent('close', undefined);
      }
    },
  }) as unknown as EngineModule;

function config(argv: string[], env: NodeJS.ProcessEnv = {}): DeviceConfig {
  const r = loadDeviceConfig(['--name', 'door', ...argv], env);
  if (r.kind !== 'config') throw new Error(`not a config: ${r.kind}`);
  return r.config;
}

test('a null speaker and no echo work: the native loop, built as NativeMediaSession', (t) => {
  const c = config(['--capture', 'tone:440', '--playback', 'null']);
  const choice = chooseMediaEngine(c, testLog, realClock, load);
  t.is(choice.kind, 'native');
  const media = createDeviceMedia(c, choice, {
    log: testLog,
    clock: realClock,
    port: 0,
    sink: () => {},
  });
  t.true(media instanceof NativeMediaSession);
});

test("the defaults (alsa microphone, aplay speaker, echo aec): the native loop writes into aplay's pipe", async (t) => {
  const c = config([]);
  const choice = chooseMediaEngine(c, testLog, realClock, recordingLoad);
  t.like(choice, { kind: 'native', speaker: 'aplay', echo: { mode: 'aec' } });
  let listener: ((fd: number | null) => void) | undefined;
  const media = createDeviceMedia(c, choice, {
    log: testLog,
    clock: realClock,
    port: 0,
    sink: () => {},
    speakerPipe: (l) => {
      listener = l;
      return 17;
    },
  });
  t.true(media instanceof NativeMediaSession);
  await media.open();
  const engine = engines.at(-1)!;
  // aplay's buffer and a frame: where the echo's reference starts (echo/setup.ts)
  t.like(engine.options, {
    playback: { kind: 'fd', fd: 17 },
    echo: { mode: 'aec', playbackDelayMs: 80, speakerVolume: 100, micGainDb: 0 },
  });
  listener!(null);
  listener!(21);
  t.deepEqual(engine.playbacks, [{ kind: 'null' }, { kind: 'fd', fd: 21 }]);
  await media.close();
});

test('a file: speaker runs the JS loop, built as MediaSession', (t) => {
  const c = config(['--playback', 'file:/tmp/out.wav']);
  const choice = chooseMediaEngine(c, testLog, realClock, load);
  t.like(choice, { kind: 'js', reason: 'playback file is written from JavaScript' });
  const media = createDeviceMedia(c, choice, {
    log: testLog,
    clock: realClock,
    port: 0,
    sink: () => {},
  });
  t.true(media instanceof MediaSession);
});

test('a null speaker turns echo control off by itself (echoModeFor)', (t) => {
  const c = config(['--capture', 'silence', '--playback', 'null'], {
    BABEL_DEVICE_AUDIO__ECHO: 'aec',
  });
  t.is(chooseMediaEngine(c, testLog, realClock, load).kind, 'native');
});

test('an injected clock keeps auto on the JS loop; engine native still asks for the thread', (t) => {
  const c = config(['--capture', 'tone:440', '--playback', 'null']);
  t.like(chooseMediaEngine(c, testLog, new FakeClock(), load), {
    kind: 'js',
    reason: 'the agent runs on an injected clock',
  });
  const n = config(['--capture', 'tone:440', '--playback', 'null'], {
    BABEL_DEVICE_AUDIO__ENGINE: 'native',
  });
  t.is(chooseMediaEngine(n, testLog, new FakeClock(), load).kind, 'native');
  const bad = config(['--capture', 'arecord:default'], { BABEL_DEVICE_AUDIO__ENGINE: 'native' });
  t.throws(() => chooseMediaEngine(bad, testLog, realClock, load), {
    message: 'audio.engine native: capture arecord is read in JavaScript',
  });
});

test('audio.engine refuses other values with one clear line', (t) => {
  const err = t.throws(() => config([], { BABEL_DEVICE_AUDIO__ENGINE: 'fast' }));
  t.regex(String(err?.message), /AUDIO__ENGINE: must be auto, native or js/);
});

test('audio.fec (default off) reaches the codec', async (t) => {
  t.false(config([]).audio.fec);
  const seen: boolean[] = [];
  const recording = {
    Engine: class {
      port = 1;
      #onEvent: (kind: string, arg: unknown) => void;
      constructor(o: { fec: boolean }, onEvent: (k: string, a: unknown) => void) {
        seen.push(o.fec);
        this.#onEvent = onEvent;
      }
      close() {
        this.#onEvent('close', undefined);
      }
    },
  } as unknown as EngineModule;
  for (const fec of ['false', 'true']) {
    const c = config(['--capture', 'tone:440', '--playback', 'null'], {
      BABEL_DEVICE_AUDIO__FEC: fec,
    });
    const choice = chooseMediaEngine(c, testLog, realClock, () => recording);
    const media = createDeviceMedia(c, choice, {
      log: testLog,
      clock: realClock,
      port: 0,
      sink: () => {},
    });
    await media.open();
    await media.close();
  }
  t.deepEqual(seen, [false, true]);
});

test('--doctor media line: the loop and why; a missing addon and an impossible native FAIL', (t) => {
  const fails = () => {
    throw new Error('Cannot find module');
  };
  t.deepEqual(describeMediaEngine(config(['--capture', 'silence', '--playback', 'null']), load), {
    ok: true,
    detail: 'native loop (babel-media): capture silence, speaker null, echo off',
  });
  t.like(describeMediaEngine(config([]), load), {
    ok: true,
    detail: 'native loop (babel-media): capture alsa, speaker aplay, echo aec',
  });
  t.deepEqual(describeMediaEngine(config(['--capture', 'arecord:default']), load), {
    ok: true,
    detail: 'JavaScript loop: capture arecord is read in JavaScript',
  });
  t.like(describeMediaEngine(config(['--capture', 'silence', '--playback', 'null']), fails), {
    ok: false,
    detail: 'JavaScript loop: the babel-media addon did not load (Cannot find module)',
    fix: 'npm rebuild babel-media (scripts/setup.sh installs what it needs)',
  });
  const native = config(['--capture', 'arecord:default'], { BABEL_DEVICE_AUDIO__ENGINE: 'native' });
  t.like(describeMediaEngine(native, load), {
    ok: false,
    detail: 'audio.engine native: capture arecord is read in JavaScript',
  });
});
