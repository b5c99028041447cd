/*
 * RTP [M-1, M-2] and RFC 4733 telephone events: ports of device/media/rtp.ts and
 * device/media/dtmf.ts, with the same answers (test/native/media/wire.test.ts runs both).
 * Every length read from a datagram is checked against the datagram before it is used.
 *
 * RFC 3550 §5.1, the fixed header (then CC CSRCs of 4 bytes, then, when X=1, a 4-byte
 * extension header `profile(16) | length in words(16)` and its words; when P=1 the last
 * payload octet counts the padding octets, itself included):
 *
 *    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *    |                           timestamp                           |
 *    |           synchronization source (SSRC) identifier            |
 *
 * RFC 4733 §2.3, the telephone-event payload:
 *
 *    |     event     |E|R| volume    |          duration             |
 */
#include "wire.h"
#include "seq.h"

#define RTP_VERSION 2
#define OFF_FLAGS 0
#define OFF_MARKER_PT 1
#define OFF_SEQUENCE 2
#define OFF_TIMESTAMP 4
#define OFF_SSRC 8
#define OFF_CSRC 12
#define VERSION_SHIFT 6
#define PADDING_BIT 0x20
#define EXTENSION_BIT 0x10
#define CC_MASK 0x0f
#define MARKER_BIT 0x80
#define PT_MASK 0x7f
#define CSRC_SIZE 4
#define EXT_HEADER_SIZE 4
/* RTCP packet types 200..204 read as M=1 with PT 72..76 (RFC 5761 §4) [M-2]. */
#define RTCP_CONFLICT_MIN 72
#define RTCP_CONFLICT_MAX 76

#define TELEPHONE_EVENT_SIZE 4
#define TE_OFF_EVENT 0
#define TE_OFF_FLAGS_VOLUME 1
#define TE_OFF_DURATION 2
#define TE_END_BIT 0x80
#define TE_VOLUME_MASK 0x3f
#define TE_MAX_DURATION 0xffff
/* The final packet goes out this many times in all (RFC 4733 §2.5.1.4). */
#define TE_END_PACKET_COUNT 3

static const char DTMF_KEYS[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                   '8', '9', '*', '#', 'A', 'B', 'C', 'D'};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static bool rtcp_conflict(unsigned payload_type) {
  return payload_type >= RTCP_CONFLICT_MIN && payload_type <= RTCP_CONFLICT_MAX;
}

/* ---- RTP ---- */

bool rtp_parse(const uint8_t *buf, size_t len, rtp_packet *out) {
  if (buf == NULL || len < RTP_HEADER_SIZE) return false;
  uint8_t b0 = buf[OFF_FLAGS];
  if (b0 >> VERSION_SHIFT != RTP_VERSION) return false;
  uint8_t b1 = buf[OFF_MARKER_PT];
  uint8_t payload_type = b1 & PT_MASK;
  if (rtcp_conflict(payload_type)) return false;

  size_t offset = OFF_CSRC + (size_t)(b0 & CC_MASK) * CSRC_SIZE;
  if (offset > len) return false;
  if (b0 & EXTENSION_BIT) {
    if (offset + EXT_HEADER_SIZE > len) return false;
    size_t data_len = (size_t)rd16(buf + offset + 2) * 4;
    offset += EXT_HEADER_SIZE;
    if (data_len > len - offset) return false;
    offset += data_len;
  }
  size_t end = len;
  if (b0 & PADDING_BIT) {
    if (end <= offset) return false;
    uint8_t count = buf[end - 1];
    if (count == 0 || count > end - offset) return false;
    end -= count;
  }
  out->payload_type = payload_type;
  out->marker = (b1 & MARKER_BIT) != 0;
  out->sequence = rd16(buf + OFF_SEQUENCE);
  out->timestamp = rd32(buf + OFF_TIMESTAMP);
  out->ssrc = rd32(buf + OFF_SSRC);
  out->payload = buf + offset;
  out->payload_len = end - offset;
  return true;
}

void rtp_sender_init(rtp_sender *s, uint8_t payload_type, uint32_t ssrc, uint16_t sequence,
                     uint32_t timestamp) {
  s->payload_type = payload_type;
  s->ssrc = ssrc;
  s->sequence = sequence;
  s->timestamp = timestamp;
  s->marker = true;
}

