import type { CallCore } from '../../hub/core/call-core.ts';
import type { PresenceEvent, UserState } from '../../hub/core/types.ts';

/**
 * Resolves at the first presence change the call core reports that `wanted` accepts: a
 * test waits for the hub's own event instead of polling on a timer.
 */
export function untilPresence(
  core: CallCore,
  wanted: (e: PresenceEvent) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    core.observe({
      presence: (e) => {
        if (done || !wanted(e)) return;
        done = true;
        resolve();
      },
    });
  });
}

/** Resolves once the call core reports `userId` in `state`, at once if it already is. */
export function untilState(core: CallCore, userId: string, state: UserState): Promise<void> {
  if (core.stateOf(userId) === state) return Promise.resolve();
  return untilPresence(core, (e) => e.user.id === userId && e.state === state);
}

/** True once `event` resolves, false if `ms` pass first: a bound for a failing test. */
export function within(event: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void event.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
