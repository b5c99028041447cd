import type { CallCore } from '../../hub/core/call-core.ts';
import type { UserState } from '../../hub/core/types.ts';

/**
 * Resolves once the call core reports `userId` in `state`, at once if it already is: a
 * test waits for the hub's own event instead of polling on a timer.
 */
export function untilState(core: CallCore, userId: string, state: UserState): Promise<void> {
  if (core.stateOf(userId) === state) return Promise.resolve();
  return new Promise((resolve) => {
    let done = false;
    core.observe({
      presence: (e) => {
        if (done || e.user.id !== userId || e.state !== state) return;
        done = true;
        resolve();
      },
    });
  });
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
