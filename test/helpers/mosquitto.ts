/**
 * MQTT for tests: a real mosquitto (Debian's `/usr/sbin/mosquitto`) on a free loopback
 * port, and `MqttWatch`, an MQTT.js subscriber that records every message it sees.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

const MOSQUITTO = '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** Port to listen on; default a free one. `restart()` reuses it. */
  port?: number;
  /** false: every client is refused (`not authorized`) unless a password file says otherwise. */
  anonymous?: boolean;
  /** More `mosquitto.conf` lines (a `password_file`, an `acl_file`), after the defaults. */
  extraConfig?: readonly string[];
}

/** A mosquitto process; in-memory only (no persistence), so a restart forgets retained messages. */
export class Mosquitto {
  readonly port: number;
  readonly #dir: string;
  #proc: ChildProcess | null = null;
  #log = '';

  private constructor(port: number, dir: string) {
    this.port = port;
    this.#dir = dir;
  }

  static async start(opts: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-mosquitto-'));
    const port = opts.port ?? (await freePort());
    const conf = [
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${opts.anonymous === false ? 'false' : 'true'}`,
      'persistence false',
      // Only used when running as root: stay root rather than switch to `mosquitto`.
      `user ${os.userInfo().username}`,
      'log_dest stderr',
      ...(opts.extraConfig ?? []),
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'mosquitto.conf'), `${conf}\n`);
    const m = new Mosquitto(port, dir);
    await m.restart();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The end of mosquitto's own log, for a failing test's message. */
  get log(): string {
    return this.#log;
  }

  /** Starts (again) on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.#proc) throw new Error('mosquitto already running');
    const proc = spawn(MOSQUITTO, ['-c', path.join(this.#dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.#log = (this.#log + d.toString()).slice(-4000);
    });
    this.#proc = proc;
    // A bound against hanging, not a speed claim: a loaded machine may start it slowly.
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${this.#log}`);
      if (Date.now() > deadline) throw new Error(`mosquitto not listening: ${this.#log}`);
      await sleep(25);
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after 2 s); the port is free again after. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops it and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Seen {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

/**
 * Subscribes to `topics` and records every message. `waitFor` looks at what came already,
 * then waits (bounded) for a match, so a test never races the broker.
 */
export class MqttWatch {
  readonly client: MqttClient;
  readonly seen: Seen[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      this.seen.push({ topic, payload: payload.toString(), retain: packet.retain });
      for (const w of [...this.#waiters]) w();
    });
  }

  /** Connects (retrying while the broker is not up yet) and subscribes; `login` for a broker that wants one. */
  static async connect(
    url: string,
    topics: string[] = ['#'],
    login: Pick<IClientOptions, 'username' | 'password'> = {},
  ): Promise<MqttWatch> {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 200,
      connectTimeout: 3000,
      ...login,
    });
    const w = new MqttWatch(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return w;
  }

  /** Messages on `topic`, oldest first. */
  on(topic: string): Seen[] {
    return this.seen.filter((m) => m.topic === topic);
  }

  /**
   * The first message (from `from` on) that matches; rejects after `ms`, a bound against
   * hanging that a loaded machine must not reach (absence is shown with a marker message).
   */
  async waitFor(
    match: (m: Seen) => boolean,
    what = 'a message',
    ms = 15_000,
    from = 0,
  ): Promise<Seen> {
    const find = () => this.seen.slice(from).find(match);
    const hit = find();
    if (hit) return hit;
    return new Promise((resolve, reject) => {
      const waiter = () => {
        const m = find();
        if (!m) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${what} within ${ms} ms; saw ${this.seen.length} messages`));
      }, ms);
      this.#waiters.add(waiter);
    });
  }

  /** The first message on `topic` (with `payload`, if given) from `from` on. */
  waitTopic(topic: string, payload?: string, ms?: number, from?: number): Promise<Seen> {
    return this.waitFor(
      (m) => m.topic === topic && (payload === undefined || m.payload === payload),
      `${topic}${payload === undefined ? '' : ` = ${payload}`}`,
      ms,
      from,
    );
  }

  /** The next JSON payload on `topic` whose fields include `fields`. */
  async waitJson(
    topic: string,
    fields: Record<string, unknown>,
    ms?: number,
    from?: number,
  ): Promise<Record<string, unknown>> {
    const m = await this.waitFor(
      (s) => s.topic === topic && includes(parse(s.payload), fields),
      `${topic} with ${JSON.stringify(fields)}`,
      ms,
      from,
    );
    return parse(m.payload) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

function parse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function includes(v: unknown, fields: Record<string, unknown>): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Object.entries(fields).every(([k, want]) => o[k] === want);
}
