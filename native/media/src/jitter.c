/*
 * The adaptive jitter buffer of jitter.h: a line-by-line port of device/media/jitter/
 * buffer.ts. Its parts are in their own files, as in the TS: jitter_target.c (target.ts, the
 * target depth), jitter_level.c (level.ts, the level control), jitter_slots.c (slots.ts, the
 * packet ring) and jitter_sequence.c (sequence.ts, RFC 3550 A.1 bookkeeping); jitter_impl.h
 * is what they share and says how the arithmetic matches the TS bit for bit. The TS files
 * explain the why; the comments here only say which TS part a C part is.
 * Memory: everything is allocated in jitter_new().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jitter_impl.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

enum { STATE_IDLE, STATE_BUFFERING, STATE_PLAYING };

/* The ring's limit (4 x the largest level): refused beyond, see jitter.h. */
#define MAX_RING 65536

typedef struct {
  uint16_t sequence;
  uint32_t timestamp;
  const uint8_t *payload;
  size_t len;
  double arrival;
  bool has_ssrc;
  uint32_t ssrc;
} jpacket;

struct jitter {
  double frame_ms, frame_samples, max_frames, max_underrun_ms;
  jslots slots;
  jseq sequence;
  jtarget target;
  jlevel control;

  int state;
  bool has_ssrc;
  uint32_t ssrc;
  int64_t play_slot, highest_slot;
  uint32_t play_ts;
  double start_transit, start_count;

  bool probation;
  uint16_t prob_seq;
  jpacket prob_packet; /* its payload points at prob_payload */
  uint8_t prob_payload[JITTER_MAX_PAYLOAD];

  double underrun_ms;
  double received, late, concealed, duplicates, discarded, dropped, inserted, underruns, resets;
};

void jitter_options_default(jitter_options *o, double frame_ms) {
  o->frame_ms = frame_ms;
  o->clock_rate = 48000;
  o->min_depth_ms = frame_ms;
  o->max_depth_ms = 200;
  o->initial_depth_ms = 60;
  o->margin_ms = 10;
  o->window_ms = 10000;
  o->max_underrun_ms = 200;
  o->max_drop_wait_ms = 1000;
}

static jitter *fail(jitter *jb, char *err, size_t err_len, const char *msg) {
  if (err && err_len > 0) snprintf(err, err_len, "%s", msg);
  jitter_free(jb);
  return NULL;
}

jitter *jitter_new(const jitter_options *o, char *err, size_t err_len) {
  double frame_ms = o->frame_ms, clock_rate = o->clock_rate;
  double samples = (clock_rate * frame_ms) / 1000;
  if (!(frame_ms > 0) || !(clock_rate > 0) || !isfinite(samples) || floor(samples) != samples) {
    return fail(NULL, err, err_len,
                "jitter: frameMs and clockRate must give a whole number of samples");
  }
  if (isnan(o->min_depth_ms) || isnan(o->max_depth_ms) || isnan(o->initial_depth_ms) ||
      isnan(o->margin_ms) || isnan(o->window_ms) || isnan(o->max_underrun_ms) ||
      isnan(o->max_drop_wait_ms)) {
    return fail(NULL, err, err_len, "jitter: options must be numbers, not NaN");
  }
  jitter *jb = calloc(1, sizeof *jb);
  if (!jb) return fail(NULL, err, err_len, "jitter: out of memory");
  jb->frame_ms = frame_ms;
  jb->frame_samples = samples;

  jtarget *t = &jb->target;
  const char *refused = jtarget_init(t, o, frame_ms, clock_rate);
  if (refused) return fail(jb, err, err_len, refused);
  jb->max_frames = t->max_frames;
  if (!(4 * jb->max_frames <= MAX_RING)) {
    return fail(jb, err, err_len, "jitter: maxDepthMs holds too many frames");
  }
  jb->max_underrun_ms = o->max_underrun_ms;
  jlevel_init(&jb->control, frame_ms, o->max_drop_wait_ms);
  if (!jtarget_alloc(t) || !jslots_alloc(&jb->slots, jb->max_frames)) {
    return fail(jb, err, err_len, "jitter: out of memory");
  }
  jb->state = STATE_IDLE;
  return jb;
}

void jitter_free(jitter *jb) {
  if (!jb) return;
  jtarget_free(&jb->target);
  jslots_free(&jb->slots);
  free(jb);
}

