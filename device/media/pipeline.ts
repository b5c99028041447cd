/**
 * The media path of one call leg, as a synchronous core with time passed in (werift's
 * jitterBuffer style): no sockets, no timers. `device/media/session.ts` wraps it with one
 * UDP socket and a playout timer; tests drive it with explicit timestamps.
 *
 *   capture:  captureFrame(pcm, now) -> Opus -> RTP [M-1]       (or RFC 4733 while a key
 *                                                                press is going out)
 *   (with SRTP keys [S-4]: each datagram out is protected; each one in is unprotected
 *    after the source check, and dropped and counted if it fails authentication or
 *    replay [S-5])
 *   network:  receive(datagram, from, now) -> source check [M-2] -> parseRtp [M-2]
 *               PT 111 -> jitter buffer     PT 101 -> DTMF receiver (+ noteSequence)
 *               anything else -> counted and dropped
 *   playout:  playoutFrame(now) -> jitter buffer -> Opus decode / conceal, or silence
 *
 * Playout phase. Latency is the jitter buffer's depth plus the time a packet waits between
 * its arrival and the playout tick that takes it; with a free-running tick that wait is
 * anywhere in one frame. `nextPlayoutAt()` places the ticks `playoutGuardMs` after the
 * 75th percentile of the transit (arrival minus the packet's place on the sender's
 * timeline): at once while the buffer starts, then by at most a quarter frame per tick.
 * On a quiet network the ticks fall just after each arrival: latency one frame plus the
 * guard. Why the 75th: the buffer's level control keeps its smoothed level (slots held,
 * the newest counted if it has arrived) within 0.75 frame of the target. Ticks after
 * three quarters of the arrivals put the level a quarter frame or less below the target
 * at the least depth that holds, so the control never inserts there, and always drops a
 * frame too many (left by a burst, or by a target that came down). It follows the
 * sender's timeline, so it also absorbs slow clock drift between the two ends.
 *
 * Telephone events. While a peer sends an event it sends no audio, and a jitter buffer
 * that only heard `noteSequence()` would take the gap for an underrun: it would conceal
 * in place and then drop the excess later. So each event packet that covers a new frame
 * slot (an update with a longer duration, or a repeated end packet arriving at least half
 * a frame after the last, as `DtmfSender` spaces them) is pushed as an empty placeholder
 * for that slot: the slot is concealed on time and the timeline stays in step.
 *
 * One instance is one call leg: a new RTP sender (random SSRC, sequence number and
 * timestamp [M-1]), a fresh jitter buffer, decoder and DTMF state. Make a new one per leg.
 */
import type { Logger } from 'pino';
import { SrtpReceiver, SrtpSender } from '../../protocol/srtp/index.ts';
import { plainIp } from '../../shared/address.ts';
import { type DtmfKey, DtmfReceiver, DtmfSender, parseTelephoneEvent } from './dtmf.ts';
import { JitterBuffer } from './jitter/buffer.ts';
import { TransitPercentile } from './jitter/estimator.ts';
import { OpusCodec } from './opus.ts';
import type {
  MediaEndpoint,
  MediaPipelineOptions,
  MediaStats,
  PlayoutInfo,
  ReceiveResult,
} from './pipeline-types.ts';
import { RateMeter } from './rate-meter.ts';
import {
  DTMF_PAYLOAD_TYPE,
  OPUS_CLOCK_RATE,
  OPUS_PAYLOAD_TYPE,
  parseRtp,
  type RtpPacket,
  RtpSender,
} from './rtp.ts';
import { tsAdd } from './seq.ts';

export type {
  MediaEndpoint,
  MediaPipelineOptions,
  MediaStats,
  PlayoutInfo,
  ReceiveResult,
} from './pipeline-types.ts';

const NOTHING: ReceiveResult = Object.freeze({});
const NO_AUDIO = Buffer.alloc(0);
/** The transit percentile the playout ticks follow (see the file comment). */
const PHASE_QUANTILE = 0.75;
/** Two playout ticks are at least this far apart. */
const MIN_TICK_GAP_MS = 1;

