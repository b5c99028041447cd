/**
 * [S-4, M-4] A call between a TLS client and a plaintext client of the seed protocol, in
 * process with the hub's real relay on loopback UDP: the TLS client speaks SRTP with the
 * keys of its `106`, the plaintext one plain RTP to the address of its own `106`, and the
 * relay translates both ways.
 */
import type dgram from 'node:dgram';
import test from 'ava';
import { SrtpReceiver, SrtpSender } from '../../../protocol/srtp/index.ts';
import { startHubInProcess } from '../../helpers/in-process-hub.ts';
import { connectedClient } from '../../helpers/text-client.ts';
import { SECURE_106 } from '../../helpers/transcript.ts';
import { rtp, udp } from '../relay/udp.ts';

/** Sends `packet()` from `from` to `port` every 20 ms until `to` receives a datagram. */
async function through(
  from: dgram.Socket,
  port: number,
  packet: () => Buffer,
  to: dgram.Socket,
  ms = 5000,
): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const tick = setInterval(() => from.send(packet(), port, '127.0.0.1'), 20);
    const timer = setTimeout(() => finish(null), ms);
    const finish = (msg: Buffer | null) => {
      clearInterval(tick);
      clearTimeout(timer);
      to.off('message', onMessage);
      resolve(msg);
    };
    const onMessage = (msg: Buffer) => finish(msg);
    to.on('message', onMessage);
    from.send(packet(), port, '127.0.0.1');
  });
}

test('[S-4] TLS client and plaintext seed client: SRTP on one leg, RTP on the other, both ways', async (t) => {
  const h = await startHubInProcess();
  const aliceUdp = await udp();
  const bobUdp = await udp();
  const alice = await connectedClient(h.hub.textTls, 'alice', aliceUdp.address().port);
  const bob = await connectedClient(h.hub.text, 'bob', bobUdp.address().port);
  t.teardown(async () => {
    alice.close();
    bob.close();
    aliceUdp.close();
    bobUdp.close();
    await h.stop();
  });
  t.is(await alice.request('CALL bob'), '104 bob');
  t.is(await bob.next(), '105 alice');
  const atBob = /^106 alice (\S+) (\d+)$/.exec((await bob.request('ACCEPT alice')) ?? '');
  const atAlice = SECURE_106.exec((await alice.next()) ?? '');
  if (!atBob || !atAlice) return t.fail('106 lines');
  const [, , alicePortText] = /^106 bob (\S+) (\d+)$/.exec(atAlice[1]!) ?? [];
  const alicePort = Number(alicePortText);
  const bobPort = Number(atBob[2]);
  t.not(alicePort, bobPort);
  const tx = new SrtpSender(atAlice[2]!);
  const rx = new SrtpReceiver(atAlice[3]!);

  // Alice -> Bob: SRTP in, plain RTP out.
  let seq = 0;
  const fromAlice = await through(aliceUdp, alicePort, () => tx.protect(rtp(++seq)), bobUdp);
  if (!fromAlice) return t.fail('nothing reached bob');
  t.deepEqual(fromAlice, rtp(fromAlice.readUInt16BE(2)), 'bob gets plain RTP');

  // Bob -> Alice: plain RTP in, SRTP out that alice's recv key opens.
  let back = 100;
  const fromBob = await through(bobUdp, bobPort, () => rtp(++back, 0x55667788), aliceUdp);
  if (!fromBob) return t.fail('nothing reached alice');
  t.notDeepEqual(fromBob, rtp(fromBob.readUInt16BE(2), 0x55667788), 'alice does not get plain RTP');
  const opened = rx.unprotect(fromBob);
  if (typeof opened === 'string') return t.fail(`alice could not open it: ${opened}`);
  t.deepEqual(opened, rtp(opened.readUInt16BE(2), 0x55667788), "alice decrypts bob's RTP");
});
