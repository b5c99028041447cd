import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { dominantFrequency } from '../../../device/media/tone.ts';
import { newMasterKey } from '../../../protocol/srtp/index.ts';
import { LOCAL, pace, RATE, session, sleep, toneFrame } from '../../helpers/media-session.ts';

/** A free even UDP port with the next one free too (RTP and RTCP). */
async function freeRtpPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const s = dgram.createSocket('udp4');
    s.bind(0, LOCAL);
    await once(s, 'listening');
    const port = s.address().port & ~1;
    s.close();
    if (await portsFree(port, port + 1)) return port;
  }
  throw new Error('no free RTP port pair');
}

/** True when every port can be bound on 127.0.0.1 now. */
async function portsFree(...ports: number[]): Promise<boolean> {
  const results = await Promise.all(
    ports.map(
      (port) =>
        new Promise<boolean>((resolve) => {
          const s = dgram.createSocket('udp4');
          s.once('error', () => {
            s.close();
            resolve(false);
          });
          s.bind(port, LOCAL, () => s.close(() => resolve(true)));
        }),
    ),
  );
  return results.every(Boolean);
}

/**
 * ffmpeg plays a session's stream from the SDP of M-3 (plus, with SRTP, the `a=crypto`
 * line of S-4 carrying the key the session sends with) and must hear 1 kHz.
 */
async function ffmpegHears(t: ExecutionContext, srtp: { send: string; recv: string } | null) {
  t.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-ffmpeg-'));
  const port = await freeRtpPort();
  const sdp = path.join(dir, 'stream.sdp');
  const out = path.join(dir, 'out.raw');
  fs.writeFileSync(
    sdp,
    [
      'v=0',
      `o=- 0 0 IN IP4 ${LOCAL}`,
      's=babel',
      `c=IN IP4 ${LOCAL}`,
      't=0 0',
      `m=audio ${port} RTP/AVP 111`, // [M-3]
      'a=rtpmap:111 opus/48000/2',
      ...(srtp ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${srtp.send}`] : []), // [S-4]
      '',
    ].join('\r\n'),
  );
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...['-protocol_whitelist', 'file,udp,rtp,srtp', '-i', sdp],
    // The SDP says stereo: ask for mono s16le at 48 kHz.
    ...['-t', '2', '-f', 's16le', '-ar', '48000', '-ac', '1', '-y', out],
  ];
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = once(ffmpeg, 'exit');
  const a = await session();
  try {
    // Lead time: wait until ffmpeg holds the port, then stream until it has its 2 s.
    const bound = await (async () => {
      for (const end = performance.now() + 10_000; performance.now() < end; await sleep(50)) {
        if (!(await portsFree(port))) return true;
      }
      return false;
    })();
    t.true(bound, 'ffmpeg bound the RTP port');
    a.s.start({ ip: LOCAL, port }, srtp);
    await pace(
      400,
      (k) => a.s.sendFrame(toneFrame(1000, k)),
      () => ffmpeg.exitCode !== null,
    );
    const timeout = sleep(10_000).then(() => 'timeout');
    t.not(await Promise.race([exited.then(() => 'exited'), timeout]), 'timeout', stderr);
    t.is(ffmpeg.exitCode, 0, stderr);
    const pcm = fs.readFileSync(out);
    t.true(pcm.length >= 1.5 * RATE * 2, `${pcm.length} bytes decoded`);
    t.is(dominantFrequency(pcm, RATE), 1000);
  } finally {
    if (ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    await a.s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test.serial('[M-3] interop: ffmpeg plays our stream from the SDP and hears 1 kHz', (t) =>
  ffmpegHears(t, null),
);

test.serial(
  '[S-4] interop: ffmpeg plays our SRTP stream from the SDP with a=crypto and hears 1 kHz',
  (t) => ffmpegHears(t, { send: newMasterKey(), recv: newMasterKey() }),
);