size_t rtp_sender_packet(rtp_sender *s, uint8_t payload_type, const uint8_t *payload,
                         size_t len, uint32_t timestamp, bool marker, uint8_t *out, size_t cap) {
  if (rtcp_conflict(payload_type)) return 0;
  if (len > cap || cap - len < RTP_HEADER_SIZE || (len > 0 && payload == NULL)) return 0;
  out[OFF_FLAGS] = RTP_VERSION << VERSION_SHIFT;
  out[OFF_MARKER_PT] = (uint8_t)((marker ? MARKER_BIT : 0) | (payload_type & PT_MASK));
  wr16(out + OFF_SEQUENCE, s->sequence);
  wr32(out + OFF_TIMESTAMP, timestamp);
  wr32(out + OFF_SSRC, s->ssrc);
  for (size_t i = 0; i < len; i++) out[RTP_HEADER_SIZE + i] = payload[i];
  s->sequence = seq_add(s->sequence, 1);
  return RTP_HEADER_SIZE + len;
}

size_t rtp_sender_next_audio(rtp_sender *s, const uint8_t *payload, size_t len,
                             uint32_t samples_per_frame, uint8_t *out, size_t cap) {
  size_t n = rtp_sender_packet(s, s->payload_type, payload, len, s->timestamp, s->marker, out, cap);
  if (n == 0) return 0; /* nothing sent: the TS throws before it moves anything */
  s->marker = false;
  s->timestamp = ts_add(s->timestamp, samples_per_frame);
  return n;
}

void rtp_sender_silence(rtp_sender *s, uint32_t samples) {
  s->timestamp = ts_add(s->timestamp, samples);
  s->marker = true;
}

/* ---- RFC 4733 ---- */

bool telephone_event_parse(const uint8_t *payload, size_t len, telephone_event *out) {
  if (payload == NULL || len < TELEPHONE_EVENT_SIZE) return false;
  uint8_t flags = payload[TE_OFF_FLAGS_VOLUME];
  out->event = payload[TE_OFF_EVENT];
  out->end = (flags & TE_END_BIT) != 0;
  out->volume = flags & TE_VOLUME_MASK;
  out->duration = rd16(payload + TE_OFF_DURATION);
  return true;
}

int dtmf_key_to_event(char key) {
  for (int i = 0; i < 16; i++)
    if (DTMF_KEYS[i] == key) return i;
  return -1;
}

char dtmf_event_to_key(uint8_t event) { return event < 16 ? DTMF_KEYS[event] : 0; }

/* Ticks per packet interval: Math.round(clockRate * packetMs / 1000). */
static uint32_t packet_ticks(const dtmf_sender *d) {
  return (uint32_t)(((uint64_t)d->clock_rate * d->packet_ms + 500) / 1000);
}

/* Update packets of a press: max(1, ceil(durationMs / packetMs)). */
static uint32_t press_updates(uint32_t duration_ms, uint32_t packet_ms) {
  uint32_t n = duration_ms / packet_ms + (duration_ms % packet_ms != 0);
  return n < 1 ? 1 : n;
}

void dtmf_sender_init(dtmf_sender *d, rtp_sender *rtp, uint8_t payload_type, uint32_t packet_ms,
                      uint32_t clock_rate, uint8_t volume) {
  d->rtp = rtp;
  d->payload_type = payload_type;
  d->packet_ms = packet_ms;
  d->clock_rate = clock_rate;
  d->volume = volume;
  d->queue_head = 0;
  d->queue_len = 0;
  d->active = false;
  d->key = 0;
  d->duration_ms = 0;
  d->step = 0;
  d->timestamp = 0;
}

/*
 * Also false for a press that does not fit the 16-bit duration field (about 1.36 s at
 * 48 kHz), or a sender whose packet interval is 0 ticks: the TS throws that RangeError
 * from tick() when the press comes up, then drops it, so the wire carries the same
 * packets either way; here the caller hears of it when it presses.
 */
