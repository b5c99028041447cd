/**
 * A started part of a program (a listener, the speaker, the MQTT link...). Both programs
 * keep theirs in start order and stop them in reverse on shutdown, as zigbee2mqtt's
 * controller does.
 */
export interface Component {
  /** For the log line when its stop fails. */
  readonly name: string;
  stop(): Promise<void> | void;
}
