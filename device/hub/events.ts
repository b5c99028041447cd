/**
 * What a line from the hub means to a device: the one place on the device side that reads
 * reply codes (`Text.*`, protocol/codes.ts). The hub client handles the registration
 * events itself and passes the call events to the call machine; neither looks at a code.
 */
import net from 'node:net';
import { Text } from '../../protocol/codes.ts';
import { NAME_PATTERN } from '../../protocol/names.ts';
import { parseMasterKey, SRTP_SUITE, SrtpKeyError } from '../../protocol/srtp/index.ts';
import type { TextReply } from '../../protocol/text/codec.ts';
import { plainIp } from '../../shared/address.ts';

/** A line from the hub, by meaning [T-3]; the table under T-5 says which request gets which. */
export type HubEvent =
  /** `101 <uuid> <name>`: registered. */
  | { readonly kind: 'connected'; readonly uuid: string }
  /** `401 <name> <reason>`: CONNECT refused (`unknown`, `bad_secret`, `invalid`...). */
  | { readonly kind: 'not_connected'; readonly name: string; readonly reason: string }
  /** `108 <name>`: NEW accepted. */
  | { readonly kind: 'created'; readonly name: string }
  /** `408 <name> <reason>`: NEW refused (`exists`, `forbidden`...). */
  | { readonly kind: 'create_refused'; readonly name: string; readonly reason: string }
  /** `109 [<token>]`: the answer to PING. */
  | { readonly kind: 'pong' }
  /** `104 <target>`: our CALL rings there. */
  | { readonly kind: 'calling'; readonly target: string }
  /** `105 <caller>`: a call rings here. */
  | { readonly kind: 'ringing'; readonly caller: string }
  /**
   * `106 <peer> <ip> <port> [AES_CM_128_HMAC_SHA1_80 <send> <recv>]`: the call is up;
   * media to and from there [T-9], in SRTP with those keys when they are given [S-4].
   */
  | {
      readonly kind: 'media';
      readonly peer: string;
      readonly ip: string;
      readonly port: number;
      readonly srtp: SrtpKeys | null;
    }
  /**
   * `111 <caller> <ip> <port> [AES_CM_128_HMAC_SHA1_80 <send> <recv>]` (extension): a page
   * [G-2] to play at once, one-way from there (the hub's relay), in SRTP with those keys
   * when they are given [S-4].
   */
  | {
      readonly kind: 'paged';
      readonly caller: string;
      readonly ip: string;
      readonly port: number;
      readonly srtp: SrtpKeys | null;
    }
  /**
   * A `106` (or `111`) for `peer` whose address cannot be used: not an IPv4 literal (never resolved:
   * a name would cost a DNS lookup per packet), or a port outside 1-65535. The call with
   * that peer is hung up.
   */
  | { readonly kind: 'bad_media'; readonly peer: string; readonly reason: string }
  /** `107 <peer> <reason>`: the call is over [T-10]. */
  | { readonly kind: 'ended'; readonly peer: string; readonly reason: string }
  /** `404 <name> <reason>`: CALL, ACCEPT, HANGUP or CALLED refused. */
  | { readonly kind: 'call_refused'; readonly name: string; readonly reason: string };

/**
 * [S-4] A call leg's SRTP master keys, each the base64 of 16 key + 14 salt bytes (SDES
 * `inline:`): `send` protects what this device sends, `recv` what it receives. Secret:
 * never logged.
 */
export interface SrtpKeys {
  readonly suite: typeof SRTP_SUITE;
  readonly send: string;
  readonly recv: string;
}

/** The events the call machine takes (the rest concern the link itself). */
export type CallEvent = Extract<
  HubEvent,
  { kind: 'calling' | 'ringing' | 'media' | 'paged' | 'bad_media' | 'ended' | 'call_refused' }
>;

/** Whether an event is for the call machine. */
export function isCallEvent(e: HubEvent): e is CallEvent {
  return (
    e.kind === 'calling' ||
    e.kind === 'ringing' ||
    e.kind === 'media' ||
    e.kind === 'paged' ||
    e.kind === 'bad_media' ||
    e.kind === 'ended' ||
    e.kind === 'call_refused'
  );
}

