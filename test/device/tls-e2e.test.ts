/**
 * [S-3, S-4] End to end through the real hub (a `babel-hub` process): a TLS device
 * (`tls://` to the hub's TLS port, pinned with what `babel-hub fingerprint` prints) calls a
 * plaintext client of the seed protocol on the loopback plaintext port, and the other way
 * round. The hub relays and translates between the device's SRTP leg and the client's
 * plain RTP leg; each side hears the other's tone.
 */

import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { decodeWav } from '../../device/audio/wav.ts';
import { dominantFrequency, rms } from '../../device/media/tone.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { runHubCli, spawnHubProcess, tempDir } from '../helpers/hub.ts';
import { pace, session, toneFrame, toneOf } from '../helpers/media-session.ts';
import { TextClient } from '../helpers/text-client.ts';

/** Dominant frequency of each loud 200 ms window of a WAV written by `file:` playback. */
function tones(file: string): number[] {
  const pcm = decodeWav(fs.readFileSync(file));
  const win = 48000 * 2 * 0.2;
  const out: number[] = [];
  for (let o = 0; o + win <= pcm.length; o += win) {
    const w = pcm.subarray(o, o + win);
    if (rms(w) > 300) out.push(dominantFrequency(w, 48000));
  }
  return out;
}
const near = (hz: number, target: number) => Math.abs(hz - target) <= 3;

/** `106 <peer> <ip> <port>` -> where to send. */
function mediaOf(line: string | null): { ip: string; port: number } {
  const m = /^106 \S+ (\S+) (\d+)$/.exec(line ?? '');
  if (!m) throw new Error(`not a plain 106: ${line}`);
  return { ip: m[1]!, port: Number(m[2]) };
}

for (const caller of ['device', 'client'] as const) {
  test.serial(
    `[S-4] a TLS device and a plaintext seed client, ${caller} calling: audio both ways through the relay`,
    async (t) => {
      t.timeout(90_000);
      const dataDir = tempDir();
      const dir = tempDir();
      const hub = await spawnHubProcess(['--text-port', '0'], dataDir);
      const fp = await runHubCli(['fingerprint', '--data-dir', dataDir]);
      const fingerprint = fp.stdout.trim();
      t.regex(fingerprint, /^sha256:[0-9a-f]{64}$/);
      const wav = path.join(dir, 'door.wav');
      const door = new DeviceProcess('door', [
        ...['--hub', `tls://127.0.0.1:${hub.textTlsPort}`, '--hub-fingerprint', fingerprint],
        ...['--media-port', '0', '--capture', 'tone:440', '--playback', `file:${wav}`],
        ...['--button', 'stdin', '--target', 'kitchen', '--auto-answer'],
      ]);
      // The seed's client: plaintext on loopback, its own UDP port, plain RTP.
      const media = await session();
      const kitchen = await TextClient.connect(hub.textPort);
      try {
        t.is(await kitchen.request('NEW kitchen'), '108 kitchen');
        t.regex((await kitchen.request(`CONNECT kitchen ${media.port}`)) ?? '', /^101 /);
        await door.waitFor(/connected to the hub as door/, 20_000);
        let remote: { ip: string; port: number };
        if (caller === 'device') {
          door.press();
          t.is(await kitchen.next(5000), '105 door');
          remote = mediaOf(await kitchen.request('ACCEPT door', 5000));
        } else {
          t.is(await kitchen.request('CALL door'), '104 door');
          remote = mediaOf(await kitchen.next(10_000)); // the device answers by itself
        }
        await door.waitFor(/talking with kitchen/);
        media.s.start(remote);
        const start = fs.existsSync(wav) ? fs.statSync(wav).size : 0;
        // Talk until the client has decoded 2 s of the device and the device has played
        // 2 s since the call began, however slowly a busy machine goes (at most 60 s).
        const heardEnough = () =>
          media.played.filter((p) => p.kind === 'frame').length >= 100 &&
          fs.statSync(wav).size >= start + 48000 * 2 * 2;
        await pace(3000, (k) => media.s.sendFrame(toneFrame(1000, k)), heardEnough);
        t.true(heardEnough(), 'both sides played 2 s of the call');
        t.is(toneOf(media.played), 440, 'the client hears the device');
        door.press();
        await door.waitFor(/hung up on kitchen/);
        t.is(await kitchen.next(5000), '107 door ended');
      } finally {
        media.s.stop();
        await media.s.close();
        kitchen.close();
        t.is(await door.stop(), 0);
        await hub.kill('SIGTERM');
      }
      // Read once the speaker file is closed.
      const heard = tones(wav);
      t.true(heard.filter((f) => near(f, 1000)).length >= 4, `the device heard ${heard}`);
      // Its leg was SRTP [S-4]: every packet authenticated, none was dropped.
      const leg = door.logs.find((r) => r.msg === 'call media')?.stats as
        | Record<string, number | boolean>
        | undefined;
      t.like(leg, { srtp: true, srtpAuthFailed: 0, srtpReplayed: 0 });
      t.true(Number(leg?.received) >= 100, JSON.stringify(leg));
    },
  );
}
