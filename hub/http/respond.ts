/**
 * The web server's answers and request bodies (docs/web.md): the security headers every
 * answer carries, JSON answers, bodies capped at 8 KiB.
 */
import type http from 'node:http';

const MAX_BODY = 8192;

export const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // not no-referrer: with it Chromium sends `Origin: null` on the page's own POSTs
  'Referrer-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'Cache-Control': 'no-store',
};

/** A JSON answer with the security headers. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The body as text; past `MAX_BODY` a 413 is sent and undefined returned. */
export function readBody(
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY && !done) {
        done = true;
        sendJson(res, 413, { error: 'body too large' });
        req.destroy();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => resolve(undefined));
  });
}

/** The body as a JSON object; anything else gets a 400 and undefined. */
export async function readJson(
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<Record<string, unknown> | undefined> {
  const raw = await readBody(req, res);
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw || '{}') as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      return v as Record<string, unknown>;
    }
  } catch {
    // answered below
  }
  sendJson(res, 400, { error: 'the body must be a JSON object' });
  return undefined;
}
