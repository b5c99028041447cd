import type os from 'node:os';
import test from 'ava';
import { lanAddresses } from '../../../hub/net/lan-addresses.ts';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null }) as os.NetworkInterfaceInfo;

test('the LAN addresses: IPv4 first, no loopback, no link-local, no container or VPN bridges', (t) => {
  t.deepEqual(
    lanAddresses({
      lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
      docker0: [nic('172.17.0.1', 'IPv4')],
      wg0: [nic('10.8.0.2', 'IPv4')],
      wlan0: [nic('fe80::1', 'IPv6'), nic('2001:db8::20', 'IPv6'), nic('192.168.1.20', 'IPv4')],
      eth0: [nic('192.168.1.21', 'IPv4')],
    }),
    ['192.168.1.20', '192.168.1.21', '2001:db8::20'],
  );
  t.deepEqual(lanAddresses({ lo: [nic('127.0.0.1', 'IPv4', true)] }), []);
});
