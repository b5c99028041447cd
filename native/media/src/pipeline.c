/* MediaPipeline in C: see pipeline.h and device/media/pipeline.ts (the specification). */
#include "pipeline.h"
#include <math.h>
#include <opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seq.h"

/* The transit percentile the playout ticks follow (pipeline.ts' file comment). */
#define PHASE_QUANTILE 0.75
/* Two playout ticks are at least this far apart. */
#define MIN_TICK_GAP_MS 1
/* rate-meter.ts: over how much of the passed-in time a rate is measured. */
#define BITRATE_WINDOW_MS 1000
/* The largest Opus packet of one frame (RFC 6716 3.2.1: 1275 bytes) fits. */
#define MAX_OPUS_PACKET 1276

/* Math.round of JavaScript: halves up. */
static double js_round(double x) { return floor(x + 0.5); }

/* RateMeter (rate-meter.ts). */
typedef struct {
  double start, bytes, rate;
} rate_meter;

static void rate_init(rate_meter *m) {
  m->start = NAN;
  m->bytes = 0;
  m->rate = 0;
}

static void rate_tick(rate_meter *m, double now) {
  if (isnan(m->start)) m->start = now;
  double elapsed = now - m->start;
  if (elapsed >= BITRATE_WINDOW_MS) {
    m->rate = js_round((m->bytes * 8 * 1000) / elapsed);
    m->bytes = 0;
    m->start = now;
  }
}

static void rate_add(rate_meter *m, double bytes, double now) {
  rate_tick(m, now);
  m->bytes += bytes;
}

struct pipeline {
  struct sockaddr_in remote;
  double frame_ms;
  int frame_samples;
  uint32_t dtmf_duration_ms;
  double guard_ms;

  OpusEncoder *enc;
  OpusDecoder *dec;
  rtp_sender rtp;
  dtmf_sender dtmf_out;
  dtmf_receiver dtmf_in;
  jitter *jb;
  srtp_sender *srtp_out;
  srtp_receiver *srtp_in;
  playout_kind played;

  transit_percentile phase;

  /* The incoming telephone event: its timestamp, the slots placed, the last end packet. */
  bool has_event_ts;
  uint32_t event_ts;
  int event_slots;
  double event_end_at;

  rate_meter send_rate, recv_rate;
  double packets_sent, bytes_sent, received, wrong_source, invalid, unknown_payload,
      decode_errors, event_concealed, dtmf_sent, dtmf_received;

  /* Work buffers, so nothing is allocated per frame. */
  uint8_t opus_out[MAX_OPUS_PACKET];
  uint8_t rtp_out[PIPELINE_MAX_DATAGRAM];
  uint8_t clear[PIPELINE_MAX_DATAGRAM];
  int16_t decoded[PIPELINE_MAX_DECODE_SAMPLES];
};

void pipeline_config_default(pipeline_config *c, int frame_ms) {
  c->frame_ms = frame_ms;
  c->bitrate = 24000;
  c->complexity = 5;
  c->fec = true;
  c->packet_loss_percent = 10;
  jitter_options_default(&c->jitter, frame_ms);
  /* A LAN intercom starts at two frames (pipeline.ts' constructor). */
  c->jitter.initial_depth_ms = 2.0 * frame_ms;
  c->dtmf_duration_ms = 100;
  c->playout_guard_ms = 1;
}

void pipeline_free(pipeline *p) {
  if (!p) return;
  if (p->enc) opus_encoder_destroy(p->enc);
  if (p->dec) opus_decoder_destroy(p->dec);
  jitter_free(p->jb);
  srtp_sender_free(p->srtp_out);
  srtp_receiver_free(p->srtp_in);
  free(p);
}

static pipeline *fail(pipeline *p, char *err, size_t err_len, const char *what, int code) {
  if (err_len) {
    if (code) snprintf(err, err_len, "%s: %s", what, opus_strerror(code));
    else if (what != err) snprintf(err, err_len, "%s", what);
  }
  pipeline_free(p);
  return NULL;
}

