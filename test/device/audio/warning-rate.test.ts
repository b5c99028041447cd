/**
 * Issue 14: a device without a sound card logged 77 warnings in 30 s (each retry: every
 * line alsa-utils printed, the backend's failure, the supervisor's). Now: one warning per
 * device that says what to do, a summary at a slow interval, one line when it is back.
 * Driven by the fake clock through the real aplay and arecord backends over fake children
 * that fail as alsa-utils does on a machine without a card.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import {
  createResilientCapture,
  createResilientPlayback,
  parseCaptureSpec,
  parsePlaybackSpec,
} from '../../../device/audio/index.ts';
import type { SpawnFn } from '../../../device/audio/types.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { createLogger } from '../../../shared/log.ts';
import { fakeSpawn } from './fixtures/fake-child.ts';

const NO_CARD = [
  "ALSA lib confmisc.c:855:(parse_card) cannot find card '0'",
  'ALSA lib conf.c:5180:(_snd_config_evaluate) function snd_func_card_inum returned error: No such file or directory',
  'ALSA lib confmisc.c:422:(snd_func_concat) error evaluating strings',
  'ALSA lib conf.c:5180:(_snd_config_evaluate) function snd_func_concat returned error: No such file or directory',
  'ALSA lib confmisc.c:1334:(snd_func_refer) error evaluating name',
  'ALSA lib conf.c:5180:(_snd_config_evaluate) function snd_func_refer returned error: No such file or directory',
  'ALSA lib conf.c:5703:(snd_config_expand) Evaluate error: No such file or directory',
  'ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default',
  'aplay: main:831: audio open error: No such file or directory',
];

async function settle(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function rig() {
  const clock = new FakeClock();
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) records.push(JSON.parse(l));
      done();
    },
  });
  const log = createLogger('info', sink, 'babel-device');
  let cardPresent = false;
  const spawnFn: SpawnFn = (command, args, options) => {
    const { spawnFn: one, calls } = fakeSpawn();
    const child = one(command, args, options);
    const fake = calls[0]!.child;
    setImmediate(() => {
      if (cardPresent) {
        if (command === 'arecord') fake.stdout.write(Buffer.alloc(3840)); // audio: it is open
        return;
      }
      fake.stderr.write(`${NO_CARD.join('\n')}\n`);
      setImmediate(() => fake.exit(1));
    });
    return child;
  };
  const deps = { log: log.child({ mod: 'audio' }), clock, frameSamples: 960, spawnFn };
  const playback = createResilientPlayback(parsePlaybackSpec('aplay:default'), deps);
  const capture = createResilientCapture(parseCaptureSpec('arecord:default'), deps);
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      await settle();
    }
  };
  const warnings = () => records.filter((r) => (r.level as number) >= 40);
  return {
    playback,
    capture,
    run,
    records,
    warnings,
    plugIn: () => {
      cardPresent = true;
    },
  };
}

test('without a sound card: one warning per device in 30 s, saying what to do', async (t) => {
  const r = rig();
  await Promise.all([r.playback.start(), r.capture.start()]);
  await settle();
  await r.run(30_000);
  const warnings = r.warnings();
  t.is(warnings.length, 2, JSON.stringify(warnings, null, 1));
  const byDevice = (key: string) => warnings.find((w) => key in w);
  t.regex(String(byDevice('playback')?.hint), /babel-device --list-audio/);
  t.regex(String(byDevice('playback')?.hint), /playback: null/);
  t.regex(String(byDevice('capture')?.hint), /capture: silence/);
  t.regex(JSON.stringify(byDevice('playback')?.err), /audio open error/);
  // It kept trying all along: quietly, at debug.
  t.is(r.playback.state, 'waiting');
  await Promise.all([r.playback.stop(), r.capture.stop()]);
});

test('a summary at a slow interval while it stays away, and one line when it is back', async (t) => {
  const r = rig();
  await Promise.all([r.playback.start(), r.capture.start()]);
  await settle();
  await r.run(16 * 60_000);
  const warnings = r.warnings();
  const summaries = warnings.filter((w) => w.msg === 'audio device still unavailable');
  // Every 5 minutes per device: 3 each in 16 minutes, after the first warning.
  t.is(summaries.length, 6, JSON.stringify(summaries, null, 1));
  t.is(warnings.length, 8);
  for (const s of summaries) t.true((s.failedAttempts as number) > 20);
  r.plugIn();
  await r.run(30_000);
  const back = r.records.filter((l) => l.msg === 'audio device back');
  t.is(back.length, 2);
  t.is(r.warnings().length, 8, 'nothing more to warn about');
  const stopped = Promise.all([r.playback.stop(), r.capture.stop()]);
  await r.run(5_000); // the fake children do not drain by themselves: let stop() time them out
  await stopped;
});
