/**
 * A TLS hub for device tests before (and beside) the hub's own TLS listener: a certificate
 * made by Debian's `openssl` as the hub makes its identity [S-2], and a TLS server that
 * records every application byte it gets and, given a target, fronts a plaintext hub.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface TestCert {
  readonly key: string;
  readonly cert: string;
  /** `sha256:<hex>` of the certificate's DER, as `babel-hub fingerprint` prints it. */
  readonly fingerprint: string;
}

/** A new self-signed ECDSA P-256 certificate (a new fingerprint each call). */
export function makeCert(): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-cert-'));
  try {
    const k = path.join(dir, 'k');
    const c = path.join(dir, 'c');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ...['-nodes', '-subj', '/CN=babel-hub', '-days', '3650', '-keyout', k, '-out', c],
      ],
      { stdio: 'ignore' },
    );
    const cert = fs.readFileSync(c, 'utf8');
    const der = new X509Certificate(cert).raw;
    return {
      key: fs.readFileSync(k, 'utf8'),
      cert,
      fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface TlsFront {
  readonly port: number;
  /** Every decrypted byte the server got from its clients, in order. */
  readonly received: Buffer[];
  /** Handshakes completed, and TCP connections accepted. */
  readonly counts: { handshakes: number; connections: number };
  /** Uses another certificate from the next connection on (a regenerated hub identity). */
  setCert(cert: TestCert): void;
  close(): Promise<void>;
}

/**
 * A TLS server on 127.0.0.1. With `target`, each connection is piped to a plaintext hub
 * on that port; with `onLine`, it is answered line by line; else it only listens.
 */
export async function tlsFront(
  cert: TestCert,
  opts: { target?: number; onLine?: (line: string, socket: tls.TLSSocket) => void } = {},
): Promise<TlsFront> {
  const received: Buffer[] = [];
  const counts = { handshakes: 0, connections: 0 };
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: cert.key, cert: cert.cert, minVersion: 'TLSv1.2' });
  server.on('connection', (s: net.Socket) => {
    counts.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  server.on('secureConnection', (s) => {
    counts.handshakes++;
    s.on('error', () => {});
    let upstream: net.Socket | null = null;
    if (opts.target !== undefined) {
      upstream = net.connect(opts.target, '127.0.0.1');
      upstream.on('error', () => s.destroy());
      upstream.on('data', (d) => s.write(d));
      upstream.on('close', () => s.end());
      s.on('close', () => upstream?.destroy());
    }
    let buffered = '';
    s.on('data', (d: Buffer) => {
      received.push(d);
      upstream?.write(d);
      if (!opts.onLine) return;
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i).trim();
        buffered = buffered.slice(i + 1);
        opts.onLine(line, s);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    counts,
    setCert(next) {
      server.setSecureContext({ key: next.key, cert: next.cert });
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