pipeline *pipeline_new(const pipeline_config *c, const pipeline_leg *leg, char *err,
                       size_t err_len) {
  if (c->frame_ms != 10 && c->frame_ms != 20) {
    return fail(NULL, err, err_len, "frameMs must be 10 or 20", 0);
  }
  pipeline *p = calloc(1, sizeof *p);
  if (!p) return fail(NULL, err, err_len, "out of memory", 0);
  p->remote = leg->remote;
  p->frame_ms = c->frame_ms;
  p->frame_samples = PIPELINE_SAMPLE_RATE * c->frame_ms / 1000;
  p->dtmf_duration_ms = c->dtmf_duration_ms;
  p->guard_ms = c->playout_guard_ms;
  p->played = PLAYOUT_SILENCE;

  /* opus.ts: VOIP application; bitrate, complexity, in-band FEC and expected loss. */
  int e = OPUS_OK;
  p->enc = opus_encoder_create(PIPELINE_SAMPLE_RATE, 1, OPUS_APPLICATION_VOIP, &e);
  if (!p->enc || e != OPUS_OK) return fail(p, err, err_len, "opus: cannot create an encoder", e);
  if ((e = opus_encoder_ctl(p->enc, OPUS_SET_BITRATE(c->bitrate))) != OPUS_OK ||
      (e = opus_encoder_ctl(p->enc, OPUS_SET_COMPLEXITY(c->complexity))) != OPUS_OK ||
      (e = opus_encoder_ctl(p->enc, OPUS_SET_INBAND_FEC(c->fec ? 1 : 0))) != OPUS_OK ||
      (e = opus_encoder_ctl(p->enc, OPUS_SET_PACKET_LOSS_PERC(c->packet_loss_percent))) !=
          OPUS_OK) {
    return fail(p, err, err_len, "opus: encoder settings", e);
  }
  p->dec = opus_decoder_create(PIPELINE_SAMPLE_RATE, 1, &e);
  if (!p->dec || e != OPUS_OK) return fail(p, err, err_len, "opus: cannot create a decoder", e);

  rtp_sender_init(&p->rtp, OPUS_PAYLOAD_TYPE, leg->ssrc, leg->sequence, leg->timestamp);
  dtmf_sender_init(&p->dtmf_out, &p->rtp, DTMF_PAYLOAD_TYPE, (uint32_t)c->frame_ms,
                   PIPELINE_SAMPLE_RATE, 10);
  dtmf_receiver_init(&p->dtmf_in);
  if (leg->srtp) {
    p->srtp_out = srtp_sender_new(leg->srtp_send);
    p->srtp_in = srtp_receiver_new(leg->srtp_recv);
    if (!p->srtp_out || !p->srtp_in) return fail(p, err, err_len, "srtp: cannot set up", 0);
  }
  jitter_options jo = c->jitter;
  jo.frame_ms = c->frame_ms;
  jo.clock_rate = PIPELINE_SAMPLE_RATE;
  char jerr[160] = "";
  p->jb = jitter_new(&jo, jerr, sizeof jerr);
  if (!p->jb) {
    if (err_len) snprintf(err, err_len, "jitter: %s", jerr[0] ? jerr : "out of memory");
    return fail(p, err, 0, NULL, 0);
  }
  transit_init(&p->phase, PHASE_QUANTILE, PIPELINE_SAMPLE_RATE, 16, 0.5, 2000);
  p->event_end_at = -INFINITY;
  rate_init(&p->send_rate);
  rate_init(&p->recv_rate);
  return p;
}

int pipeline_frame_samples(const pipeline *p) { return p->frame_samples; }
double pipeline_frame_ms(const pipeline *p) { return p->frame_ms; }
double pipeline_received(const pipeline *p) { return p->received; }

bool pipeline_press_key(pipeline *p, char key) {
  return dtmf_sender_press(&p->dtmf_out, key, p->dtmf_duration_ms);
}

