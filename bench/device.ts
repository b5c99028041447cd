/**
 * Device benchmark (issue: the device agent). RSS and CPU of one `babel-device` process
 * through a call against a second one (tone in, null out, direct media), beside the floor:
 * bare Opus encode + decode of the same audio in this process.
 *
 *   npm run build && node --import tsx bench/device.ts [--seconds 60] [--capture SPEC]
 *     [--complexity N] [--node-flags="FLAGS"] [--entry dist/device/bin.js]
 *     [--engine auto|native|js] [--warmup 10] [--playback null|aplay:PCM|file:PATH]
 * (`--node-flags=` with the equals sign: its value starts with a dash)
 *
 * `--capture` is both devices' microphone (default: a tone each, 440 and 1000 Hz);
 * `--complexity` their Opus encoder complexity (default 5, the device's default).
 * `../shared/bench/vs-baresip.sh` runs it beside baresip with `file:` speech.
 *
 * Goal: RSS under 60 MB; CPU within 1.3x the floor.
 *
 * Floors printed beside the device's figures, each measured after the call in this run:
 * `floor_pct`, Opus encode + decode of the door's audio back to back in this process;
 * `node_floor_pct` and `native_floor_pct`, a call's wake-ups and packets with no codec, in
 * Node and in C (bench/lib/native-floor.c); `opus_*_pct`, Opus alone in C on the same
 * audio, back to back and paced by one and by two wake-ups a frame (bench/lib/opus-floor.c:
 * a call's loop pays at least `opus_two_wake_pct`). Memory: `rss_mb` (VmRSS), `anon_mb`
 * (RssAnon), `uss_mb` (pages no other process maps), peaks over the window.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { decodeWav } from '../device/audio/wav.ts';
import { OpusCodec } from '../device/media/opus.ts';
import { generateTone } from '../device/media/tone.ts';
import { anonMb, contextSwitches, cpuMs, rssMb, spawnHub, threadCount, ussMb } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    capture: { type: 'string' },
    // Both devices' speaker (default null: no sound, so no echo control).
    playback: { type: 'string', default: 'null' },
    complexity: { type: 'string', default: '5' },
    // V8/Node flags of both devices; default: the ones systemd/babel-device.service sets.
    'node-flags': { type: 'string' },
    // The device script; default: the one systemd/babel-device.service runs.
    entry: { type: 'string' },
    // audio.engine of both devices (auto, native, js); default: the device's own default.
    engine: { type: 'string' },
    // Seconds the devices run, registered and idle, before the call: a door station
    // starts once and takes calls for weeks, so what its process does in its first
    // seconds (V8 compiling the start-up and collecting what it allocated) is not a
    // call's cost. 0 measures a call placed at once, as before issue 15's third pass.
    warmup: { type: 'string', default: '10' },
  },
});
const seconds = Number(values.seconds);
const complexity = Number(values.complexity);
if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10)
  throw new Error(`--complexity: an integer 0..10, got ${values.complexity}`);
const root = path.resolve(import.meta.dirname, '..');
const unit = fs.readFileSync(path.join(root, 'systemd/babel-device.service'), 'utf8');

/** The script systemd/babel-device.service runs (under /opt/babel-intercom), in this tree. */
function unitEntry(): string {
  const script = /^ExecStart=\S+ \/opt\/babel-intercom\/(\S+)/m.exec(unit)?.[1];
  if (!script)
    throw new Error('systemd/babel-device.service: no ExecStart under /opt/babel-intercom');
  return script;
}

// `--entry dist/device/bin.js` measures the module tree instead of the unit's bundle.
const built = path.join(root, values.entry ?? unitEntry());
if (!fs.existsSync(built))
  throw new Error('run `npm run build` first: the benchmark measures the built device');

/** NODE_OPTIONS of systemd/babel-device.service: the bench runs the device as installed. */
function unitNodeOptions(): string {
  return /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)?.[1]?.replace(/^"|"$/g, '') ?? '';
}

const nodeFlags = (values['node-flags'] ?? unitNodeOptions()).split(/\s+/).filter(Boolean);

const hub = await spawnHub();
/** The devices whose log said they run the native media loop (issue 15). */
const nativeEngines = new Set<string>();

