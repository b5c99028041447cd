/*
 * The adaptive jitter buffer of jitter.h: a line-by-line port of device/media/jitter/
 * buffer.ts (the buffer), target.ts (the target depth), level.ts (the level control),
 * slots.ts (the packet ring) and sequence.ts (RFC 3550 A.1 bookkeeping). The TS files
 * explain the why; the comments here only say which TS part a C part is.
 *
 * Arithmetic: every TS `number` is a double here and every expression keeps the TS order
 * of operations, so the gauges match bit for bit (no FMA contraction, see below; checked
 * on arm64). Math.round/min/max, `| 0` and `>>> 0` have exact equivalents (js_*).
 * Memory: everything is allocated in jitter_new().
 */
#include "jitter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seq.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* --- JS number semantics ------------------------------------------------------------ */

/* Math.round: to the nearest integer, halves towards +Infinity (exact for every double). */
static double js_round(double x) {
  double r = floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}
/* Math.max / Math.min: NaN wins, +0 is above -0. */
static double js_max(double a, double b) {
  if (isnan(a) || isnan(b)) return NAN;
  if (a == b) return signbit(a) ? b : a;
  return a > b ? a : b;
}
static double js_min(double a, double b) {
  if (isnan(a) || isnan(b)) return NAN;
  if (a == b) return signbit(a) ? a : b;
  return a < b ? a : b;
}
/* `x >>> 0` for an integer-valued double (ToUint32). */
static uint32_t js_uint32(double x) {
  if (!isfinite(x)) return 0;
  double m = fmod(trunc(x), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (uint32_t)m;
}

/* --- sequence.ts: JitterSequence ----------------------------------------------------- */

#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define HISTORY 512

typedef struct {
  int32_t history[HISTORY];
  bool started;
  int max_seq, base_seq;
  double cycles, unique_received, lost_before;
} jseq;

static bool in_sequence_window(int d) { return d >= -MAX_MISORDER && d <= MAX_DROPOUT; }

static double jseq_expected(const jseq *s) {
  return s->cycles + s->max_seq - s->base_seq + 1;
}

static void jseq_count(jseq *s, int seq, int d) {
  if (d > 0) {
    if (seq < s->max_seq) s->cycles += 0x10000;
    s->max_seq = seq;
  }
  s->history[seq & (HISTORY - 1)] = seq + 1;
  s->unique_received++;
}

static void jseq_start(jseq *s, int seq) {
  if (s->started) s->lost_before += js_max(0, jseq_expected(s) - s->unique_received);
  s->started = true;
  s->base_seq = seq;
  s->max_seq = seq;
  s->cycles = 0;
  s->unique_received = 0;
  memset(s->history, 0, sizeof s->history);
  jseq_count(s, seq, 0);
}

static bool jseq_is_duplicate(const jseq *s, int seq) {
  return s->history[seq & (HISTORY - 1)] == seq + 1;
}

static int jseq_distance(const jseq *s, int seq) {
  return seq_diff((uint16_t)seq, (uint16_t)s->max_seq);
}

static double jseq_lost(const jseq *s) {
  double lost_now = s->started ? jseq_expected(s) - s->unique_received : 0;
  return s->lost_before + js_max(0, lost_now);
}

/* --- slots.ts: JitterSlots (payloads copied into preallocated storage) --------------- */

typedef struct {
  int64_t id;
  bool used; /* the TS NaN id is !used */
  uint16_t seq;
  uint32_t ts;
  size_t len;
} jslot;

typedef struct {
  uint64_t mask;
  jslot *slot;
  uint8_t *data; /* (mask + 1) * JITTER_MAX_PAYLOAD */
  size_t count;
} jslots;

static size_t jslots_idx(const jslots *s, int64_t slot) {
  return (size_t)((uint64_t)slot & s->mask);
}

static bool jslots_has(const jslots *s, int64_t slot) {
  const jslot *e = &s->slot[jslots_idx(s, slot)];
  return e->used && e->id == slot;
}

static void jslots_store(jslots *s, int64_t slot, uint16_t seq, uint32_t ts, const uint8_t *p,
                         size_t len) {
  size_t idx = jslots_idx(s, slot);
  jslot *e = &s->slot[idx];
  if (!e->used) s->count++;
  e->used = true;
  e->id = slot;
  e->seq = seq;
  e->ts = ts;
  e->len = len;
  if (len > 0) memcpy(s->data + idx * JITTER_MAX_PAYLOAD, p, len);
}

static const uint8_t *jslots_payload(const jslots *s, int64_t slot) {
  return s->data + jslots_idx(s, slot) * JITTER_MAX_PAYLOAD;
}

static void jslots_clear(jslots *s, int64_t slot) {
  jslot *e = &s->slot[jslots_idx(s, slot)];
  if (e->used) s->count--;
  e->used = false;
}

static void jslots_clear_all(jslots *s) {
  for (uint64_t i = 0; i <= s->mask; i++) jslots_clear(s, (int64_t)i);
}

/* --- target.ts: JitterTarget --------------------------------------------------------- */

#define PERCENTILE 0.95
#define RECOMPUTE_EVERY 16
#define WARMUP_MS 1000
#define JITTER_GAIN (1.0 / 16)
#define TARGET_HOLD_MS 10000

/*
 * The window is a ring of transits (as in the TS) plus the same values kept sorted, in the
 * order a Float64Array's sort() gives (-0 before +0, NaN last): each packet removes the value
 * it overwrites and inserts its own (binary search + memmove), so the recompute reads the
 * TS's sorted[] without sorting.
 */
typedef struct {
  double frame_ms, clock_rate;
  double min_frames, max_frames, initial_frames, margin_ms, warmup_packets;
  uint32_t ref_ts;
  double ref_ext;
  bool has_transit;
  double last_transit, jitter_ms;
  double *window, *sorted;
  size_t win_size, win_len, win_pos;
  int since_recompute;
  double target_frames, lower_since;
} jtarget;

/* Whether a sorts strictly before b in TypedArray sort order. */
static bool sorts_before(double a, double b) {
  if (isnan(a)) return false;
  if (isnan(b)) return true;
  if (a != b) return a < b;
  return signbit(a) && !signbit(b);
}

/* First index whose value does not sort before x. */
static size_t lower_bound(const double *v, size_t n, double x) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (sorts_before(v[mid], x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static void sorted_remove(jtarget *t, double x) {
  size_t i = lower_bound(t->sorted, t->win_len, x);
  if (i >= t->win_len) i = t->win_len - 1; /* cannot happen: x is in the window */
  memmove(t->sorted + i, t->sorted + i + 1, (t->win_len - i - 1) * sizeof(double));
}

static void sorted_insert(jtarget *t, size_t n, double x) {
  size_t i = lower_bound(t->sorted, n, x);
  memmove(t->sorted + i + 1, t->sorted + i, (n - i) * sizeof(double));
  t->sorted[i] = x;
}

static double jtarget_clamp(const jtarget *t, double frames) {
  return js_min(t->max_frames, js_max(t->min_frames, frames));
}

static double jtarget_frames_for(const jtarget *t, double need_ms, size_t n) {
  double frames = jtarget_clamp(t, 1 + ceil(need_ms / t->frame_ms - 1e-9));
  return (double)n < t->warmup_packets ? js_max(frames, t->initial_frames) : frames;
}

static void jtarget_reset(jtarget *t, uint32_t timestamp) {
  t->ref_ts = timestamp;
  t->ref_ext = 0;
  t->has_transit = false;
  t->win_len = 0;
  t->win_pos = 0;
  t->since_recompute = 0;
}

static double jtarget_sent_ms(const jtarget *t, uint32_t timestamp) {
  return ((t->ref_ext + ts_diff(timestamp, t->ref_ts)) * 1000) / t->clock_rate;
}

static void jtarget_recompute(jtarget *t, double now) {
  size_t n = t->win_len;
  double min = t->sorted[0];
  double p95 = t->sorted[(size_t)floor(PERCENTILE * (double)(n - 1))];
  double need = js_max(p95 - min, 2 * t->jitter_ms) + t->margin_ms;
  double frames = jtarget_frames_for(t, need, n);
  if (frames >= t->target_frames) {
    t->target_frames = frames;
    t->lower_since = -1;
    return;
  }
  if (jtarget_frames_for(t, need + js_min(need, t->frame_ms / 2), n) >= t->target_frames) {
    t->lower_since = -1;
  } else if (t->lower_since < 0) {
    t->lower_since = now;
  } else if (now - t->lower_since >= TARGET_HOLD_MS) {
    t->target_frames = frames;
    t->lower_since = -1;
  }
}

static double jtarget_note(jtarget *t, uint32_t timestamp, double arrival) {
  double ext = t->ref_ext + ts_diff(timestamp, t->ref_ts);
  if (ext > t->ref_ext) {
    t->ref_ext = ext;
    t->ref_ts = timestamp;
  }
  double transit = arrival - (ext * 1000) / t->clock_rate;
  if (t->has_transit) {
    double delta = fabs(transit - t->last_transit);
    t->jitter_ms += (delta - t->jitter_ms) * JITTER_GAIN;
  }
  t->has_transit = true;
  t->last_transit = transit;

  size_t n = t->win_len;
  if (n == t->win_size) {
    sorted_remove(t, t->window[t->win_pos]);
    n--;
  }
  sorted_insert(t, n, transit);
  t->window[t->win_pos] = transit;
  t->win_pos = t->win_pos + 1 == t->win_size ? 0 : t->win_pos + 1;
  if (t->win_len < t->win_size) t->win_len++;
  if (++t->since_recompute >= RECOMPUTE_EVERY) {
    t->since_recompute = 0;
    jtarget_recompute(t, arrival);
  }
  return transit;
}

/* --- level.ts: LevelControl ---------------------------------------------------------- */

#define LEVEL_TAU_MS 1000
#define HYSTERESIS 0.75
#define COOLDOWN_MS 250

typedef struct {
  double alpha, max_drop_wait_ms, ema, cooldown_until, drop_since;
} jlevel;

static void jlevel_start(jlevel *c, double now, double level) {
  c->ema = level;
  c->cooldown_until = now + COOLDOWN_MS;
  c->drop_since = -1;
}

static void jlevel_sample(jlevel *c, double level) { c->ema += (level - c->ema) * c->alpha; }

static bool jlevel_insert_due(jlevel *c, double now, double level, double target) {
  if (now >= c->cooldown_until && c->drop_since < 0) {
    if (c->ema >= target + HYSTERESIS && level >= 2) {
      c->drop_since = now;
    } else if (c->ema <= target - HYSTERESIS) {
      c->ema += 1;
      c->cooldown_until = now + COOLDOWN_MS;
      return true;
    }
  }
  return false;
}

static bool jlevel_drop_due(jlevel *c, double level, double target, bool overflow) {
  if (c->drop_since < 0 && !overflow) return false;
  if (!overflow && (level < 2 || c->ema < target + HYSTERESIS - 0.5)) {
    c->drop_since = -1;
    return false;
  }
  return true;
}

static double jlevel_excess(const jlevel *c, double target) {
  return js_max(1, floor(c->ema - target));
}

static bool jlevel_waited_out(const jlevel *c, double now, double target) {
  double excess = jlevel_excess(c, target);
  return now - c->drop_since >= c->max_drop_wait_ms / (excess * excess);
}

static void jlevel_dropped(jlevel *c, double now, double target) {
  double excess = jlevel_excess(c, target);
  c->ema -= 1;
  c->drop_since = -1;
  c->cooldown_until = now + COOLDOWN_MS / excess;
}

/* --- buffer.ts: JitterBuffer --------------------------------------------------------- */

enum { STATE_IDLE, STATE_BUFFERING, STATE_PLAYING };

/* The ring's limit (4 x the largest level) and the window's: refused beyond, see jitter.h. */
#define MAX_RING 65536
#define MAX_WINDOW (1u << 20)

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

  /* JitterTarget's constructor. */
  jtarget *t = &jb->target;
  t->frame_ms = frame_ms;
  t->clock_rate = clock_rate;
  t->min_frames = js_max(1, js_round(o->min_depth_ms / frame_ms));
  t->max_frames = js_max(t->min_frames, floor(o->max_depth_ms / frame_ms));
  t->initial_frames = jtarget_clamp(t, js_round(o->initial_depth_ms / frame_ms));
  t->target_frames = t->initial_frames;
  t->margin_ms = o->margin_ms;
  t->lower_since = -1;
  double window_len = js_max(16, js_round(o->window_ms / frame_ms));
  if (!(window_len <= MAX_WINDOW)) {
    return fail(jb, err, err_len, "jitter: windowMs holds too many frames");
  }
  t->win_size = (size_t)window_len;
  t->warmup_packets = js_min(window_len, ceil(WARMUP_MS / frame_ms));
  jb->max_frames = t->max_frames;
  if (!(4 * jb->max_frames <= MAX_RING)) {
    return fail(jb, err, err_len, "jitter: maxDepthMs holds too many frames");
  }
  t->window = calloc(t->win_size, sizeof(double));
  t->sorted = calloc(t->win_size, sizeof(double));

  jb->max_underrun_ms = o->max_underrun_ms;
  jb->control.alpha = js_min(1, frame_ms / LEVEL_TAU_MS);
  jb->control.max_drop_wait_ms = o->max_drop_wait_ms;
  jb->control.drop_since = -1;

  size_t size = 64;
  while ((double)size < 4 * jb->max_frames) size *= 2;
  jb->slots.mask = size - 1;
  jb->slots.slot = calloc(size, sizeof(jslot));
  jb->slots.data = malloc(size * JITTER_MAX_PAYLOAD);
  if (!t->window || !t->sorted || !jb->slots.slot || !jb->slots.data) {
    return fail(jb, err, err_len, "jitter: out of memory");
  }
  jb->state = STATE_IDLE;
  return jb;
}

void jitter_free(jitter *jb) {
  if (!jb) return;
  free(jb->target.window);
  free(jb->target.sorted);
  free(jb->slots.slot);
  free(jb->slots.data);
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
