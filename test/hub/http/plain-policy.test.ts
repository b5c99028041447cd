/**
 * Who gets the page in plain HTTP under each `plaintext` policy [S-1], where the others are
 * sent, and the page's addresses for the startup log: tables over the pure functions.
 */
import type os from 'node:os';
import test from 'ava';
import {
  coveredPageUrls,
  httpsLocation,
  pageUrls,
  plainServed,
} from '../../../hub/http/plain-policy.ts';

const SERVED: Array<[string, 'loopback' | 'all' | 'off', string, string, boolean]> = [
  ['loopback, both ends 127.0.0.1', 'loopback', '127.0.0.1', '127.0.0.1', true],
  ['loopback, both ends ::1', 'loopback', '::1', '::1', true],
  [
    'loopback, IPv4 through a dual-stack socket',
    'loopback',
    '::ffff:127.0.0.1',
    '::ffff:127.0.0.1',
    true,
  ],
  [
    'loopback, another 127.x client (stands in for the LAN)',
    'loopback',
    '127.0.0.1',
    '127.0.0.2',
    false,
  ],
  ['loopback, the hub reached on another 127.x', 'loopback', '127.0.0.2', '127.0.0.1', false],
  ['loopback, a LAN client', 'loopback', '192.168.1.5', '192.168.1.20', false],
  ['loopback, the machine to its own LAN address', 'loopback', '192.168.1.5', '192.168.1.5', false],
  ['loopback, mixed families', 'loopback', '::1', '127.0.0.1', false],
  ['loopback, a closed socket (no address)', 'loopback', '', '', false],
  ['all, a LAN client', 'all', '192.168.1.5', '192.168.1.20', true],
  ['off, loopback', 'off', '127.0.0.1', '127.0.0.1', false],
];

for (const [name, policy, local, remote, served] of SERVED) {
  test(`plain served: ${name}`, (t) => {
    t.is(plainServed(policy, local || undefined, remote || undefined), served);
  });
}

const LOCATIONS: Array<[string, string | undefined, string, number, string, string]> = [
  ['the Host header names it', 'hub.lan:8090', '192.168.1.5', 8090, '/', 'https://hub.lan:8090/'],
  [
    'path and query kept',
    '192.168.1.5:8090',
    '192.168.1.5',
    8090,
    '/login?x=1',
    'https://192.168.1.5:8090/login?x=1',
  ],
  [
    'a Host without port: the connection port',
    'hub.lan',
    '192.168.1.5',
    8090,
    '/a',
    'https://hub.lan:8090/a',
  ],
  [
    'no Host: the connection address',
    undefined,
    '::ffff:127.0.0.1',
    8090,
    '/',
    'https://127.0.0.1:8090/',
  ],
  ['IPv6 Host', '[fe80::1]:8090', 'fe80::1', 8090, '/', 'https://[fe80::1]:8090/'],
  ['no Host, IPv6 connection', undefined, 'fd00::5', 8090, '/', 'https://[fd00::5]:8090/'],
  [
    'a Host with a path in it is ignored',
    'evil.example/x',
    '10.0.0.2',
    8090,
    '/',
    'https://10.0.0.2:8090/',
  ],
  [
    'a Host with userinfo is ignored',
    'a@evil.example',
    '10.0.0.2',
    8090,
    '/',
    'https://10.0.0.2:8090/',
  ],
  [
    'an absolute-form target keeps the root',
    'hub.lan:8090',
    '10.0.0.2',
    8090,
    'http://x/',
    'https://hub.lan:8090/',
  ],
];

for (const [name, host, local, port, path, expected] of LOCATIONS) {
  test(`https location: ${name}`, (t) => {
    t.is(httpsLocation(host, local, port, path), expected);
  });
}

