/**
 * test/helpers/impairment.ts' `ImpairmentShim` in a child process of its own, so the
 * jitter it adds is not also the event-loop delays of the process under measurement
 * (bench/media-engine.ts runs the sessions on its main thread). Over IPC: argv
 * `[jitterMs, seed]`; the child sends `{ portA, portB }` once bound; the parent sends
 * `{ a, b }` (the peers' ports on 127.0.0.1) to connect, then disconnects to end it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { ImpairmentShim } from '../../test/helpers/impairment.ts';

const LOCAL = '127.0.0.1';

/** The child's side. */
async function serve(jitterMs: number, seed: number): Promise<void> {
  const shim = await ImpairmentShim.open({ seed, jitterMs });
  process.on('message', (m: { a: number; b: number }) => {
    shim.connect({ ip: LOCAL, port: m.a }, { ip: LOCAL, port: m.b });
  });
  process.once('disconnect', () => void shim.close());
  process.send?.({ portA: shim.portA, portB: shim.portB });
}

/** The parent's handle on a shim process. */
export class ShimProcess {
  readonly #child: ChildProcess;
  /** A talks to `portA` (and hears B from it), B to `portB`. */
  readonly portA: number;
  readonly portB: number;

  private constructor(child: ChildProcess, ports: { portA: number; portB: number }) {
    this.#child = child;
    this.portA = ports.portA;
    this.portB = ports.portB;
  }

  static async open(jitterMs: number, seed = 7): Promise<ShimProcess> {
    const child = fork(import.meta.filename, ['shim', String(jitterMs), String(seed)], {
      execArgv: ['--import', 'tsx'],
    });
    const [ports] = (await once(child, 'message')) as [{ portA: number; portB: number }];
    return new ShimProcess(child, ports);
  }

  connect(a: number, b: number): void {
    this.#child.send({ a, b });
  }

  async close(): Promise<void> {
    const exited = once(this.#child, 'exit');
    this.#child.disconnect();
    await exited;
  }
}

if (process.send && process.argv[2] === 'shim') {
  await serve(Number(process.argv[3]), Number(process.argv[4]));
}
