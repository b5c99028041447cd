import type { Logger } from 'pino';
import type { Fields } from '../../protocol/binary/fields.ts';
import { Status } from '../../protocol/codes.ts';
import type { HubContext } from '../context.ts';
import type { Session } from '../core/call-core.ts';
import type { UserRecord } from '../store/accounts.ts';
import type { ChannelEnd } from './channels.ts';

/**
 * What a route handler sees of its connection: the hub's parts, the request's user and
 * session, the call channel [B-8], and the way to answer. The connection implements it.
 */
export interface RouteScope {
  readonly ctx: HubContext;
  readonly log: Logger;
  /** True once the connection is closing: nothing more will be answered. */
  readonly closing: boolean;
  /** [B-9] The user named by the header's `id` and `token`, or 401. */
  auth(h: Fields): UserRecord;
  /** A user by e-mail, or (extension) by name for accounts made without one. */
  findByMail(mail: string): UserRecord | undefined;
  /** Makes this connection `user`'s live session [T-8], then calls `reply` [T-11]. */
  bind(user: UserRecord, port: number, reply: () => void): void;
  /** The user's live session, binding this connection if the user has none. */
  sessionFor(user: UserRecord): Session;
  /** Ends `userId`'s live session, on this connection or another. */
  endSessionOf(userId: string): void;
  /** [B-8] The call this connection is a channel for, once `/connect_call` made it one. */
  readonly channel: { readonly callId: string; readonly user: UserRecord } | null;
  /** [B-8] Makes this connection `user`'s channel for `callId`. */
  joinChannel(callId: string, user: UserRecord): void;
  /** [B-8] The other party's channel for this connection's call, if it connected one. */
  channelPeer(): ChannelEnd | undefined;
  /** Writes a response frame: `fields`, or `raw` data (records) when `fields` is null. */
  respond(status: number, fields: Fields | null, raw?: string): void;
}

export type Route = (scope: RouteScope, header: Fields, data: Fields) => Promise<void> | void;

/** A refusal the route handlers raise; turned into a response frame in one place. */
export class Refusal extends Error {
  readonly status: number;
  readonly error: string | null;

  constructor(status: number, error: string | null = null) {
    super(`${status} ${error ?? ''}`);
    this.status = status;
    this.error = error;
  }
}

export const unauthorized = () => new Refusal(Status.UNAUTHORIZED);

/**
 * A required data field; absent or empty is `403 missing_<key>`, `404` for `call_id`
 * (decision, docs/protocol.md: those routes fail only with 401 or 404).
 */
export function required(d: Fields, key: string, status: number = Status.FORBIDDEN): string {
  const v = d[key];
  if (v === undefined || v === '') throw new Refusal(status, `missing_${key}`);
  return v;
}

/** Extension: `/create` and `/login` may declare a UDP media port; absent means relay [T-9]. */
export function mediaPort(d: Fields): number {
  if (d.media_port === undefined) return 0;
  const n = positiveInt(d.media_port, 65535);
  if (n === null) throw new Refusal(Status.BAD_REQUEST, 'bad_media_port');
  return n;
}

export function positiveInt(s: string, max: number): number | null {
  if (!/^\d{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= max ? n : null;
}
