/*
 * Private to the jitter buffer of jitter.h: what its files share. jitter.c is buffer.ts (the
 * buffer), jitter_sequence.c sequence.ts (RFC 3550 A.1 bookkeeping), jitter_slots.c slots.ts
 * (the packet ring), jitter_target.c target.ts (the target depth) and jitter_level.c level.ts
 * (the level control), all of device/media/jitter/. The TS files explain the why; the
 * comments here only say which TS part a C part is.
 *
 * Arithmetic: every TS `number` is a double here and every expression keeps the TS order
 * of operations, so the gauges match bit for bit (no FMA contraction, see below; checked
 * on arm64). Math.round/min/max, `| 0` and `>>> 0` have exact equivalents (js_*).
 * Memory: everything is allocated in jitter_new().
 */
#ifndef BABEL_JITTER_IMPL_H
#define BABEL_JITTER_IMPL_H
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jitter.h"
#include "seq.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. Here for
 * the helpers below (and so for the rest of every file that includes this one); each jitter
 * file that does arithmetic states it again after its includes. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* --- JS number semantics ------------------------------------------------------------ */

/* Math.round: to the nearest integer, halves towards +Infinity (exact for every double). */
static inline double js_round(double x) {
  double r = floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}
/* Math.max / Math.min: NaN wins, +0 is above -0. */
static inline double js_max(double a, double b) {
  if (isnan(a) || isnan(b)) return NAN;
  if (a == b) return signbit(a) ? b : a;
  return a > b ? a : b;
}
static inline double js_min(double a, double b) {
  if (isnan(a) || isnan(b)) return NAN;
  if (a == b) return signbit(a) ? a : b;
  return a < b ? a : b;
}
/* `x >>> 0` for an integer-valued double (ToUint32). */
static inline uint32_t js_uint32(double x) {
  if (!isfinite(x)) return 0;
  double m = fmod(trunc(x), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (uint32_t)m;
}

/* --- sequence.ts: JitterSequence (jitter_sequence.c) --------------------------------- */

#define JSEQ_MAX_DROPOUT 3000
#define JSEQ_MAX_MISORDER 100
#define JSEQ_HISTORY 512

typedef struct {
  int32_t history[JSEQ_HISTORY];
  bool started;
  int max_seq, base_seq;
  double cycles, unique_received, lost_before;
} jseq;

static inline bool in_sequence_window(int d) {
  return d >= -JSEQ_MAX_MISORDER && d <= JSEQ_MAX_DROPOUT;
}
static inline bool jseq_is_duplicate(const jseq *s, int seq) {
  return s->history[seq & (JSEQ_HISTORY - 1)] == seq + 1;
}
static inline int jseq_distance(const jseq *s, int seq) {
  return seq_diff((uint16_t)seq, (uint16_t)s->max_seq);
}

void jseq_count(jseq *s, int seq, int d);
void jseq_start(jseq *s, int seq);
double jseq_lost(const jseq *s);

/* --- slots.ts: JitterSlots, payloads copied into preallocated storage (jitter_slots.c) - */

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

static inline size_t jslots_idx(const jslots *s, int64_t slot) {
  return (size_t)((uint64_t)slot & s->mask);
}
static inline bool jslots_has(const jslots *s, int64_t slot) {
  const jslot *e = &s->slot[jslots_idx(s, slot)];
  return e->used && e->id == slot;
}
static inline const uint8_t *jslots_payload(const jslots *s, int64_t slot) {
  return s->data + jslots_idx(s, slot) * JITTER_MAX_PAYLOAD;
}

/* A ring of at least 64 slots and at least 4 x max_frames; false without memory (the
 * caller frees). */
bool jslots_alloc(jslots *s, double max_frames);
void jslots_free(jslots *s);
void jslots_store(jslots *s, int64_t slot, uint16_t seq, uint32_t ts, const uint8_t *p,
                  size_t len);
void jslots_clear(jslots *s, int64_t slot);
void jslots_clear_all(jslots *s);

/* --- target.ts: JitterTarget (jitter_target.c) --------------------------------------- */

/* The window keeps the transits in a ring and sorted: see jitter_target.c. */
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

/* JitterTarget's constructor, without the allocation: NULL, or the message of options it
 * refuses. */
const char *jtarget_init(jtarget *t, const jitter_options *o, double frame_ms,
                         double clock_rate);
/* The window; false without memory (the caller frees). */
bool jtarget_alloc(jtarget *t);
void jtarget_free(jtarget *t);
void jtarget_reset(jtarget *t, uint32_t timestamp);
double jtarget_sent_ms(const jtarget *t, uint32_t timestamp);
/* A packet's transit, noted (the jitter, the window, now and then a new target). */
double jtarget_note(jtarget *t, uint32_t timestamp, double arrival);

/* --- level.ts: LevelControl (jitter_level.c) ----------------------------------------- */

typedef struct {
  double alpha, max_drop_wait_ms, ema, cooldown_until, drop_since;
} jlevel;

void jlevel_init(jlevel *c, double frame_ms, double max_drop_wait_ms);
void jlevel_start(jlevel *c, double now, double level);
void jlevel_sample(jlevel *c, double level);
bool jlevel_insert_due(jlevel *c, double now, double level, double target);
bool jlevel_drop_due(jlevel *c, double level, double target, bool overflow);
bool jlevel_waited_out(const jlevel *c, double now, double target);
void jlevel_dropped(jlevel *c, double now, double target);

#endif
