/*
 * target.ts of device/media/jitter/: JitterTarget, the jitter buffer's target depth
 * (jitter_impl.h): the RFC 3550 jitter, a window of transits and its 95th percentile, a
 * target raised at once and lowered only after 10 s of lower need.
 */
#include <stdlib.h>
#include <string.h>

#include "jitter_impl.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define PERCENTILE 0.95
#define RECOMPUTE_EVERY 16
#define WARMUP_MS 1000
#define JITTER_GAIN (1.0 / 16)
#define TARGET_HOLD_MS 10000

/* The window's limit: refused beyond, see jitter.h. */
#define MAX_WINDOW (1u << 20)

/*
 * The window is a ring of transits (as in the TS) plus the same values kept sorted, in the
 * order a Float64Array's sort() gives (-0 before +0, NaN last): each packet removes the value
 * it overwrites and inserts its own (binary search + memmove), so the recompute reads the
 * TS's sorted[] without sorting.
 */

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

const char *jtarget_init(jtarget *t, const jitter_options *o, double frame_ms,
                         double clock_rate) {
  t->frame_ms = frame_ms;
  t->clock_rate = clock_rate;
  t->min_frames = js_max(1, js_round(o->min_depth_ms / frame_ms));
  t->max_frames = js_max(t->min_frames, floor(o->max_depth_ms / frame_ms));
  t->initial_frames = jtarget_clamp(t, js_round(o->initial_depth_ms / frame_ms));
  t->target_frames = t->initial_frames;
  t->margin_ms = o->margin_ms;
  t->lower_since = -1;
  double window_len = js_max(16, js_round(o->window_ms / frame_ms));
  if (!(window_len <= MAX_WINDOW)) return "jitter: windowMs holds too many frames";
  t->win_size = (size_t)window_len;
  t->warmup_packets = js_min(window_len, ceil(WARMUP_MS / frame_ms));
  return NULL;
}

bool jtarget_alloc(jtarget *t) {
  t->window = calloc(t->win_size, sizeof(double));
  t->sorted = calloc(t->win_size, sizeof(double));
  return t->window && t->sorted;
}

void jtarget_free(jtarget *t) {
  free(t->window);
  free(t->sorted);
}

void jtarget_reset(jtarget *t, uint32_t timestamp) {
  t->ref_ts = timestamp;
  t->ref_ext = 0;
  t->has_transit = false;
  t->win_len = 0;
  t->win_pos = 0;
  t->since_recompute = 0;
}

double jtarget_sent_ms(const jtarget *t, uint32_t timestamp) {
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

double jtarget_note(jtarget *t, uint32_t timestamp, double arrival) {
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
