import type { ExecutionContext } from 'ava';
import type { FakeClock } from '../../shared/clock.ts';
import type { Target } from './dial.ts';
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

/** Connects the transcript's users to `target` and plays its steps, asserting each line. */
export async function play(
  t: ExecutionContext,
  target: Target,
  clock: FakeClock,
  script: Transcript,
): Promise<void> {
  const clients = new Map<string, TextClient>();
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
      else if ('close' in step) client(step.close).close();
      else if ('quiet' in step)
        t.true(await client(step.quiet).quiet(step.ms), `${step.quiet} quiet`);
      else {
        const [who, request, line] = step;
        const c = client(who);
        const got = request === null ? await c.next() : await c.request(request);
        t.is(got, line, `${who}: ${request ?? '(event)'}`);
      }
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
}
