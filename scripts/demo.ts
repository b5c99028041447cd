/**
 * `npm run demo`: a simulated intercom on this machine. A hub and two units (the front
 * door and the kitchen) place a call, talk, and hang up, and the life cycle is told in
 * plain words. `npm run demo -- --stay` keeps everything running afterwards so that one
 * more simulated unit can be attached by hand.
 *
 * The two units run on one `FakeClock` that the script moves on a frame at a time, no
 * faster than real time; after each frame it waits until every RTP packet one unit sent
 * the other has arrived. A busy machine makes the demo take longer, but each speaker
 * plays exactly the same audio every time: no packet is ever late for its playout slot.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DeviceAgent } from '../device/agent.ts';
import { decodeWav } from '../device/audio/wav.ts';
import { loadDeviceConfig } from '../device/config-schema.ts';
import { dominantFrequency, rms } from '../device/media/tone.ts';
import { newSecret } from '../device/secret.ts';
import { loadHubConfig } from '../hub/config-schema.ts';
import { Hub } from '../hub/main.ts';
import { FakeClock } from '../shared/clock.ts';
import { loopbackHubArgs } from '../test/helpers/hub-launch.ts';

const { values } = parseArgs({ options: { stay: { type: 'boolean', default: false } } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-demo-'));
const quiet = pino({ level: 'silent' });
const t0 = performance.now();
const say = (text: string) =>
  console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${text}`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config<T>(loaded: { kind: string; config?: T }): T {
  if (loaded.kind !== 'config' || !loaded.config) throw new Error('demo config did not load');
  return loaded.config;
}

console.log('Babel Intercom demo: a hub and two simulated intercom units on this machine.\n');
const loadedHub = config(loadHubConfig(loopbackHubArgs(path.join(dir, 'data')), {}));
// [S-6] Closed, as a hub is by default: the demo provisions the accounts it uses.
const hubConfig = { ...loadedHub, registration: 'closed' as const };
const hub = await Hub.start(hubConfig, { log: quiet });
console.log(
  `  hub      listens on 127.0.0.1:${hub.textPort} (text protocol) and :${hub.binaryPort} (binary);`,
);
console.log(`           its accounts are in ${path.join(dir, 'data')}`);

// [S-6] Registration is closed on a hub by default: the demo provisions its accounts,
// each with a secret, as `babel-hub user add` or the installer would.
const secrets: Record<string, string> = {};
const provision = async (name: string) => {
  secrets[name] = newSecret();
  await hub.accounts.createUser({ name, secret: secrets[name] });
};

const units = [
  { name: 'door', hz: 440, target: 'kitchen', what: 'the unit by the front door' },
  { name: 'kitchen', hz: 1000, target: null, what: 'the unit in the flat' },
] as const;
const agents: Record<string, DeviceAgent> = {};
/** The units' time: it moves only in `play()`, one audio frame (20 ms, the default) at a time. */
const clock = new FakeClock();
const FRAME_MS = 20;
for (const u of units) {
  await provision(u.name);
  const wav = path.join(dir, `${u.name}.wav`);
  const argv = [
    '--name',
    u.name,
    '--hub',
    `127.0.0.1:${hub.textPort}`,
    '--media-port',
    '0',
    '--capture',
    `tone:${u.hz}`,
    '--playback',
    `file:${wav}`,
    '--mqtt',
    'off',
    '--secret',
    secrets[u.name]!,
  ];
  if (u.target) argv.push('--target', u.target);
  agents[u.name] = await DeviceAgent.start(config(loadDeviceConfig(argv, {})), {
    log: quiet,
    clock,
    narrate: say,
  });
  console.log(
    `  ${u.name.padEnd(8)} ${u.what}: its microphone hears a ${u.hz} Hz tone, its speaker writes ${wav}`,
  );
}
console.log('');

const door = agents.door!;
const kitchen = agents.kitchen!;
const until = async (what: () => boolean, ms = 5000) => {
  const end = performance.now() + ms;
  while (!what()) {
    if (performance.now() > end)
      throw new Error('the demo got stuck; run `npm test` to see what is wrong');
    await new Promise((r) => setImmediate(r));
  }
};

