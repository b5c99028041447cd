/** TLS helpers for hub tests [S-1, S-2]: a free port, refused connects, `openssl s_client`. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import readline from 'node:readline';
import tls from 'node:tls';

/** A TCP port free on `host` a moment ago (for tests that need a fixed port number). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How a TCP connect to `host:port` ends: 'connected' or the error code (ECONNREFUSED). */
export async function tcpConnect(host: string, port: number): Promise<string> {
  const socket = net.connect({ host, port });
  try {
    await once(socket, 'connect');
    return 'connected';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  } finally {
    socket.destroy();
  }
}

/** A TLS client to `host:port` that accepts any certificate; resolves once secure. */
export async function tlsConnect(port: number, host = '127.0.0.1'): Promise<tls.TLSSocket> {
  const socket = tls.connect({ port, host, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  return socket;
}

/** `sha256:<hex>` of the certificate a TLS peer presented [S-2]. */
export function peerFingerprint(socket: tls.TLSSocket): string {
  const der = socket.getPeerX509Certificate()?.raw ?? Buffer.alloc(0);
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/**
 * `openssl s_client` (Debian's, not ours) talking to `port`: writes `lines`, each once the
 * reply to the one before has arrived, and returns every line the hub sent. `-quiet`
 * prints only what the server sends and does not stop at the end of its input.
 */
export async function sClient(port: number, lines: string[], ms = 20_000): Promise<string[]> {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const got: string[] = [];
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const exited = once(child, 'exit');
  const out = readline.createInterface({ input: child.stdout });
  const send = () => {
    const next = lines[got.length];
    if (next !== undefined) child.stdin.write(`${next}\n`);
  };
  out.on('line', (line) => {
    got.push(line.replace(/\r$/, ''));
    send();
  });
  send();
  await exited;
  clearTimeout(timer);
  return got;
}
