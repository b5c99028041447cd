/**
 * The call core, timing each CALL request from its arrival to the callee ringing (relay
 * ports and SRTP keys included) for `babel_call_setup_seconds`. A refused call (busy,
 * offline) is not timed: it never rang.
 */
import type { Clock } from '../../shared/clock.ts';
import { CallCore, type CallCoreOptions } from '../core/call-core.ts';

export class MeasuredCallCore extends CallCore {
  readonly #clock: Clock;
  readonly #onSetup: (ms: number) => void;

  constructor(opts: CallCoreOptions, onSetup: (ms: number) => void) {
    super(opts);
    this.#clock = opts.clock;
    this.#onSetup = onSetup;
  }

  override async call(...args: Parameters<CallCore['call']>): ReturnType<CallCore['call']> {
    const start = this.#clock.now();
    const info = await super.call(...args);
    this.#onSetup(this.#clock.now() - start);
    return info;
  }
}
