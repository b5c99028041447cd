/**
 * [S-9, extension; S-1] Where the embedded broker's plaintext port (`mqtt.embedded_port`,
 * 1883) listens: the hub's `plaintext` policy, the same rule as the dialects' plaintext
 * listeners (S-1: "bind to loopback by default (`plaintext: loopback|all|off`; `all` logs
 * a warning at every start)"):
 *
 * | `plaintext` | plaintext MQTT on | TLS MQTT (8883) on |
 * |---|---|---|
 * | `loopback` (default) | 127.0.0.1 | `embedded_host` |
 * | `all` | `embedded_host`, as before this rule (warned at start, S-11) | `embedded_host` |
 * | `off` | nowhere | `embedded_host` |
 *
 * So an `embedded_host` set to a LAN address with the default policy puts TLS there and
 * keeps plaintext on this machine: the `admin` login (which opens doors) and device secrets
 * never cross the network in clear unless `plaintext: all` says so. The hub's own clients
 * (bridge, device feed) do not use either port: they are linked to the broker in process
 * (`EmbeddedBroker.connectLocal`), so they work whatever the policy.
 */
import net from 'node:net';

export type PlaintextPolicy = 'loopback' | 'all' | 'off';

/** The plaintext MQTT listener's bind address for `policy`; null: no plaintext listener. */
export function mqttPlaintextHost(policy: PlaintextPolicy, embeddedHost: string): string | null {
  if (policy === 'off') return null;
  return policy === 'all' ? embeddedHost : '127.0.0.1';
}

/** 127.0.0.0/8, ::1 and `localhost`: an address only this machine reaches. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (h.startsWith('::ffff:') && net.isIPv4(h.slice(7))) return h.slice(7).startsWith('127.');
  return net.isIPv6(h) && /^(0{0,4}:){2,7}0{0,3}1$/.test(h);
}
