import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * A real `babel-device` process for end-to-end tests: flags in, `stdin` button presses,
 * and its life-cycle lines (the `event` field of its JSON logs) collected in order.
 */
export class DeviceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly events: string[] = [];
  readonly logs: Array<Record<string, unknown>> = [];
  /** Its state directory (generated secret [S-6]): a temporary one unless `--state-dir` is given. */
  readonly stateDir: string;
  readonly #ownStateDir: boolean;
  #waiters: Array<() => void> = [];
  #exited: Promise<number | null>;

  /**
   * `script`: a built agent to run with plain `node` (e.g. the bundle
   * dist/device/babel-device.mjs); default the sources through tsx. `env`: added to this
   * process's environment (e.g. `BABEL_DEVICE_AUDIO__ENGINE`).
   */
  constructor(name: string, args: string[], script?: string, env?: NodeJS.ProcessEnv) {
    this.name = name;
    const given = args.indexOf('--state-dir');
    this.#ownStateDir = given < 0;
    this.stateDir =
      given >= 0 ? args[given + 1]! : fs.mkdtempSync(path.join(os.tmpdir(), 'babel-device-'));
    if (this.#ownStateDir) args = [...args, '--state-dir', this.stateDir];
    this.child = spawn(
      process.execPath,
      [
        ...(script
          ? [path.resolve(root, script)]
          : ['--import', 'tsx', path.join(root, 'device/bin.ts')]),
        '--name',
        name,
        '--mqtt',
        'off',
        ...args,
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(env ? { env: { ...process.env, ...env } } : {}),
      },
    );
    this.#exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    const lines = readline.createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        this.logs.push(rec);
        if (typeof rec.event === 'string') this.events.push(rec.event);
      } catch {
        this.events.push(`(non-JSON) ${line}`);
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', (d: Buffer) =>
      this.events.push(`(stderr) ${d.toString().trim()}`),
    );
  }

  /** Waits for a life-cycle line matching `re` that arrived after index `from`. */
  async waitFor(re: RegExp, ms = 8000, from = 0): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.events.findIndex((e, k) => k >= from && re.test(e));
      if (i >= 0) return i;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `${this.name}: no event ${re} within ${ms} ms; saw: ${this.events.join(' | ')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  press(kind: 'press' | 'long' = 'press'): void {
    this.child.stdin!.write(`${kind}\n`);
  }

  /** SIGTERM, then the exit code (SIGKILL after `ms`). */
  async stop(ms = 5000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    const code = await this.#exited;
    clearTimeout(timer);
    if (this.#ownStateDir) fs.rmSync(this.stateDir, { recursive: true, force: true });
    return code;
  }
}