/**
 * The meaning of a parsed line, or `null` for a code a device never gets or a line whose
 * arguments do not fit its code (a missing or malformed name, a port that is not a
 * number). Input from the hub is input too: a peer's name must be a valid name [T-4]
 * (it goes back to the hub in `ACCEPT` and `HANGUP`), and a reason a short word (it is
 * only told), so a hub cannot make a device echo or log whatever it likes.
 */
export function hubEvent(reply: TextReply): HubEvent | null {
  const [a = '', b = '', c = ''] = reply.args;
  const name = NAME_PATTERN.test(a);
  switch (reply.code) {
    case Text.CONNECTED:
      return a && a.length <= 64 ? { kind: 'connected', uuid: a } : null;
    case Text.NOT_CONNECTED:
      return { kind: 'not_connected', name: a, reason: word(b) };
    case Text.CREATED:
      return { kind: 'created', name: a };
    case Text.CREATE_REFUSED:
      return { kind: 'create_refused', name: a, reason: word(b) };
    case Text.PONG:
      return { kind: 'pong' };
    case Text.CALLING:
      return name ? { kind: 'calling', target: a } : null;
    case Text.RINGING:
      return name ? { kind: 'ringing', caller: a } : null;
    case Text.MEDIA:
    case Text.PAGED: {
      if (!name) return null;
      const bad = mediaAddressProblem(b, c) ?? srtpProblem(reply.args.slice(3));
      if (bad) return { kind: 'bad_media', peer: a, reason: bad };
      const [suite, send, recv] = reply.args.slice(3);
      const srtp: SrtpKeys | null =
        suite === SRTP_SUITE ? { suite: SRTP_SUITE, send: send!, recv: recv! } : null;
      const at = { ip: plainIp(b), port: Number(c), srtp };
      return reply.code === Text.MEDIA
        ? { kind: 'media', peer: a, ...at }
        : { kind: 'paged', caller: a, ...at };
    }
    case Text.ENDED:
      return name ? { kind: 'ended', peer: a, reason: word(b) } : null;
    case Text.CALL_REFUSED:
      return name ? { kind: 'call_refused', name: a, reason: word(b) } : null;
    default:
      return null;
  }
}

/**
 * Why `<ip> <port>` of a `106` cannot be used, or null when it can [T-9]. Input from the
 * hub is input too: the media socket is IPv4 (`udp4`), so the address must be an IPv4
 * literal (an IPv4-mapped IPv6 one is taken as its IPv4); a host name is refused, never
 * looked up. The port is 1-65535 in plain decimal digits.
 */
export function mediaAddressProblem(ip: string, port: string): string | null {
  if (!ip) return 'no address';
  if (!net.isIPv4(plainIp(ip))) return 'address is not an IPv4 literal';
  if (!/^\d{1,5}$/.test(port)) return 'port is not a number';
  const n = Number(port);
  if (n < 1 || n > 65535) return 'port out of range 1-65535';
  return null;
}

/**
 * Why the arguments after `<port>` of a `106` cannot be used, or null when they can
 * [S-4]: none (plain RTP), or the suite and two keys, each exactly the base64 of 30
 * bytes. The words never echo a key.
 */
export function srtpProblem(extra: readonly string[]): string | null {
  if (extra.length === 0) return null;
  if (extra[0] !== SRTP_SUITE) return 'unsupported SRTP suite';
  if (extra.length !== 3) return 'SRTP keys missing or extra arguments';
  for (const key of extra.slice(1)) if (!isMasterKey(key)) return 'bad SRTP key';
  if (extra[1] === extra[2]) return 'the same SRTP key both ways';
  return null;
}

/** Base64 of exactly 30 bytes (16-byte key, 14-byte salt): 40 characters, no padding. */
function isMasterKey(b64: string): boolean {
  try {
    parseMasterKey(b64);
    return true;
  } catch (err) {
    if (err instanceof SrtpKeyError) return false;
    throw err;
  }
}

/** A reason as the hub words them (`declined`, `bad_secret`): else `invalid`, never echoed. */
function word(reason: string): string {
  if (reason === '') return '';
  return /^[a-z0-9_]{1,32}$/.test(reason) ? reason : 'invalid';
}