/** See the file comment. */
export class MediaPipeline {
  #remoteAddress: string;
  #remotePort: number;
  #frameMs: number;
  #frameSamples: number;
  #frameBytes: number;
  #dtmfDurationMs: number;
  #guardMs: number;
  #log: Logger | undefined;

  #codec: OpusCodec;
  #rtp: RtpSender;
  #dtmfOut: DtmfSender;
  #dtmfIn = new DtmfReceiver();
  #jb: JitterBuffer;
  #srtpOut: SrtpSender | null;
  #srtpIn: SrtpReceiver | null;
  #played: PlayoutInfo = { kind: 'silence', timestamp: -1 };

  #phase = new TransitPercentile(PHASE_QUANTILE);

  // The incoming telephone event: its timestamp, the slots placed, the last end packet.
  #eventTs = -1;
  #eventSlots = 0;
  #eventEndAt = Number.NEGATIVE_INFINITY;

  #sendRate = new RateMeter();
  #recvRate = new RateMeter();
  #packetsSent = 0;
  #bytesSent = 0;
  #received = 0;
  #wrongSource = 0;
  #invalid = 0;
  #unknownPayload = 0;
  #decodeErrors = 0;
  #eventConcealed = 0;
  #dtmfSent = 0;
  #dtmfReceived = 0;

