import type { Fields } from '../../protocol/binary/fields.ts';
import { Status } from '../../protocol/codes.ts';
import { CallError } from '../core/call-core.ts';
import { callGroup } from './group-routes.ts';
import { positiveInt, Refusal, type Route, type RouteScope, required } from './route.ts';

/** [B-8] Largest `/send` batch, in packets. */
const MAX_PACKETS = 1000;

/** Calls [B-7] and call channels [B-8]. */
export const callRoutes: Record<string, Route> = {
  '/call': call,
  '/accept': accept,
  '/hangup': hangup,
  '/connect_call': connectCall,
  '/send': send,
};

async function call(s: RouteScope, h: Fields, d: Fields): Promise<void> {
  if (d.group !== undefined && d.contact_id === undefined) return callGroup(s, h, d); // [G-1]
  const user = s.auth(h);
  const target = s.ctx.accounts.getById(required(d, 'contact_id'));
  if (!target) throw new Refusal(Status.FORBIDDEN, 'unknown');
  const session = s.sessionFor(user);
  try {
    await s.ctx.core.call(session, { id: target.id, name: target.name }, (c, media) =>
      s.respond(Status.OK, { ip: media.ip, port: String(media.port), call_id: c.id }),
    );
  } catch (err) {
    if (err instanceof CallError) throw new Refusal(Status.FORBIDDEN, err.reason);
    throw err;
  }
}

function accept(s: RouteScope, h: Fields, d: Fields): void {
  const user = s.auth(h);
  const callId = required(d, 'call_id', Status.NOT_FOUND);
  const session = s.ctx.core.sessionOf(user.id);
  if (!session) throw new Refusal(Status.NOT_FOUND, 'no_call');
  try {
    // The callee learns where to send media from its own `call_started`, after the 200.
    s.ctx.core.accept(session, { callId }, (c, peer, media, srtp) => {
      s.respond(Status.OK, {});
      session.spec.sink.callStarted(c, peer, media, srtp);
    });
  } catch (err) {
    if (err instanceof CallError) throw new Refusal(Status.NOT_FOUND, 'no_call');
    throw err;
  }
}

function hangup(s: RouteScope, h: Fields, d: Fields): void {
  const user = s.auth(h);
  const callId = required(d, 'call_id', Status.NOT_FOUND);
  const session = s.ctx.core.sessionOf(user.id);
  if (!session) throw new Refusal(Status.NOT_FOUND, 'no_call');
  try {
    s.ctx.core.hangup(session, { callId }, () => s.respond(Status.OK, {}));
  } catch (err) {
    if (err instanceof CallError) throw new Refusal(Status.NOT_FOUND, 'no_call');
    throw err;
  }
}

/** [B-8] Makes this (new) connection the caller's channel for the call's `/send`s. */
function connectCall(s: RouteScope, h: Fields, d: Fields): void {
  const user = s.auth(h);
  const callId = required(d, 'call_id', Status.NOT_FOUND);
  const session = s.ctx.core.sessionOf(user.id);
  if (!session || s.ctx.core.callOf(session)?.id !== callId)
    throw new Refusal(Status.NOT_FOUND, 'no_call');
  s.joinChannel(callId, user);
  s.respond(Status.OK, {});
}

/** [B-8] Forwards a batch of packets to the peer's call channel as a `packets` event. */
function send(s: RouteScope, h: Fields, d: Fields): void {
  const user = s.auth(h);
  const channel = s.channel;
  const session = s.ctx.core.sessionOf(user.id);
  if (!channel || channel.user.id !== user.id || !session)
    throw new Refusal(Status.FORBIDDEN, 'no_call');
  if (s.ctx.core.callOf(session)?.id !== channel.callId)
    throw new Refusal(Status.FORBIDDEN, 'no_call');
  const type = required(d, 'type');
  const count = positiveInt(required(d, 'nb_packets'), MAX_PACKETS);
  const size = positiveInt(required(d, 'size_packet'), s.ctx.limits.maxFrame);
  const packets = required(d, 'packets');
  if (count === null || size === null || decodedSize(packets) !== count * size) {
    throw new Refusal(Status.FORBIDDEN, 'bad_packets');
  }
  const peer = s.channelPeer();
  if (!peer) throw new Refusal(Status.FORBIDDEN, 'peer_unreachable');
  s.respond(Status.OK, {});
  peer.deliverPackets({ type, nb_packets: String(count), size_packet: String(size), packets });
}

/** [B-8] Bytes `packets` decodes to, or -1 unless it is canonical padded base64. */
function decodedSize(packets: string): number {
  // Buffer.from skips characters outside the alphabet; re-encoding shows they were there.
  const bytes = Buffer.from(packets, 'base64');
  return bytes.toString('base64') === packets ? bytes.length : -1;
}