size_t pipeline_capture_frame(pipeline *p, const int16_t *pcm, double now, uint8_t *out,
                              size_t cap) {
  size_t len = dtmf_sender_tick(&p->dtmf_out, p->rtp_out, sizeof p->rtp_out);
  if (len == 0) {
    opus_int32 n = opus_encode(p->enc, pcm, p->frame_samples, p->opus_out, sizeof p->opus_out);
    if (n < 0) return 0;
    rate_add(&p->send_rate, (double)n, now);
    len = rtp_sender_next_audio(&p->rtp, p->opus_out, (size_t)n, (uint32_t)p->frame_samples,
                                p->rtp_out, sizeof p->rtp_out);
    if (len == 0) return 0;
  } else {
    rate_tick(&p->send_rate, now);
    /* The first packet of an event carries the marker bit (RFC 4733 2.5.1.1). */
    if (len > 1 && (p->rtp_out[1] & 0x80)) p->dtmf_sent++;
  }
  if (p->srtp_out) {
    len = srtp_protect(p->srtp_out, p->rtp_out, len, out, cap); /* [S-4] */
    if (len == 0) return 0;
  } else {
    if (len > cap) return 0;
    memcpy(out, p->rtp_out, len);
  }
  p->packets_sent++;
  p->bytes_sent += (double)len;
  return len;
}

/* A telephone-event packet: an empty placeholder in the jitter buffer for each new frame
 * slot it covers, otherwise just its sequence number (pipeline.ts' #placeEvent). */
static void place_event(pipeline *p, const rtp_packet *packet, double now) {
  telephone_event e;
  bool parsed = telephone_event_parse(packet->payload, packet->payload_len, &e);
  if (!p->has_event_ts || packet->timestamp != p->event_ts) {
    p->has_event_ts = true;
    p->event_ts = packet->timestamp;
    p->event_slots = 0;
    p->event_end_at = -INFINITY;
  }
  int slot = -1;
  if (parsed) {
    int covered = (int)ceil((double)e.duration / p->frame_samples);
    if (covered > p->event_slots) {
      slot = covered - 1;
      p->event_slots = covered;
    } else if (e.end && now - p->event_end_at >= p->frame_ms / 2) {
      slot = p->event_slots++;
    }
    if (e.end && slot >= 0) p->event_end_at = now;
  }
  if (slot < 0) {
    jitter_note_sequence(p->jb, packet->sequence); /* events share the audio's sequence space */
    return;
  }
  static const uint8_t no_audio[1] = {0};
  jitter_push(p->jb, packet->sequence,
              ts_add(packet->timestamp, (int64_t)slot * p->frame_samples), no_audio, 0, now,
              true, packet->ssrc);
}

bool pipeline_receive(pipeline *p, const uint8_t *datagram, size_t len,
                      const struct sockaddr_in *from, double now, char *key) {
  if (from->sin_port != p->remote.sin_port ||
      from->sin_addr.s_addr != p->remote.sin_addr.s_addr) {
    p->wrong_source++; /* [M-2] */
    return false;
  }
  const uint8_t *rtp = datagram;
  size_t rtp_len = len;
  if (p->srtp_in) {
    /* [S-5] Failed authentication and replays are dropped here, counted, never played. */
    srtp_result r = srtp_unprotect(p->srtp_in, datagram, len, p->clear, sizeof p->clear, &rtp_len);
    if (r != SRTP_OK) {
      if (r == SRTP_MALFORMED) p->invalid++;
      return false;
    }
    rtp = p->clear;
  }
  rtp_packet packet;
  if (!rtp_parse(rtp, rtp_len, &packet)) {
    p->invalid++; /* [M-2] */
    return false;
  }
  p->received++;
  if (packet.payload_type == OPUS_PAYLOAD_TYPE) {
    rate_add(&p->recv_rate, (double)packet.payload_len, now);
    transit_note(&p->phase, packet.ssrc, packet.timestamp, now);
    jitter_push(p->jb, packet.sequence, packet.timestamp, packet.payload, packet.payload_len,
                now, true, packet.ssrc);
    return false;
  }
  if (packet.payload_type == DTMF_PAYLOAD_TYPE) {
    place_event(p, &packet, now);
    char k = 0;
    if (!dtmf_receiver_push(&p->dtmf_in, &packet, &k)) return false;
    p->dtmf_received++;
    *key = k;
    return true;
  }
  p->unknown_payload++;
  return false;
}

