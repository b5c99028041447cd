/**
 * [S-10] Door events, published (not retained) on `<base>/<name>/door` by the door
 * station for every attempt to open the door, whatever came of it.
 */

/** What came of an attempt: a relay that fails is `failed`, never `opened`. */
export type DoorResult = 'opened' | 'refused' | 'failed';
/** What asked for the door: the peer's DTMF key, an MQTT command, or the station's own button. */
export type DoorSource = 'dtmf' | 'mqtt' | 'button';

export interface DoorEventPayload {
  readonly result: DoorResult;
  readonly by: DoorSource;
  /** The peer whose key it was, for `dtmf`; null otherwise. */
  readonly from: string | null;
  /** Why it was refused or failed; null when opened. */
  readonly reason: string | null;
}

/** The topic of one station's door events. */
export function doorTopic(base: string, name: string): string {
  return `${base}/${name}/door`;
}
