/**
 * DTMF keys as RFC 4733 telephone events, on the call leg's SSRC and sequence space, with
 * payload type `DTMF_PAYLOAD_TYPE` on the Opus 48 kHz clock [M-1].
 *
 * RFC 4733 §2.3, the payload:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |     event     |E|R| volume    |          duration             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * E marks the end of the event, R is reserved (sent 0, ignored), volume is the power in
 * -dBm0 (0..63), duration counts RTP clock ticks since the event's timestamp.
 *
 * One key press (RFC 4733 §2.5.1): every packet carries the timestamp of the event's start;
 * the first has the marker bit; each packet interval sends the duration so far; the final
 * packet has E set and is sent three times in all (§2.5.1.4), each with a new sequence
 * number. The receiver therefore sees each event several times and reports it once.
 */
import type { DtmfKey } from 'babel-media';
import { DTMF_PAYLOAD_TYPE, OPUS_CLOCK_RATE, type RtpPacket, type RtpSender } from './rtp.ts';
import { tsAdd, tsDiff } from './seq.ts';

/** The sixteen DTMF keys; RFC 4733 §3.2 numbers them 0..15 in this order. */
export const DTMF_KEYS = '0123456789*#ABCD';
/**
 * One DTMF key, as babel-media declares it (native/media/index.d.ts): one declaration for
 * both media loops, in the addon's self-contained package.
 */
export type { DtmfKey };

/** Size of the telephone-event payload. */
export const TELEPHONE_EVENT_SIZE = 4;

// Offsets and bits of the payload.
const OFF_EVENT = 0;
const OFF_FLAGS_VOLUME = 1; // E(1) R(1) volume(6)
const OFF_DURATION = 2;
const END_BIT = 0x80;
const VOLUME_MASK = 0x3f;
const MAX_DURATION = 0xffff;
/** The final packet goes out this many times in all (RFC 4733 §2.5.1.4). */
const END_PACKET_COUNT = 3;

/** One telephone-event payload (RFC 4733 §2.3). */
export interface TelephoneEvent {
  /** Event code: 0..15 for DTMF keys (other codes are other telephony events). */
  event: number;
  /** E bit: this is the final packet of the event. */
  end: boolean;
  /** Power level in -dBm0, 0..63 (0 loudest). */
  volume: number;
  /** Duration so far, in RTP clock ticks. */
  duration: number;
}

/** Event code of a DTMF key (`'*'` is 10, `'#'` is 11, `'A'`..`'D'` are 12..15). */
export function keyToEvent(key: DtmfKey): number {
  return DTMF_KEYS.indexOf(key);
}

/** The DTMF key of an event code, or `undefined` for a code that is not a DTMF key. */
export function eventToKey(event: number): DtmfKey | undefined {
  return Number.isInteger(event) && event >= 0 && event < 16
    ? (DTMF_KEYS[event] as DtmfKey)
    : undefined;
}

/** True when `key` is one of the sixteen DTMF keys. */
export function isDtmfKey(key: string): key is DtmfKey {
  return key.length === 1 && DTMF_KEYS.includes(key);
}

/** Writes the 4-byte payload. Throws `RangeError` for fields out of range. */
export function encodeTelephoneEvent(e: TelephoneEvent): Buffer {
  check(e.event, 0xff, 'event');
  check(e.volume, VOLUME_MASK, 'volume');
  check(e.duration, MAX_DURATION, 'duration');
  const out = Buffer.allocUnsafe(TELEPHONE_EVENT_SIZE);
  out[OFF_EVENT] = e.event;
  out[OFF_FLAGS_VOLUME] = (e.end ? END_BIT : 0) | e.volume;
  out.writeUInt16BE(e.duration, OFF_DURATION);
  return out;
}

/** Reads the payload; `null` when it is shorter than 4 bytes. The R bit is ignored. */
export function parseTelephoneEvent(payload: Buffer): TelephoneEvent | null {
  if (payload.length < TELEPHONE_EVENT_SIZE) return null;
  const flags = payload[OFF_FLAGS_VOLUME]!;
  return {
    event: payload[OFF_EVENT]!,
    end: (flags & END_BIT) !== 0,
    volume: flags & VOLUME_MASK,
    duration: payload.readUInt16BE(OFF_DURATION),
  };
}