static double level_of(const jitter *jb) {
  return jb->slots.count > 0 && jb->highest_slot >= jb->play_slot
             ? (double)(jb->highest_slot - jb->play_slot + 1)
             : 0;
}

static void store(jitter *jb, const jpacket *p, int64_t slot) {
  jslots_store(&jb->slots, slot, p->sequence, p->timestamp, p->payload, p->len);
  if (slot > jb->highest_slot) jb->highest_slot = slot;
}

static void advance(jitter *jb) {
  jb->play_slot++;
  jb->play_ts = js_uint32((double)jb->play_ts + jb->frame_samples);
}

static double note_timing(jitter *jb, const jpacket *p) {
  double transit = jtarget_note(&jb->target, p->timestamp, p->arrival);
  if (jb->state == STATE_BUFFERING) {
    jb->start_transit += transit;
    jb->start_count++;
  }
  return transit;
}

static void start_stream(jitter *jb, const jpacket *p) {
  jb->has_ssrc = p->has_ssrc;
  jb->ssrc = p->ssrc;
  jb->state = STATE_BUFFERING;
  jseq_start(&jb->sequence, p->sequence);
  jb->probation = false;
  jtarget_reset(&jb->target, p->timestamp);
  jb->play_slot = 0;
  jb->play_ts = p->timestamp;
  jb->highest_slot = 0;
  jb->start_transit = 0;
  jb->start_count = 0;
  note_timing(jb, p);
  store(jb, p, 0);
}

static void restart(jitter *jb, const jpacket *p) {
  jb->resets++;
  jslots_clear_all(&jb->slots);
  start_stream(jb, p);
}

static jitter_push_result push_packet(jitter *jb, const jpacket *p);

static jitter_push_result stray_or_restart(jitter *jb, const jpacket *p) {
  if (jb->probation && p->sequence == seq_add(jb->prob_seq, 1)) {
    jb->discarded--;
    restart(jb, &jb->prob_packet);
    jb->received--;
    push_packet(jb, p);
    return JB_RESET;
  }
  jb->probation = true;
  jb->prob_seq = p->sequence;
  jb->prob_packet = *p;
  if (p->len > 0) memcpy(jb->prob_payload, p->payload, p->len);
  jb->prob_packet.payload = jb->prob_payload;
  jb->discarded++;
  return JB_DISCARDED;
}

static jitter_push_result push_packet(jitter *jb, const jpacket *p) {
  jb->received++;
  if (jb->state == STATE_IDLE) {
    start_stream(jb, p);
    return JB_OK;
  }
  if (p->has_ssrc && jb->has_ssrc && p->ssrc != jb->ssrc) {
    restart(jb, p);
    return JB_RESET;
  }
  int seq = p->sequence;
  if (jseq_is_duplicate(&jb->sequence, seq)) {
    jb->duplicates++;
    return JB_DUPLICATE;
  }
  int d = jseq_distance(&jb->sequence, seq);
  if (!in_sequence_window(d)) return stray_or_restart(jb, p);
  jb->probation = false;

  double off = js_round(ts_diff(p->timestamp, jb->play_ts) / jb->frame_samples);
  double size = (double)(jb->slots.mask + 1);
  if (off >= size || (off <= -size && d > 0)) {
    if (d > 0) {
      restart(jb, p);
      return JB_RESET;
    }
    jb->discarded++;
    return JB_DISCARDED;
  }
  int64_t offset = (int64_t)off; /* |off| <= 2^31: ts_diff / frame_samples, samples >= 1 */

  jseq_count(&jb->sequence, seq, d);
  double transit = note_timing(jb, p);

  if (jb->state == STATE_BUFFERING && jb->slots.count == 0) {
    jb->play_slot += offset;
    jb->play_ts = p->timestamp;
    jb->highest_slot = jb->play_slot;
    jb->start_transit = transit;
    jb->start_count = 1;
    store(jb, p, jb->play_slot);
    return JB_OK;
  }
  int64_t slot = jb->play_slot + offset;
  if (offset < 0) {
    if (jb->state != STATE_BUFFERING || (double)(jb->highest_slot - slot) >= size) {
      jb->late++;
      return JB_LATE;
    }
    jb->play_slot = slot;
    jb->play_ts = js_uint32((double)jb->play_ts + off * jb->frame_samples);
  } else if (jslots_has(&jb->slots, slot)) {
    jb->duplicates++;
    return JB_DUPLICATE;
  }
  store(jb, p, slot);
  return JB_OK;
}

