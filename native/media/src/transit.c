/*
 * TransitPercentile of jitter.h: a port of device/media/jitter/estimator.ts (which explains
 * the estimate). Doubles in the TS order of operations, so the value matches bit for bit.
 */
#include <math.h>
#include <string.h>

#include "jitter.h"
#include "seq.h"

/* No fused multiply-add (arm64 has it): the TS rounds every operation, so must we. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

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

void transit_init(transit_percentile *t, double q, uint32_t clock_rate, int start_packets,
                  double step_ms, double reset_ms) {
  memset(t, 0, sizeof *t);
  t->q = q;
  t->ms_per_tick = 1000.0 / clock_rate;
  t->start_packets = start_packets;
  t->step_up = step_ms * q;
  t->step_down = step_ms * (1 - q);
  t->reset_ms = reset_ms;
  t->has_ssrc = false; /* the TS's ssrc -1: the first packet always starts over */
  t->value = NAN;
  t->packets = 0;
}

static void transit_reset(transit_percentile *t, uint32_t ssrc, uint32_t timestamp) {
  t->has_ssrc = true;
  t->ssrc = ssrc;
  t->ref_ts = timestamp;
  t->ref_ext = 0;
  t->value = NAN;
  t->packets = 0;
}

void transit_note(transit_percentile *t, uint32_t ssrc, uint32_t timestamp, double arrival_ms) {
  if (!t->has_ssrc || ssrc != t->ssrc) transit_reset(t, ssrc, timestamp);
  double ext = t->ref_ext + ts_diff(timestamp, t->ref_ts);
  double transit = arrival_ms - ext * t->ms_per_tick;
  if (fabs(transit - t->value) > t->reset_ms) {
    transit_reset(t, ssrc, timestamp);
    ext = 0;
    transit = arrival_ms;
  }
  if (ext > t->ref_ext) {
    t->ref_ext = ext;
    t->ref_ts = timestamp;
  }
  double n = ++t->packets;
  double v = t->value;
  if (n <= t->start_packets) {
    t->value = n == 1 ? transit : v + (transit - v) / n;
  } else if (transit > v) {
    t->value = js_min(transit, v + t->step_up);
  } else if (transit < v) {
    t->value = js_max(transit, v - t->step_down);
  }
}
