/**
 * `mkdir -p` that always ends. Node's `fs.mkdirSync(dir, { recursive: true })` loops
 * forever at 100 % CPU where a parent exists but cannot hold the child: under /proc or
 * /sys, mkdir answers ENOENT, Node takes that for "parent missing", finds the parent
 * present (EEXIST) and tries the child again (`--data-dir /proc/x`). This walks up once
 * to the nearest existing directory and creates each missing one with a plain mkdir.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Creates `dir` and its missing parents (each with `mode`); throws an `Error` with `code` and a plain message when it cannot. */
export function makeDir(dir: string, mode?: number): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let d = target; !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d, mode === undefined ? undefined : { mode });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'EEXIST' && isDirectory(d)) continue;
      const why =
        code === 'ENOENT'
          ? `${path.dirname(d)} cannot hold new directories`
          : code === 'EEXIST'
            ? `${d} exists and is not a directory`
            : code === 'EACCES' || code === 'EPERM'
              ? `permission denied in ${path.dirname(d)}`
              : (err as Error).message;
      throw Object.assign(new Error(`cannot create directory ${target}: ${why} (${code})`), {
        code,
      });
    }
  }
  if (!isDirectory(target)) {
    throw Object.assign(new Error(`cannot create directory ${target}: a file is in the way`), {
      code: 'ENOTDIR',
    });
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
