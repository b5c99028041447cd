/*
 * The adaptive jitter buffer and the transit percentile, in C: a faithful port of
 * device/media/jitter/ (buffer.ts, target.ts, level.ts, slots.ts, sequence.ts) and of
 * TransitPercentile (device/media/jitter/estimator.ts). Same options, same defaults, same
 * answers for the same inputs: test/native/media/jitter.test.ts runs both on the same traces.
 * Synchronous, time passed in (ms, doubles), nothing allocated after jitter_new().
 *
 * The one departure: a payload longer than JITTER_MAX_PAYLOAD is counted in `received` and
 * `discarded` and otherwise ignored, as if it never came (the TS would store and play it).
 * jitter_new() also refuses options the TS cannot run with (NaN, or more than 16384 frames
 * of maxDepthMs or 2^20 of windowMs: the TS would hang or fail to allocate).
 */
#ifndef BABEL_JITTER_H
#define BABEL_JITTER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload a slot holds; a longer one is refused (JB_DISCARDED). */
#define JITTER_MAX_PAYLOAD 1500

typedef struct {
  double frame_ms;        /* 20 */
  uint32_t clock_rate;    /* 48000 */
  double min_depth_ms;    /* default: frame_ms */
  double max_depth_ms;    /* 200 */
  double initial_depth_ms; /* 60 */
  double margin_ms;       /* 10 */
  double window_ms;       /* 10000 */
  double max_underrun_ms; /* 200 */
  double max_drop_wait_ms; /* 1000 */
} jitter_options;

/* Fills `o` with the TypeScript defaults for frames of `frame_ms` (min_depth_ms = frame_ms). */
void jitter_options_default(jitter_options *o, double frame_ms);

typedef struct jitter jitter;

/* NULL for options the TS constructor refuses (message in err) or no memory. */
jitter *jitter_new(const jitter_options *o, char *err, size_t err_len);
void jitter_free(jitter *jb);

typedef enum { JB_OK, JB_DUPLICATE, JB_LATE, JB_RESET, JB_DISCARDED } jitter_push_result;

/* push(): the payload is copied. `has_ssrc` false is the TS `ssrc: undefined`. The
 * isQuiet of the C buffer is the TS default: payload length <= 2. */
jitter_push_result jitter_push(jitter *jb, uint16_t sequence, uint32_t timestamp,
                               const uint8_t *payload, size_t len, double arrival_ms,
                               bool has_ssrc, uint32_t ssrc);
void jitter_note_sequence(jitter *jb, uint16_t sequence);

typedef enum { JB_EMPTY, JB_FRAME, JB_CONCEAL } jitter_pop_kind;

typedef struct {
  jitter_pop_kind kind;
  const uint8_t *payload; /* JB_FRAME: valid until the next push or pop */
  size_t len;
  uint16_t sequence;
  uint32_t timestamp;
} jitter_pop_result;

void jitter_pop(jitter *jb, double now_ms, jitter_pop_result *out);

typedef struct {
  double received, lost, late, concealed, duplicates, discarded, dropped, inserted, underruns,
      resets;
  double jitter_ms, depth_ms, target_ms;
} jitter_stats;

void jitter_get_stats(const jitter *jb, jitter_stats *out);

/* TransitPercentile: the struct is public so it can be embedded; use the functions. */
typedef struct {
  double q, ms_per_tick, step_up, step_down, reset_ms;
  int start_packets;
  bool has_ssrc;
  uint32_t ssrc, ref_ts;
  double ref_ext, value; /* value: NAN before the first packet */
  double packets;
} transit_percentile;

/* Defaults of the TS options: clock_rate 48000, start_packets 16, step_ms 0.5, reset_ms 2000. */
void transit_init(transit_percentile *t, double q, uint32_t clock_rate, int start_packets,
                  double step_ms, double reset_ms);
void transit_note(transit_percentile *t, uint32_t ssrc, uint32_t timestamp, double arrival_ms);
static inline double transit_value(const transit_percentile *t) { return t->value; }

#endif