function device(
  name: string,
  hz: number,
  extra: string[],
): { child: ChildProcess; events: string[]; wait: (re: RegExp) => Promise<void> } {
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      built,
      '--name',
      name,
      '--hub',
      `127.0.0.1:${hub.textPort}`,
      '--media-port',
      '0',
      '--capture',
      values.capture ?? `tone:${hz}`,

      '--playback',
      values.playback,
      '--button',
      'stdin',
      '--mqtt',
      'off',
      ...extra,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BABEL_DEVICE_AUDIO__COMPLEXITY: String(complexity),
        ...(values.engine ? { BABEL_DEVICE_AUDIO__ENGINE: values.engine } : {}),
      },
    },
  );

  const events: string[] = [];
  const waiters: Array<() => void> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    // The device's log says which media loop runs its calls.
    if (l.includes('"msg":"media engine: native"')) nativeEngines.add(name);
    try {
      const e = (JSON.parse(l) as { event?: string }).event;
      if (e) events.push(e);
    } catch {
      // not JSON
    }
    for (const w of waiters.splice(0)) w();
  });
  const wait = async (re: RegExp) => {
    const end = Date.now() + 20_000;
    while (!events.some((e) => re.test(e))) {
      if (Date.now() > end) throw new Error(`${name}: no ${re}; saw ${events.join(' | ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { child, events, wait };
}

const door = device('door', 440, ['--target', 'kitchen']);
const kitchen = device('kitchen', 1000, ['--auto-answer']);
await door.wait(/connected to the hub/);
await kitchen.wait(/connected to the hub/);
const warmupS = Number(values.warmup);
if (!(warmupS >= 0)) throw new Error(`--warmup: seconds >= 0, got ${values.warmup}`);
await new Promise((r) => setTimeout(r, warmupS * 1000));
const pid = door.child.pid!;
door.child.stdin!.write('press\n');
await door.wait(/talking with kitchen/);
await new Promise((r) => setTimeout(r, 1000)); // settle
console.log(`in a call; measuring the door unit (pid ${pid}) for ${seconds} s`);
const cpu0 = cpuMs(pid);
const cs0 = contextSwitches(pid);
const t0 = performance.now();
let peakRss = 0;
let peakAnon = 0;
let peakUss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, rssMb(pid));
  peakAnon = Math.max(peakAnon, anonMb(pid));
  peakUss = Math.max(peakUss, ussMb(pid));
};
const sampler = setInterval(sample, 500);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(sampler);
const wallMs = performance.now() - t0;
const used = cpuMs(pid) - cpu0;
const switchesPerS = (contextSwitches(pid) - cs0) / (wallMs / 1000);
const threads = threadCount(pid);
sample();
door.child.stdin!.write('press\n');
await door.wait(/hung up on kitchen/);
for (const d of [door, kitchen]) d.child.kill('SIGTERM');
await hub.stop();

// The door's microphone: a `file:` WAV, or its tone. The floors below code the same audio
// (Opus costs half again as much on speech as on a tone).
const captureFile = values.capture?.startsWith('file:') ? values.capture.slice(5) : null;
const doorTone = Number(/^tone:(\d+)$/.exec(values.capture ?? '')?.[1] ?? 440);
const audio = captureFile
  ? decodeWav(fs.readFileSync(captureFile))
  : generateTone(doorTone, 1000, 48000, 8000);

// The floor: what Opus alone costs for the same audio (one encode and one decode per frame).
const codec = new OpusCodec({ bitrate: 24000, complexity, frameMs: 20 });
const frames = Math.round((wallMs / 1000) * 50);
const frameBytes = 960 * 2;
const f0 = process.cpuUsage();
for (let i = 0, at = 0; i < frames; i++, at += frameBytes) {
  if (at + frameBytes > audio.length) at = 0;
  codec.decode(codec.encode(audio.subarray(at, at + frameBytes)));
}
const f1 = process.cpuUsage(f0);
const floorMs = (f1.user + f1.system) / 1000;

// The runtime's own floor: a bare Node process with the same two 20 ms timers and a UDP
// packet each way per frame, no codec, no logic (what any Node agent pays for a call).
const nodeFloorPct = await new Promise<number>((resolve) => {
  const src = `
    const dgram = require('node:dgram'); const fs = require('node:fs');
    const a = dgram.createSocket('udp4'), b = dgram.createSocket('udp4'); const pkt = Buffer.alloc(80);
    const ticks = () => { const s = fs.readFileSync('/proc/self/stat', 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); };
    a.bind(0, '127.0.0.1', () => b.bind(0, '127.0.0.1', () => {
      a.on('message', () => {}); b.on('message', () => {});
      setInterval(() => a.send(pkt, b.address().port, '127.0.0.1'), 20);
      setInterval(() => b.send(pkt, a.address().port, '127.0.0.1'), 20);
      setTimeout(() => { const t0 = ticks(); setTimeout(() => { console.log((ticks() - t0) * 10); process.exit(0); }, ${Math.min(seconds, 20)} * 1000); }, 1000);
    }));`;
  const c = spawn(process.execPath, [...nodeFlags, '-e', src], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  c.on('exit', () => resolve((100 * Number(out.trim())) / (Math.min(seconds, 20) * 1000)));
});

// The same work in C (bench/lib/native-floor.c): what a native media loop would pay for it.
// Needs a C compiler (setup.sh installs build-essential); "na" without one.
function nativeFloorPct(): number {
  const exe = path.join(os.tmpdir(), `babel-native-floor-${process.pid}`);
  try {
    execFileSync('cc', ['-O2', '-o', exe, path.join(root, 'bench/lib/native-floor.c')]);
    const out = execFileSync(exe, [String(Math.min(seconds, 20))], { encoding: 'utf8' });
    return Number(/native_floor_pct=([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  } finally {
    fs.rmSync(exe, { force: true });
  }
}
const nativeFloor = nativeFloorPct();

// Opus alone in C (bench/lib/opus-floor.c), the same audio and encoder settings, tight and
// paced by one and by two wake-ups a frame: the least any media loop, the device's native
// one or baresip, pays for Opus when a call wakes it (no sockets in it). Needs a C compiler
// and libopus-dev (setup.sh installs both); "na" without them.
function opusFloor(): { tight: number; one: number; two: number } {
  const exe = path.join(os.tmpdir(), `babel-opus-floor-${process.pid}`);
  const na = { tight: Number.NaN, one: Number.NaN, two: Number.NaN };
  try {
    execFileSync('cc', [
      '-O2',
      '-o',
      exe,
      path.join(root, 'bench/lib/opus-floor.c'),
      '-lopus',
      '-lm',
    ]);
    const source = captureFile ?? `tone:${doorTone}`;
    const out = execFileSync(exe, [source, String(Math.min(seconds, 15)), String(complexity)], {
      encoding: 'utf8',
    });
    const field = (k: string) => Number(new RegExp(`${k}=([\\d.]+)`).exec(out)?.[1] ?? Number.NaN);
    return {
      tight: field('opus_tight_pct'),
      one: field('opus_one_wake_pct'),
      two: field('opus_two_wake_pct'),
    };
  } catch {
    return na;
  } finally {
    fs.rmSync(exe, { force: true });
  }
}
const opus = opusFloor();

const cpuPct = (100 * used) / wallMs;
const floorPct = (100 * floorMs) / wallMs;
console.log(
  `device CPU ${used.toFixed(0)} ms over ${(wallMs / 1000).toFixed(1)} s = ${cpuPct.toFixed(2)}% of one core; peak RSS ${peakRss.toFixed(1)} MB ` +
    `(private ${peakAnon.toFixed(1)} MB, the rest Node's binary and libraries, shared; ` +
    `${peakUss.toFixed(1)} MB mapped by no other process); ` +
    `${switchesPerS.toFixed(0)} context switches/s over ${threads} threads`,
);
console.log(
  `floor (bare Opus encode+decode of the same ${frames} frames): ${floorMs.toFixed(0)} ms = ${floorPct.toFixed(2)}%; ratio ${(cpuPct / floorPct).toFixed(2)}`,
);
console.log(
  `node runtime floor (two 20 ms timers + UDP both ways, no codec): ${nodeFloorPct.toFixed(2)}%; ` +
    `the same in C: ${nativeFloor.toFixed(2)}%`,
);
console.log(
  `Opus alone in C on the same audio: ${opus.tight.toFixed(2)}% back to back, ` +
    `${opus.one.toFixed(2)}% woken once a frame, ${opus.two.toFixed(2)}% woken twice a frame (as a call is)\n` +
    `rss_mb=${peakRss.toFixed(1)} anon_mb=${peakAnon.toFixed(1)} uss_mb=${peakUss.toFixed(1)} switches_per_s=${switchesPerS.toFixed(0)} cpu_pct=${cpuPct.toFixed(2)} floor_pct=${floorPct.toFixed(2)} cpu_ratio=${(cpuPct / floorPct).toFixed(2)} node_floor_pct=${nodeFloorPct.toFixed(2)} native_floor_pct=${nativeFloor.toFixed(2)} ratio_to_both_floors=${(cpuPct / (floorPct + nodeFloorPct)).toFixed(2)} opus_tight_pct=${opus.tight.toFixed(2)} opus_one_wake_pct=${opus.one.toFixed(2)} opus_two_wake_pct=${opus.two.toFixed(2)} ratio_to_opus_two_wake=${(cpuPct / opus.two).toFixed(2)} engine=${nativeEngines.has('door') ? 'native' : 'js'}`,
);
process.exit(0);
