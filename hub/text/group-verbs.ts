/**
 * The text dialect's section G verbs (extensions): `CALL <group>` [G-1], `PAGE <group>`
 * [G-2] and `RELAY <peer>` [G-3]. The connection resolves names and hands them over here.
 */
import { Text } from '../../protocol/codes.ts';
import { normalizeName } from '../../protocol/names.ts';
import type { HubContext } from '../context.ts';
import { CallError, type Session } from '../core/call-core.ts';
import type { Endpoint, SrtpKeys } from '../core/types.ts';
import type { GroupRecord } from '../store/groups.ts';

/** What the verbs use of their connection. */
export interface TextScope {
  readonly ctx: HubContext;
  readonly session: Session;
  send(code: number, ...args: Array<string | number>): void;
  /** `<code> <name> <ip> <port>`, plus the suite and keys on a TLS leg [S-4]; keys never logged. */
  media(code: number, name: string, media: Endpoint, srtp: SrtpKeys | null): void;
}

/** [G-1] `CALL <group>`: `104 <group>`, each reachable member rings (`105 <caller>`). */
export async function callGroup(scope: TextScope, group: GroupRecord): Promise<void> {
  try {
    await scope.ctx.core.callGroup(scope.session, group, () =>
      scope.send(Text.CALLING, group.name),
    );
  } catch (err) {
    if (err instanceof CallError) return scope.send(Text.CALL_REFUSED, group.name, err.reason);
    throw err;
  }
}

/**
 * [G-2] `PAGE <group>`: `104 <group>`, then `106 <group> <ip> <port> [keys]` (where to
 * send the one stream: the relay), then `111 <caller> <ip> <port> [keys]` to each member.
 * A name that is no group is `404 <name> unknown`.
 */
export async function pageGroup(scope: TextScope, rawName: string, echo: string): Promise<void> {
  const name = normalizeName(rawName);
  const group = name ? scope.ctx.accounts.groups.get(name) : undefined;
  if (!group) return scope.send(Text.CALL_REFUSED, name ?? echo, 'unknown');
  try {
    await scope.ctx.core.page(scope.session, group, (_call, media, srtp) => {
      scope.send(Text.CALLING, group.name);
      scope.media(Text.MEDIA, group.name, media, srtp);
    });
  } catch (err) {
    if (err instanceof CallError) return scope.send(Text.CALL_REFUSED, group.name, err.reason);
    throw err;
  }
}

/**
 * [G-3] `RELAY <peer>`: the direct call moves to the relay; `106 <peer> <relay ip> <port>
 * [keys]` to the sender, then a new `106` to the peer. Not in a call with `<peer>`:
 * `404 <peer> no_call`; no relay port: `404 <peer> busy` (the call goes on as it was).
 */
export async function relayCall(scope: TextScope, rawPeer: string, echo: string): Promise<void> {
  const peerName = normalizeName(rawPeer) ?? echo;
  try {
    await scope.ctx.core.relayCall(scope.session, { peer: peerName }, (_c, peer, media, srtp) =>
      scope.media(Text.MEDIA, peer.name, media, srtp),
    );
  } catch (err) {
    if (err instanceof CallError) {
      return scope.send(Text.CALL_REFUSED, peerName, err.reason === 'busy' ? 'busy' : 'no_call');
    }
    throw err;
  }
}
