/**
 * The hub's `UdpRelay` alone, in a child process, for bench/relay.ts's SRTP cases: it
 * allocates `calls` relayed calls whose legs are plain, SRTP, or one of each (the relay
 * translates), with keys drawn as the hub draws them, and reports its own CPU time.
 * Both legs of every call declare port 0, so the relay latches each from its first
 * valid (for an SRTP leg: authentic) packet.
 */
import fs from 'node:fs';
import pino from 'pino';
import type { RelayAllocation, SrtpKeys } from '../../hub/core/types.ts';
import { UdpRelay } from '../../hub/relay/relay.ts';
import { newMasterKey } from '../../protocol/srtp/index.ts';

export type RelayMode = 'plain' | 'srtp' | 'translate';

/** One call as the parent sees it: where each leg's device sends, and its keys. */
export interface WorkerCall {
  portA: number;
  portB: number;
  keysA: SrtpKeys | null;
  keysB: SrtpKeys | null;
}

function cpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const relay = new UdpRelay({ bindHost: '127.0.0.1', log: pino({ level: 'silent' }) });
let allocations: RelayAllocation[] = [];

process.on(
  'message',
  async (msg: { setup?: { calls: number; mode: RelayMode }; start?: boolean; stop?: boolean }) => {
    if (msg.setup) {
      for (const a of allocations) a.release();
      allocations = [];
      const calls: WorkerCall[] = [];
      for (let c = 0; c < msg.setup.calls; c++) {
        const up = newMasterKey();
        const down = newMasterKey();
        const keysA = msg.setup.mode === 'plain' ? null : { send: up, recv: down };
        const keysB = msg.setup.mode === 'srtp' ? { send: down, recv: up } : null;
        const device = { ip: '127.0.0.1', port: 0 };
        const alloc = await relay.allocate(
          `b${c}`,
          { device, srtp: keysA },
          { device, srtp: keysB },
        );
        allocations.push(alloc);
        calls.push({ portA: alloc.portA, portB: alloc.portB, keysA, keysB });
      }
      process.send!({ calls });
    }
    if (msg.start) process.send!({ cpu: cpuMs(), stats: relay.stats });
    if (msg.stop) {
      for (const a of allocations) a.release();
      process.send!({ cpu: cpuMs() });
      process.exit(0);
    }
  },
);