  constructor(options: MediaPipelineOptions) {
    const frameMs = options.frameMs ?? 20;
    this.#remoteAddress = plainIp(options.remote.address);
    this.#remotePort = options.remote.port;
    this.#frameMs = frameMs;
    this.#dtmfDurationMs = options.dtmfDurationMs ?? 100;
    this.#guardMs = options.playoutGuardMs ?? 1;
    this.#log = options.log;
    this.#codec = new OpusCodec({ ...options.codec, frameMs });
    this.#frameSamples = this.#codec.frameSamples;
    this.#frameBytes = this.#codec.frameBytes;
    this.#rtp = new RtpSender({ ...options.rtp, payloadType: OPUS_PAYLOAD_TYPE }); // [M-1]
    this.#dtmfOut = new DtmfSender(this.#rtp, { packetMs: frameMs, clockRate: OPUS_CLOCK_RATE });
    // [S-4] Throws SrtpKeyError for a key that is not base64 of 30 bytes (checked before:
    // device/hub/events.ts).
    this.#srtpOut = options.srtp ? new SrtpSender(options.srtp.send) : null;
    this.#srtpIn = options.srtp ? new SrtpReceiver(options.srtp.recv) : null;
    // A LAN intercom starts at two frames; the buffer raises its target as soon as it
    // measures more jitter (it only lowers it slowly).
    this.#jb = new JitterBuffer({
      initialDepthMs: 2 * frameMs,
      ...options.jitter,
      frameMs,
      clockRate: OPUS_CLOCK_RATE,
    });
  }

  /** Frame duration in ms. */
  get frameMs(): number {
    return this.#frameMs;
  }

  /** Bytes of PCM in one frame (s16le mono, 48 kHz): 1920 at 20 ms. */
  get frameBytes(): number {
    return this.#frameBytes;
  }

  /** Valid RTP packets received so far (the `received` of `stats()`, without building it). */
  get received(): number {
    return this.#received;
  }

  /** This leg's SSRC [M-1]. */
  get ssrc(): number {
    return this.#rtp.ssrc;
  }

  /** Queues a key press (RFC 4733); throws `RangeError` for a key that is not DTMF. */
  pressKey(key: DtmfKey): void {
    this.#dtmfOut.press(key, this.#dtmfDurationMs);
  }

  /**
   * One captured frame (exactly `frameBytes` of s16le mono PCM) in; the datagrams to send
   * out. While a key press is going out the datagram is its telephone event and the audio
   * frame is not sent (the event takes its place on the RTP timeline).
   */
  captureFrame(pcm: Buffer, now: number): Buffer[] {
    let datagram = this.#dtmfOut.tick();
    if (datagram === null) {
      const payload = this.#codec.encode(pcm);
      this.#sendRate.add(payload.length, now);
      datagram = this.#rtp.nextAudio(payload, this.#frameSamples);
    } else {
      this.#sendRate.tick(now);
      // The first packet of an event carries the marker bit (RFC 4733 §2.5.1.1).
      if (datagram[1]! & 0x80) this.#dtmfSent++;
    }
    if (this.#srtpOut) datagram = this.#srtpOut.protect(datagram); // [S-4]
    this.#packetsSent++;
    this.#bytesSent += datagram.length;
    return [datagram];
  }

  /**
   * One datagram from the network, with its source and arrival time. The pipeline keeps a
   * view of `datagram` until its frame is played: the caller must not reuse the buffer.
   */
  receive(datagram: Buffer, from: MediaEndpoint, now: number): ReceiveResult {
    if (from.port !== this.#remotePort || plainIp(from.address) !== this.#remoteAddress) {
      this.#wrongSource++; // [M-2]
      return NOTHING;
    }
    let rtp = datagram;
    if (this.#srtpIn) {
      // [S-5] Failed authentication and replays are dropped here, counted, never played.
      const clear = this.#srtpIn.unprotect(datagram);
      if (typeof clear === 'string') {
        if (clear === 'malformed') this.#invalid++;
        return NOTHING;
      }
      rtp = clear;
    }
    const packet = parseRtp(rtp);
    if (packet === null) {
      this.#invalid++; // [M-2]
      return NOTHING;
    }
    this.#received++;
    if (this.#log?.isLevelEnabled('trace')) {
      this.#log.trace({ pt: packet.payloadType, seq: packet.sequence, len: rtp.length }, 'rtp');
    }
    if (packet.payloadType === OPUS_PAYLOAD_TYPE) {
      this.#recvRate.add(packet.payload.length, now);
      this.#phase.note(packet.ssrc, packet.timestamp, now);
      this.#jb.push({
        sequence: packet.sequence,
        timestamp: packet.timestamp,
        payload: packet.payload,
        arrival: now,
        ssrc: packet.ssrc,
      });
      return NOTHING;
    }
    if (packet.payloadType === DTMF_PAYLOAD_TYPE) {
      this.#placeEvent(packet, now);
      const event = this.#dtmfIn.push(packet);
      if (event === null) return NOTHING;
      this.#dtmfReceived++;
      return { dtmf: event.key };
    }
    this.#unknownPayload++;
    return NOTHING;
  }

  /**
   * Exactly one frame of PCM (`frameBytes`, a new Buffer the caller may keep) for the
   * playout tick at `now`: the next packet decoded, a concealed frame for a missing one, or
   * silence while the jitter buffer is starting up. `lastPlayout` says which.
   */
  playoutFrame(now: number): Buffer {
    this.#recvRate.tick(now);
    this.#sendRate.tick(now);
    const slot = this.#jb.pop(now);
    const played = this.#played;
    if (slot.kind === 'empty') {
      played.kind = 'silence';
      played.timestamp = -1;
      return Buffer.alloc(this.#frameBytes);
    }
    if (slot.kind === 'frame') {
      if (slot.payload.length === 0) {
        this.#eventConcealed++; // a telephone event's slot: concealed below
      } else {
        try {
          const pcm = this.#codec.decode(slot.payload);
          played.kind = 'frame';
          played.timestamp = slot.timestamp;
          return pcm.length === this.#frameBytes ? pcm : this.#fit(pcm);
        } catch (err) {
          this.#decodeErrors++;
          this.#log?.debug({ err, seq: slot.sequence }, 'opus packet refused, concealed');
        }
      }
    }
    played.kind = 'conceal';
    played.timestamp = -1;
    return this.#codec.conceal();
  }

  /** What the last `playoutFrame()` returned; one object, updated in place. */
  get lastPlayout(): Readonly<PlayoutInfo> {
    return this.#played;
  }

  /**
   * When the playout tick after the one due at `previous` is due: one frame later, moved
   * toward `playoutGuardMs` after the 75th percentile of the transit. While the buffer
   * starts (silence goes out) that is the next grid point after `previous`, however near,
   * and a quarter frame later; once it plays the grid glides, a quarter frame per tick.
   */
  nextPlayoutAt(previous: number): number {
    const nominal = previous + this.#frameMs;
    const transit = this.#phase.value;
    if (Number.isNaN(transit)) return nominal;
    const frame = this.#frameMs;
    const base = transit + this.#guardMs;
    // Before the buffer plays (silence out) the next grid point comes at once, however
    // soon, so the first frame starts no deeper than it needs to; a quarter frame late, so
    // the next packet is there too (the buffer's level control starts from that level).
    if (this.#played.kind === 'silence') {
      const start = base + frame / 4;
      return start + Math.ceil((previous + MIN_TICK_GAP_MS - start) / frame) * frame;
    }
    const ideal = base + Math.round((nominal - base) / frame) * frame;
    const step = frame / 4;
    return nominal + Math.max(-step, Math.min(step, ideal - nominal));
  }

  /** A snapshot of the counters and gauges. */
  stats(): MediaStats {
    const jb = this.#jb.stats();
    return {
      packetsSent: this.#packetsSent,
      bytesSent: this.#bytesSent,
      received: this.#received,
      lost: jb.lost,
      late: jb.late,
      concealed: jb.concealed + this.#decodeErrors + this.#eventConcealed,
      duplicates: jb.duplicates,
      wrongSource: this.#wrongSource,
      invalid: this.#invalid,
      srtp: this.#srtpIn !== null,
      srtpAuthFailed: this.#srtpIn?.stats.auth ?? 0,
      srtpReplayed: this.#srtpIn?.stats.replay ?? 0,
      unknownPayload: this.#unknownPayload,
      decodeErrors: this.#decodeErrors,
      dtmfSent: this.#dtmfSent,
      dtmfReceived: this.#dtmfReceived,
      jitterMs: jb.jitterMs,
      depthMs: jb.depthMs,
      targetMs: jb.targetMs,
      bitrate: this.#recvRate.rate,
      sendBitrate: this.#sendRate.rate,
    };
  }

  /**
   * A telephone-event packet: an empty placeholder in the jitter buffer for each new frame
   * slot it covers, otherwise just its sequence number (see the file comment).
   */
  #placeEvent(packet: RtpPacket, now: number): void {
    const e = parseTelephoneEvent(packet.payload);
    if (packet.timestamp !== this.#eventTs) {
      this.#eventTs = packet.timestamp;
      this.#eventSlots = 0;
      this.#eventEndAt = Number.NEGATIVE_INFINITY;
    }
    let slot = -1;
    if (e !== null) {
      const covered = Math.ceil(e.duration / this.#frameSamples);
      if (covered > this.#eventSlots) {
        slot = covered - 1;
        this.#eventSlots = covered;
      } else if (e.end && now - this.#eventEndAt >= this.#frameMs / 2) {
        slot = this.#eventSlots++;
      }
      if (e.end && slot >= 0) this.#eventEndAt = now;
    }
    if (slot < 0) {
      this.#jb.noteSequence(packet.sequence); // events share the audio's sequence space
      return;
    }
    this.#jb.push({
      sequence: packet.sequence,
      timestamp: tsAdd(packet.timestamp, slot * this.#frameSamples),
      payload: NO_AUDIO,
      arrival: now,
      ssrc: packet.ssrc,
    });
  }

  /** A decoded buffer of another duration (a peer sending other frames) made one frame. */
  #fit(pcm: Buffer): Buffer {
    const out = Buffer.alloc(this.#frameBytes);
    pcm.copy(out, 0, 0, Math.min(pcm.length, out.length));
    return out;
  }
}