function check(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`dtmf: ${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/** Shape of a key press on the wire. */
export interface KeyPressOptions {
  /** How long the key is held; rounded up to whole packets. Default 100 ms. */
  durationMs?: number;
  /** Interval between update packets; the call leg's frame duration. Default 20 ms. */
  packetMs?: number;
  /** RTP clock of the event payload type. Default 48 kHz (the Opus clock) [M-1]. */
  clockRate?: number;
  /** Power level in -dBm0. Default 10. */
  volume?: number;
}

/** One packet of a key press: send one per packet interval, all with the event's timestamp. */
export interface KeyPressPacket {
  marker: boolean;
  event: TelephoneEvent;
  payload: Buffer;
}

/**
 * The RFC 4733 packet train of one key press: `ceil(durationMs / packetMs)` updates with a
 * growing duration, the last with E set, then that final packet twice more. Throws
 * `RangeError` when the press does not fit the 16-bit duration (about 1.36 s at 48 kHz;
 * longer events would need §2.5.1.3 segments, which a keypad never sends).
 */
export function* keyPressPackets(
  key: DtmfKey,
  options: KeyPressOptions = {},
): Generator<KeyPressPacket, void, undefined> {
  const { durationMs = 100, packetMs = 20, clockRate = OPUS_CLOCK_RATE, volume = 10 } = options;
  const event = keyToEvent(key);
  if (event < 0) throw new RangeError(`dtmf: not a DTMF key: ${JSON.stringify(key)}`);
  const packetTicks = Math.round((clockRate * packetMs) / 1000);
  const updates = Math.max(1, Math.ceil(durationMs / packetMs));
  const total = updates * packetTicks;
  if (packetTicks <= 0 || total > MAX_DURATION) {
    throw new RangeError(`dtmf: a ${durationMs} ms press does not fit the duration field`);
  }
  for (let i = 1; i <= updates; i++) {
    const e: TelephoneEvent = { event, end: i === updates, volume, duration: i * packetTicks };
    yield { marker: i === 1, event: e, payload: encodeTelephoneEvent(e) };
  }
  const last: TelephoneEvent = { event, end: true, volume, duration: total };
  for (let i = 1; i < END_PACKET_COUNT; i++) {
    yield { marker: false, event: last, payload: encodeTelephoneEvent(last) };
  }
}

/** Options of `DtmfSender`. */
export interface DtmfSenderOptions {
  payloadType?: number;
  /** The send loop's interval; each `tick()` covers this much of the RTP timeline. */
  packetMs?: number;
  clockRate?: number;
  volume?: number;
}

/**
 * Sends key presses on a call leg. The device's send loop calls `tick()` once per packet
 * interval and, while it returns a datagram, sends that instead of audio: the event takes
 * the audio's place on the timeline (its timestamp is the audio timestamp at its start, and
 * each tick moves the audio timestamp on by one interval, so audio resumes in step with a
 * marker bit). Presses queued while one is under way follow it in order.
 */
export class DtmfSender {
  #rtp: RtpSender;
  #payloadType: number;
  #packetMs: number;
  #clockRate: number;
  #volume: number;
  #queue: Array<{ key: DtmfKey; durationMs: number }> = [];
  #current: Generator<KeyPressPacket, void, undefined> | null = null;
  #timestamp = 0;

  constructor(rtp: RtpSender, options: DtmfSenderOptions = {}) {
    this.#rtp = rtp;
    this.#payloadType = options.payloadType ?? DTMF_PAYLOAD_TYPE;
    this.#packetMs = options.packetMs ?? 20;
    this.#clockRate = options.clockRate ?? OPUS_CLOCK_RATE;
    this.#volume = options.volume ?? 10;
  }

  /** True while a press is being sent or queued. */
  get active(): boolean {
    return this.#current !== null || this.#queue.length > 0;
  }

  /** Queues one key press of `durationMs` (default 100 ms). Throws for an invalid key. */
  press(key: DtmfKey, durationMs = 100): void {
    if (!isDtmfKey(key)) throw new RangeError(`dtmf: not a DTMF key: ${JSON.stringify(key)}`);
    this.#queue.push({ key, durationMs });
  }

  /** The datagram to send in this packet interval instead of audio, or `null` when idle. */
  tick(): Buffer | null {
    for (;;) {
      if (this.#current === null) {
        const next = this.#queue.shift();
        if (!next) return null;
        this.#timestamp = this.#rtp.timestamp;
        this.#current = keyPressPackets(next.key, {
          durationMs: next.durationMs,
          packetMs: this.#packetMs,
          clockRate: this.#clockRate,
          volume: this.#volume,
        });
      }
      const step = this.#current.next();
      if (step.done) {
        this.#current = null;
        continue;
      }
      const { marker, payload } = step.value;
      const datagram = this.#rtp.packet(this.#payloadType, payload, this.#timestamp, marker);
      this.#rtp.silence(Math.round((this.#clockRate * this.#packetMs) / 1000));
      return datagram;
    }
  }
}

/** A key reported by `DtmfReceiver`. */
export interface DtmfKeyEvent {
  key: DtmfKey;
  /** RTP timestamp of the event's start. */
  timestamp: number;
  volume: number;
}

/**
 * Turns received telephone-event packets into key presses, each reported once: the first
 * packet seen of an event reports it (so a lost start packet does not lose the key), and
 * every later packet with that timestamp (updates, the three end packets, duplicates) is
 * absorbed. Packets of an older event (reordered behind a newer one) are ignored, and so
 * is the continuation segment of a long event (§2.5.1.3: same event, no marker, timestamp
 * = previous timestamp + previous duration). Non-DTMF events are ignored.
 */
export class DtmfReceiver {
  #has = false;
  #ssrc = 0;
  #timestamp = 0;
  #event = 0;
  #duration = 0;
  #ended = false;

  /** Feeds one packet of the telephone-event payload type; returns a new key or `null`. */
  push(packet: Pick<RtpPacket, 'ssrc' | 'timestamp' | 'marker' | 'payload'>): DtmfKeyEvent | null {
    const e = parseTelephoneEvent(packet.payload);
    if (!e) return null;
    const key = eventToKey(e.event);
    if (key === undefined) return null;
    const ts = packet.timestamp;
    if (this.#has && packet.ssrc === this.#ssrc) {
      const age = tsDiff(ts, this.#timestamp);
      if (age === 0) {
        this.#update(e);
        return null;
      }
      if (age < 0) return null;
      const continuation =
        !this.#ended &&
        !packet.marker &&
        e.event === this.#event &&
        ts === tsAdd(this.#timestamp, this.#duration);
      if (continuation) {
        this.#timestamp = ts;
        this.#duration = 0;
        this.#update(e);
        return null;
      }
    }
    this.#has = true;
    this.#ssrc = packet.ssrc;
    this.#timestamp = ts;
    this.#event = e.event;
    this.#duration = 0;
    this.#ended = false;
    this.#update(e);
    return { key, timestamp: ts, volume: e.volume };
  }

  #update(e: TelephoneEvent): void {
    if (e.duration > this.#duration) this.#duration = e.duration;
    if (e.end) this.#ended = true;
  }
}