jitter_push_result jitter_push(jitter *jb, uint16_t sequence, uint32_t timestamp,
                               const uint8_t *payload, size_t len, double arrival_ms,
                               bool has_ssrc, uint32_t ssrc) {
  if (len > JITTER_MAX_PAYLOAD || (len > 0 && !payload)) {
    /* The one departure from the TS (which would store and play it): see jitter.h. */
    jb->received++;
    jb->discarded++;
    return JB_DISCARDED;
  }
  jpacket p = {sequence, timestamp, payload, len, arrival_ms, has_ssrc, has_ssrc ? ssrc : 0};
  return push_packet(jb, &p);
}

void jitter_note_sequence(jitter *jb, uint16_t sequence) {
  if (jb->state == STATE_IDLE) return;
  if (jseq_is_duplicate(&jb->sequence, sequence)) return;
  int d = jseq_distance(&jb->sequence, sequence);
  if (!in_sequence_window(d)) return;
  jseq_count(&jb->sequence, sequence, d);
}

static bool ready_to_start(const jitter *jb, double now) {
  if (jb->slots.count == 0 || jb->start_count == 0) return false;
  if (level_of(jb) > jb->max_frames) return true;
  double sent_ms = jtarget_sent_ms(&jb->target, jb->play_ts);
  double transit = jb->start_transit / jb->start_count;
  return now >= sent_ms + transit + (jb->target.target_frames - 1) * jb->frame_ms;
}

void jitter_pop(jitter *jb, double now, jitter_pop_result *out) {
  memset(out, 0, sizeof *out);
  if (jb->state != STATE_PLAYING) {
    if (jb->state != STATE_BUFFERING || !ready_to_start(jb, now)) {
      out->kind = JB_EMPTY;
      return;
    }
    jb->state = STATE_PLAYING;
    jlevel_start(&jb->control, now, level_of(jb));
    jb->underrun_ms = 0;
  }

  double level = level_of(jb);
  jlevel_sample(&jb->control, level);

  if (level == 0) {
    jb->underrun_ms += jb->frame_ms;
    if (jb->underrun_ms > jb->max_underrun_ms) {
      jb->state = STATE_BUFFERING;
      out->kind = JB_EMPTY;
      return;
    }
    jb->underruns++;
    jb->concealed++;
    out->kind = JB_CONCEAL;
    return;
  }
  jb->underrun_ms = 0;

  double target = jb->target.target_frames;
  if (jlevel_insert_due(&jb->control, now, level, target)) {
    jb->inserted++;
    jb->concealed++;
    out->kind = JB_CONCEAL;
    return;
  }

  bool overflow = level > 2 * jb->max_frames;
  if (jlevel_drop_due(&jb->control, level, target, overflow)) {
    bool held = jslots_has(&jb->slots, jb->play_slot);
    if (overflow || !held || jb->slots.slot[jslots_idx(&jb->slots, jb->play_slot)].len <= 2 ||
        jlevel_waited_out(&jb->control, now, target)) {
      if (held) jslots_clear(&jb->slots, jb->play_slot);
      advance(jb);
      jb->dropped++;
      jlevel_dropped(&jb->control, now, target);
    }
  }

  int64_t slot = jb->play_slot;
  if (jslots_has(&jb->slots, slot)) {
    const jslot *e = &jb->slots.slot[jslots_idx(&jb->slots, slot)];
    out->kind = JB_FRAME;
    out->payload = jslots_payload(&jb->slots, slot);
    out->len = e->len;
    out->sequence = e->seq;
    out->timestamp = e->ts;
    jslots_clear(&jb->slots, slot);
  } else {
    jb->concealed++;
    out->kind = JB_CONCEAL;
  }
  advance(jb);
}

void jitter_get_stats(const jitter *jb, jitter_stats *out) {
  out->received = jb->received;
  out->lost = jseq_lost(&jb->sequence);
  out->late = jb->late;
  out->concealed = jb->concealed;
  out->duplicates = jb->duplicates;
  out->discarded = jb->discarded;
  out->dropped = jb->dropped;
  out->inserted = jb->inserted;
  out->underruns = jb->underruns;
  out->resets = jb->resets;
  out->jitter_ms = jb->target.jitter_ms;
  out->depth_ms = level_of(jb) * jb->frame_ms;
  out->target_ms = jb->target.target_frames * jb->frame_ms;
}