bool dtmf_sender_press(dtmf_sender *d, char key, uint32_t duration_ms) {
  if (dtmf_key_to_event(key) < 0 || d->queue_len >= DTMF_QUEUE || d->packet_ms == 0) return false;
  uint64_t ticks = packet_ticks(d);
  if (ticks == 0 || press_updates(duration_ms, d->packet_ms) * ticks > TE_MAX_DURATION) return false;
  int at = (d->queue_head + d->queue_len) % DTMF_QUEUE;
  d->queue_key[at] = key;
  d->queue_ms[at] = duration_ms;
  d->queue_len++;
  return true;
}

bool dtmf_sender_active(const dtmf_sender *d) { return d->active || d->queue_len > 0; }

/*
 * keyPressPackets() as a step counter: steps 0..updates-1 are the updates (duration
 * (step+1) * ticks, marker on step 0, E on the last), then END_PACKET_COUNT - 1 repeats of
 * the final packet. Like the TS generator, the press stays active until the tick after
 * its last packet finds it exhausted.
 */
size_t dtmf_sender_tick(dtmf_sender *d, uint8_t *out, size_t cap) {
  for (;;) {
    if (!d->active) {
      if (d->queue_len == 0) return 0;
      d->key = d->queue_key[d->queue_head];
      d->duration_ms = d->queue_ms[d->queue_head];
      d->queue_head = (d->queue_head + 1) % DTMF_QUEUE;
      d->queue_len--;
      d->timestamp = d->rtp->timestamp;
      d->step = 0;
      d->active = true;
    }
    uint32_t ticks = packet_ticks(d);
    uint32_t updates = press_updates(d->duration_ms, d->packet_ms);
    if ((uint32_t)d->step >= updates + TE_END_PACKET_COUNT - 1) {
      d->active = false;
      continue;
    }
    uint32_t i = (uint32_t)d->step + 1;
    bool final = i >= updates;
    uint8_t payload[TELEPHONE_EVENT_SIZE];
    payload[TE_OFF_EVENT] = (uint8_t)dtmf_key_to_event(d->key);
    payload[TE_OFF_FLAGS_VOLUME] = (uint8_t)((final ? TE_END_BIT : 0) | (d->volume & TE_VOLUME_MASK));
    wr16(payload + TE_OFF_DURATION, (uint16_t)((final ? updates : i) * ticks));
    size_t n = rtp_sender_packet(d->rtp, d->payload_type, payload, sizeof payload, d->timestamp,
                                 d->step == 0, out, cap);
    if (n == 0) return 0;
    d->step++;
    rtp_sender_silence(d->rtp, ticks);
    return n;
  }
}

void dtmf_receiver_init(dtmf_receiver *r) {
  r->has = false;
  r->ssrc = 0;
  r->timestamp = 0;
  r->event = 0;
  r->duration = 0;
  r->ended = false;
}

static void receiver_update(dtmf_receiver *r, const telephone_event *e) {
  if (e->duration > r->duration) r->duration = e->duration;
  if (e->end) r->ended = true;
}

/*
 * Each key press reported once: the first packet seen of an event reports it; later
 * packets with its timestamp, packets of older events and the continuation segment of a
 * long event (§2.5.1.3) are absorbed; non-DTMF events are ignored.
 */
bool dtmf_receiver_push(dtmf_receiver *r, const rtp_packet *p, char *key) {
  telephone_event e;
  if (!telephone_event_parse(p->payload, p->payload_len, &e)) return false;
  char k = dtmf_event_to_key(e.event);
  if (k == 0) return false;
  uint32_t ts = p->timestamp;
  if (r->has && p->ssrc == r->ssrc) {
    int32_t age = ts_diff(ts, r->timestamp);
    if (age == 0) {
      receiver_update(r, &e);
      return false;
    }
    if (age < 0) return false;
    bool continuation = !r->ended && !p->marker && e.event == r->event &&
                        ts == ts_add(r->timestamp, r->duration);
    if (continuation) {
      r->timestamp = ts;
      r->duration = 0;
      receiver_update(r, &e);
      return false;
    }
  }
  r->has = true;
  r->ssrc = p->ssrc;
  r->timestamp = ts;
  r->event = e.event;
  r->duration = 0;
  r->ended = false;
  receiver_update(r, &e);
  *key = k;
  return true;
}
