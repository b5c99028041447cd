/** Config files for loader tests: a map of path to text, read as the loader reads files. */
export type Files = Record<string, string>;

/** A `readFile` over `files`; a missing path throws ENOENT as `fs.readFileSync` does. */
export function reader(files: Files) {
  return (p: string): string => {
    const text = files[p];
    if (text === undefined) {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), {
        code: 'ENOENT',
      });
    }
    return text;
  };
}
