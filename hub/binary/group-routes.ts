/**
 * The binary dialect's section G routes (extensions): `/call` with `group` [G-1],
 * `/groups` (the groups, with their members), `/page` [G-2] and `/relay` [G-3].
 */
import { type Fields, formatRecords } from '../../protocol/binary/fields.ts';
import { Status } from '../../protocol/codes.ts';
import { normalizeName } from '../../protocol/names.ts';
import { SRTP_SUITE } from '../../protocol/srtp/index.ts';
import { CallError } from '../core/call-core.ts';
import type { SrtpKeys } from '../core/types.ts';
import type { GroupRecord } from '../store/groups.ts';
import { Refusal, type Route, type RouteScope, required } from './route.ts';

export const groupRoutes: Record<string, Route> = {
  '/groups': groups,
  '/page': page,
  '/relay': relay,
};

/** [S-4] The SRTP fields of a TLS session's media (an extension), none on a plain one. */
export function srtpFields(srtp: SrtpKeys | null): Fields {
  return srtp ? { srtp_suite: SRTP_SUITE, srtp_send: srtp.send, srtp_recv: srtp.recv } : {};
}

/** The group named by data field `group`, or `403 unknown`. */
function groupOf(s: RouteScope, d: Fields): GroupRecord {
  const name = normalizeName(required(d, 'group'));
  const group = name ? s.ctx.accounts.groups.get(name) : undefined;
  if (!group) throw new Refusal(Status.FORBIDDEN, 'unknown');
  return group;
}

/** `/groups`: records `name`, `members` (member names, space-separated, sorted). */
function groups(s: RouteScope, h: Fields): void {
  s.auth(h);
  const records = s.ctx.accounts.groups.list().map((g) => ({
    name: g.name,
    members: g.members.map((m) => m.name).join(' '),
  }));
  s.respond(Status.OK, null, formatRecords(records));
}

/**
 * [G-1] `/call` with `group` instead of `contact_id`: `200` with `call_id`, `group`, and
 * `port: "0"` (the media address comes with `call_started` once a member answers).
 */
export async function callGroup(s: RouteScope, h: Fields, d: Fields): Promise<void> {
  const user = s.auth(h);
  const group = groupOf(s, d);
  const session = s.sessionFor(user);
  try {
    await s.ctx.core.callGroup(session, group, (c, media) =>
      s.respond(Status.OK, {
        ip: media.ip,
        port: String(media.port),
        call_id: c.id,
        group: group.name,
      }),
    );
  } catch (err) {
    if (err instanceof CallError) throw new Refusal(Status.FORBIDDEN, err.reason);
    throw err;
  }
}

/**
 * [G-2] `/page` with `group`: `200` with `call_id`, `ip`, `port` (the relay, where the
 * caller sends its one stream) and the SRTP fields on TLS; members get `paged` events.
 * `/hangup` with the `call_id` ends it.
 */
async function page(s: RouteScope, h: Fields, d: Fields): Promise<void> {
  const user = s.auth(h);
  const group = groupOf(s, d);
  const session = s.sessionFor(user);
  try {
    await s.ctx.core.page(session, group, (c, media, srtp) =>
      s.respond(Status.OK, {
        ip: media.ip,
        port: String(media.port),
        call_id: c.id,
        group: group.name,
        ...srtpFields(srtp),
      }),
    );
  } catch (err) {
    if (err instanceof CallError) throw new Refusal(Status.FORBIDDEN, err.reason);
    throw err;
  }
}

/**
 * [G-3] `/relay` with `call_id`: `200`, then this party's `call_started` with the relay's
 * address (fresh keys on TLS), then the peer's. `404 no_call`; `403 busy` (no relay port).
 */
async function relay(s: RouteScope, h: Fields, d: Fields): Promise<void> {
  const user = s.auth(h);
  const callId = required(d, 'call_id', Status.NOT_FOUND);
  const session = s.ctx.core.sessionOf(user.id);
  if (!session) throw new Refusal(Status.NOT_FOUND, 'no_call');
  try {
    await s.ctx.core.relayCall(session, { callId }, (c, peer, media, srtp) => {
      s.respond(Status.OK, {});
      session.spec.sink.callStarted(c, peer, media, srtp);
    });
  } catch (err) {
    if (err instanceof CallError && err.reason === 'busy') {
      throw new Refusal(Status.FORBIDDEN, 'busy');
    }
    if (err instanceof CallError) throw new Refusal(Status.NOT_FOUND, 'no_call');
    throw err;
  }
}