/** While the two units talk to each other: every packet each one sent has reached the other. */
const delivered = (): boolean => {
  const d = door.mediaStats;
  const k = kitchen.mediaStats;
  if (!d || !k || door.machine.peer !== 'kitchen' || kitchen.machine.peer !== 'door') return true;
  return d.packetsSent === k.received && k.packetsSent === d.received;
};

/**
 * Lets `ms` of the units' time pass, a frame at a time and never ahead of real time. After
 * each frame (microphones captured and sent, speakers played), waits for the packets in
 * flight, so what a speaker plays depends on events only, never on how busy the machine is.
 */
const play = async (ms: number, going = () => true) => {
  const start = performance.now() - clock.now();
  for (let done = 0; done < ms && going(); done += FRAME_MS) {
    clock.advance(FRAME_MS);
    await until(delivered);
    const ahead = start + clock.now() - performance.now();
    if (ahead > 0) await pause(ahead);
  }
};

await until(() => door.machine.online && kitchen.machine.online);
await play(500);
say('(a visitor presses the button at the front door)');
door.input({ kind: 'press', long: false });
await until(() => kitchen.machine.state === 'ringing');
await play(2000);
say('(someone in the kitchen presses their button to answer)');
kitchen.input({ kind: 'press', long: false });
await until(() => door.machine.state === 'in_call' && kitchen.machine.state === 'in_call');
say('(they talk for three seconds: each microphone goes to the other speaker as Opus over RTP)');
await play(3000);
say('(the visitor presses the door button again to hang up)');
door.input({ kind: 'press', long: false });
await until(() => kitchen.machine.state === 'idle');
await play(300);

if (values.stay) {
  // The hub's registration is closed: the unit attached by hand and a hand-typed session
  // get accounts of their own, and the commands below carry their secrets.
  await provision('garage');
  await provision('me');
  console.log(`
Everything keeps running. Attach one more simulated unit by hand, in another terminal
(from this checkout, after \`npm run build\`); the demo made its account \`garage\`:

  node dist/device/bin.js --name garage --secret ${secrets.garage} \\
      --hub 127.0.0.1:${hub.textPort} --media-port 0 --capture tone:600 \\
      --playback file:garage.wav --button stdin --target door --mqtt off

then type \`press\` and Enter to call the door (and again to hang up). The demo units do
not answer by themselves: call \`kitchen\`... or talk to the hub directly with
\`nc -C 127.0.0.1 ${hub.textPort}\` and type \`CONNECT me 0 ${secrets.me}\`, then \`USERS\`.
Each further unit needs a name and an account of its own (registration is closed):
\`node dist/hub/bin.js user add NAME --data-dir ${path.join(dir, 'data')}\` prints its secret.
Press Ctrl-C to stop.`);
  let staying = true;
  process.once('SIGINT', () => {
    staying = false;
  });
  // A unit attached by hand runs on real time: the demo's units keep pace with it.
  await play(Number.POSITIVE_INFINITY, () => staying);
}

await door.stop();
await kitchen.stop();
await hub.stop();

/** What a speaker played, half a second at a time: the main frequency, or silence. */
function heard(file: string): string {
  const pcm = decodeWav(fs.readFileSync(file));
  const halfSecond = 48000; // bytes: 24,000 samples of 16 bits
  const parts: string[] = [];
  for (let o = 0; o + halfSecond <= pcm.length; o += halfSecond) {
    const w = pcm.subarray(o, o + halfSecond);
    parts.push(rms(w) < 100 ? 'quiet' : `${dominantFrequency(w, 48000)} Hz`);
  }
  return parts.join(', ');
}
console.log(`
What each speaker played, half a second at a time:
  door     ${heard(path.join(dir, 'door.wav'))}
  kitchen  ${heard(path.join(dir, 'kitchen.wav'))}
The door hears its ring-back (425 Hz) and then the kitchen's 1000 Hz; the kitchen hears
its two-note chime (660/523 Hz) and then the door's 440 Hz. The recordings stay in
${dir} (play them with \`aplay\`). Run \`npm run demo -- --stay\` to attach one more unit by hand.`);
process.exit(0);
