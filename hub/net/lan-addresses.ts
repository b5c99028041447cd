/**
 * The machine's own addresses on the network, as another machine would reach it: not
 * loopback, not link-local IPv6, and not the bridges of containers, VMs and VPNs (docker0
 * is often listed before wlan0). IPv4 first. Used for the web page's network URL and the
 * names in the hub's certificate.
 */
import os from 'node:os';

export type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/** Bridges of containers and VMs, and VPN tunnels: their addresses are not the LAN's. */
const VIRTUAL = /^(docker|br-|veth|virbr|lxcbr|cni|flannel|tailscale|tun|wg)/;

export function lanAddresses(interfaces: Interfaces = os.networkInterfaces()): string[] {
  const all = Object.entries(interfaces)
    .filter(([name]) => !VIRTUAL.test(name))
    .flatMap(([, list]) => list ?? [])
    .filter((i) => !i.internal);
  const v4 = all.filter((i) => i.family === 'IPv4').map((i) => i.address);
  const v6 = all
    .filter((i) => i.family === 'IPv6' && !/^fe[89ab]/i.test(i.address))
    .map((i) => i.address);
  return [...new Set([...v4, ...v6])];
}
