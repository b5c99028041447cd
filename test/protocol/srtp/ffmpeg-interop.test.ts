/**
 * Interop with a second SRTP implementation [S-4]: ffmpeg (libavformat's srtp, Debian's
 * package, installed by `scripts/setup.sh --test`). ffmpeg protects an Opus stream that our
 * receiver must authenticate and decrypt; and ffmpeg plays our protected stream from an
 * SDP with `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<key>`. Both hear a 1 kHz tone.
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { OpusCodec } from '../../../device/media/opus.ts';
import { dominantFrequency } from '../../../device/media/tone.ts';
import { newMasterKey, SrtpReceiver, SrtpSender } from '../../../protocol/srtp/index.ts';
import { LOCAL, pace, RATE, sleep, toneFrame } from '../../helpers/media-session.ts';

const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
const ffmpegTest = hasFfmpeg ? test.serial : test.serial.skip;
if (!hasFfmpeg) {
  console.log(
    'ffmpeg not found: SRTP interop tests skipped (bash scripts/setup.sh --test installs it)',
  );
}

/** RTCP packet types 200..204, which ffmpeg may send beside RTP (RFC 5761 §4). */
const isRtcp = (b: Buffer) => b.length > 1 && b[1]! >= 200 && b[1]! <= 204;

/** A free even UDP port whose odd neighbour is free too (RTP and RTCP). */
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

function run(args: string[]) {
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return { child, exited: once(child, 'exit'), stderr: () => stderr };
}

ffmpegTest('[S-4] interop: our receiver decrypts what ffmpeg protects', async (t) => {
  t.timeout(30_000);
  const key = newMasterKey();
  const rx = new SrtpReceiver(key);
  const codec = new OpusCodec();
  const sock = dgram.createSocket('udp4');
  sock.bind(0, LOCAL);
  await once(sock, 'listening');
  const pcm: Buffer[] = [];
  let rtcp = 0;
  let wrongPt = 0;
  sock.on('message', (msg) => {
    if (isRtcp(msg)) {
      rtcp++;
      return;
    }
    const rtp = rx.unprotect(msg);
    if (!Buffer.isBuffer(rtp)) return;
    if ((rtp[1]! & 0x7f) !== 111) wrongPt++;
    pcm.push(codec.decode(rtp.subarray(12)));
  });
  const ff = run([
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:duration=2'],
    ...['-c:a', 'libopus', '-ac', '1', '-b:a', '32k', '-frame_duration', '20'],
    ...['-payload_type', '111', '-f', 'rtp'],
    ...['-srtp_out_suite', 'AES_CM_128_HMAC_SHA1_80', '-srtp_out_params', key],
    `srtp://${LOCAL}:${sock.address().port}`,
  ]);
  try {
    await ff.exited;
    t.is(ff.child.exitCode, 0, ff.stderr());
    // ffmpeg sends as fast as it encodes; let the last datagrams land.
    for (let i = 0; i < 100 && rx.stats.ok < 100; i++) await sleep(20);
    t.true(rx.stats.ok >= 95, `${rx.stats.ok} packets authenticated`);
    t.deepEqual(
      { auth: rx.stats.auth, replay: rx.stats.replay, malformed: rx.stats.malformed },
      { auth: 0, replay: 0, malformed: 0 },
    );
    t.is(wrongPt, 0);
    t.log(`${rx.stats.ok} SRTP packets from ffmpeg, ${rtcp} RTCP`);
    t.is(dominantFrequency(Buffer.concat(pcm.slice(10, 60)), RATE), 1000);
  } finally {
    if (ff.child.exitCode === null) ff.child.kill('SIGKILL');
    sock.close();
  }
});

ffmpegTest('[S-4] interop: ffmpeg plays our SRTP stream from an SDP with a=crypto', async (t) => {
  t.timeout(30_000);
  const key = newMasterKey();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-srtp-'));
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
      `m=audio ${port} RTP/SAVP 111`,
      'a=rtpmap:111 opus/48000/2',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`, // [S-4]
      '',
    ].join('\r\n'),
  );
  const ff = run([
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...['-protocol_whitelist', 'file,udp,rtp,srtp', '-i', sdp],
    ...['-t', '2', '-f', 's16le', '-ar', '48000', '-ac', '1', '-y', out],
  ]);
  const sock = dgram.createSocket('udp4');
  sock.bind(0, LOCAL);
  await once(sock, 'listening');
  const tx = new SrtpSender(key);
  const codec = new OpusCodec();
  const ssrc = 0x5eed1234;
  const seq0 = 65500; // the stream wraps past 65,535 (ROC 1) while ffmpeg listens
  try {
    const bound = await (async () => {
      for (const end = performance.now() + 10_000; performance.now() < end; await sleep(50)) {
        if (!(await portsFree(port))) return true;
      }
      return false;
    })();
    t.true(bound, 'ffmpeg bound the RTP port');
    await pace(
      400,
      (k) => {
        const header = Buffer.alloc(12);
        header[0] = 0x80;
        header[1] = 111;
        header.writeUInt16BE((seq0 + k) & 0xffff, 2);
        header.writeUInt32BE((k * 960) >>> 0, 4);
        header.writeUInt32BE(ssrc, 8);
        const rtp = Buffer.concat([header, codec.encode(toneFrame(1000, k))]);
        sock.send(tx.protect(rtp), port, LOCAL);
      },
      () => ff.child.exitCode !== null,
    );
    const timeout = sleep(10_000).then(() => 'timeout');
    t.not(await Promise.race([ff.exited.then(() => 'exited'), timeout]), 'timeout', ff.stderr());
    t.is(ff.child.exitCode, 0, ff.stderr());
    const pcm = fs.readFileSync(out);
    t.true(pcm.length >= 1.5 * RATE * 2, `${pcm.length} bytes decoded`);
    t.is(dominantFrequency(pcm, RATE), 1000);
  } finally {
    if (ff.child.exitCode === null) ff.child.kill('SIGKILL');
    sock.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
