/**
 * [S-10] The door station: every attempt to open the door (the peer's DTMF key, an MQTT
 * command, a local button) goes through here. It asks the policy (device/door-policy.ts),
 * pulses the relay, and reports what came of it: a log line at info and a door event
 * (protocol/mqtt/door.ts) for the audit trail. A relay that fails is reported `failed`,
 * never `opened`, and its health is passed on so the device stops announcing a door.
 */
import type { Logger } from 'pino';
import type { DoorEventPayload, DoorSource } from '../protocol/mqtt/door.ts';
import { type DoorFrom, dtmfDoorVerdict } from './door-policy.ts';
import type { DoorRelay } from './io/outputs.ts';

export interface DoorStationOptions {
  /** The relay, or null on a unit that drives none (then every attempt is refused). */
  readonly relay: DoorRelay | null;
  readonly from: DoorFrom;
  /** The DTMF door key, for the narration. */
  readonly key: string;
  readonly log: Logger;
  /** Publishes a door event (MQTT, not retained); called for every attempt. */
  readonly publish: (event: DoorEventPayload) => void;
  /** A human-readable line for the demo's narration. */
  readonly say?: (text: string) => void;
}

export class DoorStation {
  readonly #o: DoorStationOptions;

  constructor(opts: DoorStationOptions) {
    this.#o = opts;
  }

  /** The peer's door key arrived in a call with `peer`; `placedHere`: this unit called. */
  dtmf(peer: string | null, placedHere: boolean): DoorEventPayload {
    const verdict = dtmfDoorVerdict({ from: this.#o.from, peer, placedHere });
    if (!verdict.allowed) return this.#report('dtmf', peer, 'refused', verdict.reason);
    return this.#open('dtmf', peer);
  }

  /** `{"action":"door"}` on this unit's `set` topic (it came through the broker's ACL [S-9]). */
  mqtt(): DoorEventPayload {
    return this.#open('mqtt', null);
  }

  /** A local button wired to open the door. */
  button(): DoorEventPayload {
    return this.#open('button', null);
  }

  #open(by: DoorSource, from: string | null): DoorEventPayload {
    const relay = this.#o.relay;
    if (!relay) return this.#report(by, from, 'refused', 'no_relay');
    const result = relay.pulse();
    if (result === 'failed') return this.#report(by, from, 'failed', 'relay_fault');
    // `busy`: the strike is still energised from the last pulse; the door is open.
    return this.#report(by, from, 'opened', null);
  }

  #report(
    by: DoorSource,
    from: string | null,
    result: DoorEventPayload['result'],
    reason: string | null,
  ): DoorEventPayload {
    const event: DoorEventPayload = { result, by, from, reason };
    this.#o.log.info({ door: event }, `door ${result}`);
    const how =
      by === 'dtmf' ? `key ${this.#o.key} from ${from ?? 'no call'}` : by === 'mqtt' ? 'MQTT' : by;
    this.#o.say?.(
      result === 'opened'
        ? `door opened (${how})`
        : result === 'refused'
          ? `refused to open the door (${how}): ${reason}`
          : `door relay failed (${how}): the door did not open`,
    );
    this.#o.publish(event);
    return event;
  }
}
