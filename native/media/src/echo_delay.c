/*
 * DelayTracker, envelope, variation and estimateDelay of device/media/echo/delay.ts, line
 * by line: the same double arithmetic in the same order, so the estimates are bit-equal.
 * (No contraction into fused multiply-adds: GCC's ISO C mode, -std=c11, keeps it off; the
 * pragma below says so to clang.)
 */
#include "echo_delay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Samples per envelope block: 2 ms at 48 kHz. */
#define BLOCK (48 * DELAY_BLOCK_MS)
/* Below these variations the correlation would only measure ripple: no estimate. */
#define MIN_FAR_VARIATION 0.2
#define MIN_MIC_VARIATION 0.15

void delay_tracker_init(delay_tracker *t) { memset(t, 0, sizeof *t); }

/* The envelope of `n` samples into `env`: mean absolute value per block; the count. */
static int envelope(const int16_t *x, int n, double *env) {
  int blocks = n / BLOCK;
  for (int b = 0; b < blocks; b++) {
    double s = 0;
    for (int i = b * BLOCK; i < (b + 1) * BLOCK; i++) s += abs(x[i]);
    env[b] = s / BLOCK / 32768;
  }
  return blocks;
}

/* Appends `k` values at the end of `buf` (DELAY_LEN long), the oldest shifted out. */
static void shift_in(double *buf, const double *v, int k) {
  if (k >= DELAY_LEN) {
    memcpy(buf, v + (k - DELAY_LEN), DELAY_LEN * sizeof *buf);
    return;
  }
  memmove(buf, buf + k, (size_t)(DELAY_LEN - k) * sizeof *buf);
  memcpy(buf + (DELAY_LEN - k), v, (size_t)k * sizeof *buf);
}

void delay_tracker_push(delay_tracker *t, const int16_t *far, const int16_t *mic, int n) {
  /* In chunks of whole blocks (the same values as one push of the whole: blocks align). */
  enum { CHUNK_BLOCKS = 10 };
  double f[CHUNK_BLOCKS];
  double m[CHUNK_BLOCKS];
  for (int at = 0; at < n; at += CHUNK_BLOCKS * BLOCK) {
    int len = n - at < CHUNK_BLOCKS * BLOCK ? n - at : CHUNK_BLOCKS * BLOCK;
    int k = envelope(far + at, len, f);
    envelope(mic + at, len, m);
    shift_in(t->far, f, k);
    shift_in(t->mic, m, k);
    t->filled = t->filled + k < DELAY_LEN ? t->filled + k : DELAY_LEN;
  }
}

/* How much an envelope moves: its standard deviation over its mean (0 for silence). */
static double variation(const double *env, int len) {
  double mean = 0;
  for (int i = 0; i < len; i++) mean += env[i];
  mean /= len > 1 ? len : 1;
  if (mean <= 0) return 0;
  double s = 0;
  for (int i = 0; i < len; i++) s += (env[i] - mean) * (env[i] - mean);
  return sqrt(s / len) / mean;
}

/* Running sums of x[0..n) (or of its squares): out[k] is the sum of the first k. */
static void prefix(const double *x, int n, bool squares, double *out) {
  out[0] = 0;
  for (int i = 0; i < n; i++) out[i + 1] = out[i] + (squares ? x[i] * x[i] : x[i]);
}

/* estimateDelay over `n` values of each (n <= DELAY_LEN). */
static bool estimate_delay(delay_tracker *t, const double *far, const double *mic, int n,
                           double max_lag_ms, double block_ms, delay_estimate *out) {
  int max_lag = (int)floor(max_lag_ms / block_ms);
  if (n - 1 < max_lag) max_lag = n - 1;
  if (max_lag < 0) return false;
  if (variation(far, n) < MIN_FAR_VARIATION) return false;
  if (variation(mic, n) < MIN_MIC_VARIATION) return false;
  double *pf = t->pf, *pff = t->pff, *pm = t->pm, *pmm = t->pmm;
  prefix(far, n, false, pf);
  prefix(far, n, true, pff);
  prefix(mic, n, false, pm);
  prefix(mic, n, true, pmm);
  double best = -1;
  int best_lag = 0;
  for (int lag = 0; lag <= max_lag; lag++) {
    int len = n - lag;
    /* far[0, len) against mic[lag, n) */
    double sf = pf[len];
    double sm = pm[n] - pm[lag];
    double cross = 0;
    for (int i = 0; i < len; i++) cross += far[i] * mic[i + lag];
    double sfm = cross - (sf * sm) / len;
    double sff = pff[len] - (sf * sf) / len;
    double smm = pmm[n] - pmm[lag] - (sm * sm) / len;
    if (sff < 1e-12 * len || smm < 1e-12 * len) continue;
    double r = sfm / sqrt(sff * smm);
    if (r > best) {
      best = r;
      best_lag = lag;
    }
  }
  if (best < 0) return false;
  out->delay_ms = best_lag * block_ms;
  out->confidence = best;
  return true;
}

bool delay_tracker_estimate(delay_tracker *t, delay_estimate *out) {
  if (t->filled * DELAY_BLOCK_MS < DELAY_MAX_LAG_MS + 100) return false;
  int from = DELAY_LEN - t->filled;
  return estimate_delay(t, t->far + from, t->mic + from, t->filled, DELAY_MAX_LAG_MS,
                        DELAY_BLOCK_MS, out);
}
