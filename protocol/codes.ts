/**
 * Every reply code and status of both dialects, with what it means, in one table read by
 * the hub's adapters and the device's client and call machine (as mqtt-packet's
 * constants.js serves its parser and generator).
 */

/** Text dialect replies and events [T-3]; the table under T-5 says which request gets which. */
export const Text = {
  /** `101 <uuid> <name>`: CONNECT accepted, the session is registered. */
  CONNECTED: 101,
  /** `102`: OUT accepted; the hub closes the connection. */
  BYE: 102,
  /** `103 <name>:<state> ...`: the USERS list [T-7]. */
  USERS: 103,
  /** `104 <target>`: CALL accepted, the target is ringing. */
  CALLING: 104,
  /** `105 <caller>`: a call rings here (event, or the answer to CALLED). */
  RINGING: 105,
  /** `106 <peer> <ip> <port>`: the call is up; media goes to and comes from there [T-9]. */
  MEDIA: 106,
  /** `107 <peer> <reason>`: the call is over [T-10]. */
  ENDED: 107,
  /** `108 <name>`: NEW accepted, the user exists. */
  CREATED: 108,
  /** `109 [<token>]`: the answer to PING (extension). */
  PONG: 109,
  /** `110 on|off`: the answer to DND (extension): while on, calls here fail `busy`. */
  DND: 110,
  /**
   * `111 <caller> <ip> <port> [<suite> <send> <recv>]`: a page [G-2] plays here at once,
   * one-way from the hub's relay (extension); S-4 keys on TLS legs.
   */
  PAGED: 111,
  /** `400 <reason> ...`: a request the hub cannot parse [T-1, T-2]. */
  BAD_REQUEST: 400,
  /** `401 <name> <reason>`: CONNECT refused, or a request before CONNECT [T-5]. */
  NOT_CONNECTED: 401,
  /** `404 <name> <reason>`: CALL, ACCEPT, HANGUP or CALLED refused. */
  CALL_REFUSED: 404,
  /** `408 <name> <reason>`: NEW refused. */
  CREATE_REFUSED: 408,
  /** `500 internal_error`: the hub failed; the request may be retried. */
  INTERNAL_ERROR: 500,
} as const;

/** Binary dialect response statuses [B-2, B-7]. */
export const Status = {
  /** An event pushed by the hub, not a response (extension) [B-7]. */
  EVENT: 100,
  OK: 200,
  CREATED: 201,
  /** A frame or route the hub cannot parse [B-3]. */
  BAD_REQUEST: 400,
  /** Wrong credentials, or a missing or stale token [B-9]. */
  UNAUTHORIZED: 401,
  /** A refused operation; `error` says why. */
  FORBIDDEN: 403,
  /** No such route or call. */
  NOT_FOUND: 404,
  /** The hub failed (`error: internal_error`). */
  INTERNAL_ERROR: 500,
} as const;

/** `107` / `call_ended` reasons [T-10]. */
export const EndReason = {
  DECLINED: 'declined',
  CANCELLED: 'cancelled',
  ENDED: 'ended',
  TIMEOUT: 'timeout',
  DISCONNECTED: 'disconnected',
  /** [G-1] another member of the ringing group accepted first (extension). */
  ANSWERED_ELSEWHERE: 'answered_elsewhere',
} as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];

/** [T-7] A user's state as others see it: `103 <name>:<state>`, and on MQTT. */
export type UserState = 'idle' | 'calling' | 'ringing' | 'in_call' | 'offline';