static playout_kind conceal(pipeline *p, int16_t *pcm) {
  p->played = PLAYOUT_CONCEAL;
  int n = opus_decode(p->dec, NULL, 0, pcm, p->frame_samples, 0);
  if (n != p->frame_samples) memset(pcm, 0, (size_t)p->frame_samples * sizeof *pcm);
  return PLAYOUT_CONCEAL;
}

playout_kind pipeline_playout_frame(pipeline *p, double now, int16_t *pcm) {
  rate_tick(&p->recv_rate, now);
  rate_tick(&p->send_rate, now);
  jitter_pop_result slot;
  jitter_pop(p->jb, now, &slot);
  size_t frame_bytes = (size_t)p->frame_samples * sizeof *pcm;
  if (slot.kind == JB_EMPTY) {
    p->played = PLAYOUT_SILENCE;
    memset(pcm, 0, frame_bytes);
    return PLAYOUT_SILENCE;
  }
  if (slot.kind == JB_FRAME) {
    if (slot.len == 0) {
      p->event_concealed++; /* a telephone event's slot: concealed below */
    } else if (slot.len > INT32_MAX) {
      p->decode_errors++;
    } else {
      /* Decoded into a 120 ms buffer, then fitted to one frame (opus.ts, #fit). */
      int n = opus_decode(p->dec, slot.payload, (opus_int32)slot.len, p->decoded,
                          PIPELINE_MAX_DECODE_SAMPLES, 0);
      if (n >= 0) {
        p->played = PLAYOUT_FRAME;
        size_t got = (size_t)(n < p->frame_samples ? n : p->frame_samples);
        memcpy(pcm, p->decoded, got * sizeof *pcm);
        if (got < (size_t)p->frame_samples) {
          memset(pcm + got, 0, ((size_t)p->frame_samples - got) * sizeof *pcm);
        }
        return PLAYOUT_FRAME;
      }
      p->decode_errors++;
    }
  }
  return conceal(p, pcm);
}

double pipeline_next_playout_at(const pipeline *p, double previous) {
  double frame = p->frame_ms;
  double nominal = previous + frame;
  double transit = transit_value(&p->phase);
  if (isnan(transit)) return nominal;
  double base = transit + p->guard_ms;
  /* Before the buffer plays, the next grid point comes at once, a quarter frame late. */
  if (p->played == PLAYOUT_SILENCE) {
    double start = base + frame / 4;
    return start + ceil((previous + MIN_TICK_GAP_MS - start) / frame) * frame;
  }
  double ideal = base + js_round((nominal - base) / frame) * frame;
  double step = frame / 4;
  return nominal + fmax(-step, fmin(step, ideal - nominal));
}

void pipeline_get_stats(const pipeline *p, pipeline_stats *o) {
  jitter_stats jb;
  jitter_get_stats(p->jb, &jb);
  o->packets_sent = p->packets_sent;
  o->bytes_sent = p->bytes_sent;
  o->received = p->received;
  o->lost = jb.lost;
  o->late = jb.late;
  o->concealed = jb.concealed + p->decode_errors + p->event_concealed;
  o->duplicates = jb.duplicates;
  o->wrong_source = p->wrong_source;
  o->invalid = p->invalid;
  o->srtp = p->srtp_in != NULL;
  o->srtp_auth_failed = 0;
  o->srtp_replayed = 0;
  if (p->srtp_in) srtp_receiver_counts(p->srtp_in, &o->srtp_auth_failed, &o->srtp_replayed);
  o->unknown_payload = p->unknown_payload;
  o->decode_errors = p->decode_errors;
  o->dtmf_sent = p->dtmf_sent;
  o->dtmf_received = p->dtmf_received;
  o->jitter_ms = jb.jitter_ms;
  o->depth_ms = jb.depth_ms;
  o->target_ms = jb.target_ms;
  o->bitrate = p->recv_rate.rate;
  o->send_bitrate = p->send_rate.rate;
}