const IFACES = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
  eth0: [
    { address: 'fe80::2', family: 'IPv6', internal: false },
    { address: '192.168.1.5', family: 'IPv4', internal: false },
  ],
} as unknown as ReturnType<typeof os.networkInterfaces>;
const V6_ONLY = {
  eth0: [
    { address: 'fe80::2', family: 'IPv6', internal: false },
    { address: 'fd00::5', family: 'IPv6', internal: false },
  ],
} as unknown as ReturnType<typeof os.networkInterfaces>;
const NONE = {} as ReturnType<typeof os.networkInterfaces>;
const DOCKER_FIRST = {
  docker0: [{ address: '172.17.0.1', family: 'IPv4', internal: false }],
  wlan0: [{ address: '192.168.1.7', family: 'IPv4', internal: false }],
} as unknown as ReturnType<typeof os.networkInterfaces>;

const URLS: Array<[string, string, 'loopback' | 'all' | 'off', typeof IFACES, string, string]> = [
  [
    'default: wildcard, loopback',
    '0.0.0.0',
    'loopback',
    IFACES,
    'http://localhost:8090/',
    'https://192.168.1.5:8090/',
  ],
  [
    'IPv6 wildcard, no IPv4 address',
    '::',
    'loopback',
    V6_ONLY,
    'http://localhost:8090/',
    'https://[fd00::5]:8090/',
  ],
  [
    "a container bridge listed first: the machine's own address",
    '0.0.0.0',
    'loopback',
    DOCKER_FIRST,
    'http://localhost:8090/',
    'https://192.168.1.7:8090/',
  ],
  [
    'no network address: the host name',
    '0.0.0.0',
    'loopback',
    NONE,
    'http://localhost:8090/',
    'https://door-pi:8090/',
  ],
  [
    'plaintext off',
    '0.0.0.0',
    'off',
    IFACES,
    'https://localhost:8090/',
    'https://192.168.1.5:8090/',
  ],
  [
    'host a LAN address',
    '192.168.1.5',
    'loopback',
    IFACES,
    'https://192.168.1.5:8090/',
    'https://192.168.1.5:8090/',
  ],
  [
    'host a LAN address, plaintext all',
    '192.168.1.5',
    'all',
    IFACES,
    'http://192.168.1.5:8090/',
    'https://192.168.1.5:8090/',
  ],
  [
    'host loopback',
    '127.0.0.1',
    'loopback',
    IFACES,
    'http://127.0.0.1:8090/',
    'https://127.0.0.1:8090/',
  ],
];

for (const [name, host, policy, ifaces, url, lan] of URLS) {
  test(`page urls: ${name}`, (t) => {
    t.deepEqual(pageUrls(host, 8090, policy, ifaces, 'door-pi'), { url, lan_url: lan });
  });
}

/** [S-2] name, the address pageUrls chose, the names the certificate has, lan_url, uncovered */
const COVERED: Array<[string, string, string[], string, string | null]> = [
  [
    'the address is named',
    '192.168.1.5',
    ['192.168.1.5', 'door-pi'],
    'https://192.168.1.5:8090/',
    null,
  ],
  [
    'made before addresses were named: the .local name',
    '192.168.1.5',
    ['door-pi', 'door-pi.local', 'localhost', '127.0.0.1'],
    'https://door-pi.local:8090/',
    '192.168.1.5',
  ],
  ['only the host name', '192.168.1.5', ['door-pi'], 'https://door-pi:8090/', '192.168.1.5'],
  [
    'the user certificate for other names: the address stays',
    '192.168.1.5',
    ['intercom.example.org'],
    'https://192.168.1.5:8090/',
    '192.168.1.5',
  ],
  ['an IPv6 address, named', '[fd00::5]', ['fd00::5'], 'https://[fd00::5]:8090/', null],
  [
    'an IPv6 address, not named',
    '[fd00::5]',
    ['door-pi.local'],
    'https://door-pi.local:8090/',
    'fd00::5',
  ],
];

for (const [name, lan, names, lanUrl, uncovered] of COVERED) {
  test(`covered page urls: ${name}`, (t) => {
    const urls = { url: 'http://localhost:8090/', lan_url: `https://${lan}:8090/` };
    const got = coveredPageUrls(urls, (h) => names.includes(h), 'door-pi');
    t.deepEqual(got, { urls: { url: urls.url, lan_url: lanUrl }, uncovered });
  });
}
