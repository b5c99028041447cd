/**
 * [S-9] Who may publish and subscribe where on the embedded broker, as pure functions.
 * docs/mqtt.md gives the same rules as mosquitto `acl_file` lines for an external broker.
 *
 * - `hub`: everything (it publishes state and discovery, and reads announcements).
 * - `admin` (Home Assistant): reads everything; publishes commands (`<base>/<name>/set`)
 *   and anything outside `<base>/` (Home Assistant's own birth message), but never a
 *   device's or the hub's state.
 * - a device: publishes only under `<base>/<its name>/`, and not its own `set`; reads
 *   only its own `set` and Home Assistant's birth topic. Subscriptions are compared
 *   literally, so a wildcard filter (`#`, `+`) is refused for a device.
 */
import { HA_PREFIX } from '../../protocol/mqtt/topics.ts';

export type MqttIdentity =
  | { readonly kind: 'hub' }
  | { readonly kind: 'admin' }
  | { readonly kind: 'device'; readonly name: string };

/** Whether `who` may publish to `topic` under the base topic `base`. */
export function canPublish(who: MqttIdentity, topic: string, base: string): boolean {
  if (hasWildcard(topic)) return false;
  switch (who.kind) {
    case 'hub':
      return true;
    case 'admin':
      return !topic.startsWith(`${base}/`) || isSetTopic(topic, base);
    case 'device': {
      const own = `${base}/${who.name}/`;
      return topic.startsWith(own) && topic !== `${own}set` && topic.length > own.length;
    }
  }
}

/** Whether `who` may subscribe to `filter`. */
export function canSubscribe(who: MqttIdentity, filter: string, base: string): boolean {
  switch (who.kind) {
    case 'hub':
    case 'admin':
      return true;
    case 'device':
      return filter === `${base}/${who.name}/set` || filter === `${HA_PREFIX}/status`;
  }
}

/** `<base>/<one level>/set`, the command topic of one device. */
function isSetTopic(topic: string, base: string): boolean {
  const head = `${base}/`;
  if (!topic.startsWith(head) || !topic.endsWith('/set')) return false;
  const name = topic.slice(head.length, -'/set'.length);
  return name.length > 0 && !name.includes('/');
}

function hasWildcard(topic: string): boolean {
  return topic.includes('#') || topic.includes('+');
}
