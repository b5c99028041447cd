import type { ExecutionContext } from 'ava';
import type { FakeClock } from '../../shared/clock.ts';
import { isSecure, type Target } from './dial.ts';
import { connectedClient, type TextClient } from './text-client.ts';

/**
 * One step of a text-dialect transcript:
 * - `[who, request, line]`: `who` sends `request`; the next line it reads is `line`;
 * - `[who, null, line]`: the next line `who` reads (an event) is `line`;
 * - `{ quiet: who, ms }`: `who` reads nothing within `ms`;
 * - `{ close: who }`: `who`'s connection is lost;
 * - `{ advance: ms }`: the hub's clock moves on (ring and idle timeouts fire).
 */
export type Step =
  | readonly [who: string, request: string | null, line: string]
  | { readonly quiet: string; readonly ms: number }
  | { readonly close: string }
  | { readonly advance: number };

/** A transcript: users connected in order (name, media port), then the steps. */
export interface Transcript {
  readonly name: string;
  /** Hub options (`--ring-timeout 1`, `--relay always`). */
  readonly argv?: readonly string[];
  readonly users: ReadonlyArray<readonly [name: string, mediaPort: number]>;
  readonly steps: readonly Step[];
}

/** Alice calls bob; bob hears it ring. */
export const RING: readonly Step[] = [
  ['alice', 'CALL bob', '104 bob'],
  ['bob', null, '105 alice'],
];

/** Bob answers alice's call (alice on media port 5004, bob on 6006): `106` to both. */
export const ANSWER: readonly Step[] = [
  ['bob', 'ACCEPT alice', '106 alice 127.0.0.1 5004'],
  ['alice', null, '106 bob 127.0.0.1 6006'],
];

/**
 * [S-4] A `106` on a TLS leg: the seed's fields, then the suite and two keys (base64 of 30
 * bytes each: 40 characters, no padding).
 */
export const SECURE_106 =
  /^(106 \S+ \S+ \d+) AES_CM_128_HMAC_SHA1_80 ([A-Za-z0-9+/]{40}) ([A-Za-z0-9+/]{40})$/;

/**
 * Connects the transcript's users to `target` and plays its steps, asserting each line.
 * Over TLS (`target` secure) the same table holds, each `106` extended as `SECURE_106`
 * [S-4]: the two keys differ, and what one party sends with is what its peer receives with.
 */
export async function play(
  t: ExecutionContext,
  target: Target,
  clock: FakeClock,
  script: Transcript,
): Promise<void> {
  const clients = new Map<string, TextClient>();
  const secure = isSecure(target);
  /** Each user's keys in its current call, and with whom. */
  const keys = new Map<string, { peer: string; send: string; recv: string }>();
  const expectLine = (who: string, got: string | null, line: string, what: string) => {
    if (!secure || !line.startsWith('106 ')) return t.is(got, line, what);
    const m = SECURE_106.exec(got ?? '');
    if (!m) return t.fail(`${what}: ${got} is not a 106 with SRTP keys`);
    t.is(m[1], line, what);
    const [send, recv] = [m[2]!, m[3]!];
    t.not(send, recv, `${what}: one key per direction`);
    const peer = line.split(' ')[1]!;
    keys.set(who, { peer, send, recv });
    const theirs = keys.get(peer);
    if (theirs?.peer === who) {
      t.deepEqual([theirs.send, theirs.recv], [recv, send], `${what}: keys pair with ${peer}'s`);
    }
  };
  try {
    for (const [name, port] of script.users) {
      clients.set(name, await connectedClient(target, name, port));
    }
    const client = (who: string) => {
      const c = clients.get(who);
      if (!c) throw new Error(`no user ${who} in the transcript`);
      return c;
    };
    for (const step of script.steps) {
      if ('advance' in step) clock.advance(step.advance);
      else if ('close' in step) {
        client(step.close).close();
        keys.delete(step.close);
      } else if ('quiet' in step)
        t.true(await client(step.quiet).quiet(step.ms), `${step.quiet} quiet`);
      else {
        const [who, request, line] = step;
        const c = client(who);
        const got = request === null ? await c.next() : await c.request(request);
        if (line.startsWith('107 ')) keys.delete(who);
        expectLine(who, got, line, `${who}: ${request ?? '(event)'}`);
      }
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
}
