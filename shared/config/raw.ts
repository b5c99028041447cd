/** Raw settings: the untyped objects read from the file and merged with the environment and flags. */

export type Raw = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function getPath(obj: Raw, segments: readonly string[]): unknown {
  let node: unknown = obj;
  for (const s of segments) node = isPlainObject(node) ? node[s] : undefined;
  return node;
}

export function setPath(obj: Raw, segments: readonly string[], value: unknown): void {
  let node = obj;
  for (const s of segments.slice(0, -1)) {
    const child = node[s];
    if (isPlainObject(child)) {
      node = child;
    } else {
      const fresh: Raw = {}; // the more specific source wins over a malformed parent
      node[s] = fresh;
      node = fresh;
    }
  }
  node[segments[segments.length - 1]!] = value;
}
