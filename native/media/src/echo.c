/*
 * The device's echo control (echo.h): a line-by-line port of device/media/echo/control.ts
 * with reference.ts (FarReference), duck.ts (Ducker) and gain.ts; delay.ts is
 * echo_delay.c. The speexdsp chain is native/dsp/src/dsp_core.c, compiled in.
 *
 * Parity with the TypeScript: time and positions are doubles and int64 holding the same
 * integers JS holds; Math.round is js_round() below (exact, including x.5 and the doubles
 * just under it); writeInt16LE's coercion is to_i16(). Math.pow and Math.log10 are libm's
 * here and V8's fdlibm ports there: they may differ in the last bit for some arguments,
 * which changes a rounded sample only when it falls within about 2^-36 of a half; the
 * differential test compares every output sample.
 */
#include "echo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dsp/src/dsp_core.h"
#include "echo_delay.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define RATE_PER_MS 48
#define MAX_FRAME DSP_CORE_MAX_FRAME

/* The echo path the adaptive filter models past the aligned reference. */
#define TAIL_MS 100
/* The reference leads the measured echo by this much (estimation error, early sound). */
#define MARGIN_MS 20
/* The measured echo may fall this far after the reference; outside [0, REACH_MS] the
 * reference moves (and the filter starts again). */
#define REACH_MS (TAIL_MS / 2)
/* Two measurements in a row within this of each other are needed to move the reference. */
#define AGREE_MS 4
/* Correlation a delay measurement needs to be believed. */
#define MIN_CONFIDENCE 0.6
/* How often the delay is measured: until the first measurement holds, then settled. */
#define MEASURE_EVERY_MS 100
#define MEASURE_SETTLED_MS 10000
/* A capture frame this far off the reference's timeline re-anchors it (a stall). */
#define RESYNC_MS 10
/* FarReference's ring: 2 s. */
#define RING_SAMPLES 96000
/* Ducker defaults (duck.ts). */
#define DUCK_DEPTH_DB 24
#define DUCK_THRESHOLD_DBFS -45
#define DUCK_HOLD_MS 300

/* ---- gain.ts ---------------------------------------------------------------------------- */

/* JavaScript's Math.round: the nearest integer, halves toward +Infinity. */
static double js_round(double x) {
  double r = ceil(x);
  return r - 0.5 > x ? r - 1 : r;
}

/* A double as writeInt16LE stores what applyGain clipped: NaN is 0. */
static int16_t to_i16(double v) {
  if (v > 32767) return 32767;
  if (v < -32768) return -32768;
  if (v != v) return 0;
  return (int16_t)v;
}

static double db_to_gain(double db) { return pow(10, db / 20); }

static double volume_gain(double volume) {
  double v = fmax(0, fmin(100, volume)) / 100;
  return v * v;
}

/* `in` scaled by `gain` into `out` (may be `in`); a gain of 1 copies bit-exact. */
static void apply_gain(const int16_t *in, int16_t *out, int n, double gain) {
  if (gain == 1) {
    if (out != in) memmove(out, in, (size_t)n * sizeof *out);
    return;
  }
  for (int i = 0; i < n; i++) out[i] = to_i16(js_round(in[i] * gain));
}

/* RMS level in dBFS; -Infinity for silence. */
static double level_dbfs(const int16_t *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
  return n == 0 || s == 0 ? -INFINITY : 10 * log10(s / n / (32768.0 * 32768.0));
}

/* ---- reference.ts: the far end on the speaker's timeline -------------------------------- */

typedef struct {
  int16_t ring[RING_SAMPLES];
  int64_t end; /* timeline position just after the last sample written */
} far_reference;

/* Timeline position of clock time `ms`. Beyond +-2^53 (no clock gets there) it saturates
 * and NaN is 0, where JS would carry on with inexact or NaN positions: never UB here. */
static int64_t position(double ms) {
  double p = js_round(ms * RATE_PER_MS);
  if (p != p) return 0;
  if (p > 9007199254740992.0) return INT64_C(9007199254740992);
  if (p < -9007199254740992.0) return -INT64_C(9007199254740992);
  return (int64_t)p;
}

static void ref_write(far_reference *r, const int16_t *x, int n, double now) {
  int64_t at = position(now);
  int64_t start = r->end > at ? r->end : at;
  int64_t from = start - RING_SAMPLES > r->end ? start - RING_SAMPLES : r->end;
  for (int64_t p = from; p < start; p++) r->ring[p % RING_SAMPLES] = 0; /* a gap: silence */
  for (int i = 0; i < n; i++) r->ring[(start + i) % RING_SAMPLES] = x[i];
  r->end = start + n;
}

static void ref_read(const far_reference *r, int64_t from, int n, int16_t *y) {
  int64_t oldest = r->end - RING_SAMPLES;
  for (int i = 0; i < n; i++) {
    int64_t p = from + i;
    y[i] = p >= oldest && p < r->end && p >= 0 ? r->ring[p % RING_SAMPLES] : 0;
  }
}

/* ---- duck.ts ---------------------------------------------------------------------------- */

typedef struct {
  double ducked;
  double until; /* clock time until which the microphone stays ducked */
  double gain;
} ducker;

static void duck_far(ducker *d, const int16_t *x, int n, double now) {
  if (level_dbfs(x, n) > DUCK_THRESHOLD_DBFS) d->until = now + DUCK_HOLD_MS;
}

static void duck_mic(ducker *d, int16_t *x, int n, double now) {
  double from = d->gain;
  double to = now <= d->until ? d->ducked : 1;
  d->gain = to;
  if (from == 1 && to == 1) return;
  for (int i = 0; i < n; i++) {
    double g = from + ((to - from) * (i + 1)) / n;
    x[i] = to_i16(js_round(x[i] * g));
  }
}

/* ---- control.ts ------------------------------------------------------------------------- */

struct echo_control {
  echo_options o;
  double frame_ms;
  int n; /* samples per frame */
  dsp_core *dsp; /* NULL: neither canceller nor preprocessing asked for */
  ducker duck;   /* ECHO_DUCK only */
  double mic_gain;
  double volume;
  double speaker_gain;
  double bulk_ms;
  bool has_read_at; /* the reference's read position exists after the first frame */
  int64_t read_at;
  double last_measure;
  double pending; /* the previous believed measurement that asked for a move, or NaN */
  bool settled;   /* a measurement has confirmed the reference's delay: cancel */
  int16_t mic[MAX_FRAME];
  int16_t far[MAX_FRAME];
  int16_t track_far[MAX_FRAME];
  far_reference ref;   /* ECHO_AEC only, but small enough to keep */
  delay_tracker track; /* likewise */
};

static void set_err(char *err, size_t len, const char *msg) {
  if (err != NULL && len > 0) snprintf(err, len, "%s", msg);
}

echo_control *echo_new(const echo_options *o, char *err, size_t err_len) {
  if (o == NULL) {
    set_err(err, err_len, "echo: no options");
    return NULL;
  }
  if (o->mode != ECHO_AEC && o->mode != ECHO_DUCK && o->mode != ECHO_OFF) {
    set_err(err, err_len, "echo: mode must be aec, duck or off");
    return NULL;
  }
  if (o->frame_samples != 480 && o->frame_samples != 960) {
    set_err(err, err_len, "echo: frameSamples must be 480 or 960");
    return NULL;
  }
  if (!isfinite(o->mic_gain_db) || !isfinite(o->speaker_volume) ||
      !isfinite(o->playback_delay_ms)) {
    set_err(err, err_len, "echo: micGainDb, speakerVolume and playbackDelayMs must be finite");
    return NULL;
  }
  echo_control *e = calloc(1, sizeof *e);
  if (e == NULL) {
    set_err(err, err_len, "echo: out of memory");
    return NULL;
  }
  e->o = *o;
  e->n = o->frame_samples;
  e->frame_ms = (double)o->frame_samples / 48;
  e->mic_gain = db_to_gain(o->mic_gain_db);
  e->volume = o->speaker_volume;
  e->speaker_gain = volume_gain(o->speaker_volume);
  e->bulk_ms = fmax(0, o->playback_delay_ms - MARGIN_MS);
  e->last_measure = -INFINITY;
  e->pending = NAN;
  if (o->mode == ECHO_AEC || o->noise_suppression || o->auto_gain) {
    char why[128];
    e->dsp = dsp_core_new(o->frame_samples, o->mode == ECHO_AEC ? TAIL_MS : 0, why, sizeof why);
    if (e->dsp == NULL) {
      set_err(err, err_len, why);
      free(e);
      return NULL;
    }
    dsp_core_set_denoise(e->dsp, o->noise_suppression);
    dsp_core_set_agc(e->dsp, o->auto_gain);
  }
  e->duck.ducked = db_to_gain(-DUCK_DEPTH_DB);
  e->duck.until = -INFINITY;
  e->duck.gain = 1;
  delay_tracker_init(&e->track);
  return e;
}

void echo_free(echo_control *e) {
  if (e == NULL) return;
  dsp_core_free(e->dsp);
  free(e);
}

echo_mode echo_get_mode(const echo_control *e) { return e->o.mode; }
double echo_delay_ms(const echo_control *e) { return e->bulk_ms; }
bool echo_cancelling(const echo_control *e) { return e->settled; }
double echo_speaker_volume(const echo_control *e) { return e->volume; }

void echo_set_speaker_volume(echo_control *e, double volume) {
  double v = js_round(volume);
  e->volume = v != v ? 0 : fmax(0, fmin(100, v));
  e->speaker_gain = volume_gain(e->volume);
}

void echo_set_mic_gain_db(echo_control *e, double db) { e->mic_gain = db_to_gain(db); }

void echo_playback(echo_control *e, const int16_t *in, int16_t *out, double now_ms) {
  apply_gain(in, out, e->n, e->speaker_gain);
  if (e->o.mode == ECHO_AEC) ref_write(&e->ref, out, e->n, now_ms);
  if (e->o.mode == ECHO_DUCK) duck_far(&e->duck, out, e->n, now_ms);
}

static void emit(echo_control *e, echo_event ev, double value) {
  if (e->o.on_event != NULL) e->o.on_event(e->o.event_user, ev, value);
}

/* Measures the echo's delay now and then; moves the reference when it is off. */
static void track(echo_control *e, const int16_t *mic, double now) {
  double every = e->settled ? MEASURE_SETTLED_MS : MEASURE_EVERY_MS;
  double feed_from =
      e->last_measure + every - DELAY_WINDOW_MS - DELAY_MAX_LAG_MS - 100;
  if (e->settled && now < feed_from) return;
  /* The speaker's own timeline for this frame (no bulk), so the lag found is absolute. */
  ref_read(&e->ref, e->read_at + position(e->bulk_ms), e->n, e->track_far);
  delay_tracker_push(&e->track, e->track_far, mic, e->n);
  if (now - e->last_measure < every) return;
  e->last_measure = now;
  delay_estimate est;
  if (!delay_tracker_estimate(&e->track, &est) || est.confidence < MIN_CONFIDENCE) return;
  double after = est.delay_ms - e->bulk_ms;
  if (after >= fmin(MARGIN_MS, est.delay_ms) / 2 && after <= REACH_MS) {
    e->pending = NAN;
    if (!e->settled) emit(e, ECHO_EVENT_HEARD, est.delay_ms);
    e->settled = true;
    return;
  }
  bool agreed = fabs(est.delay_ms - e->pending) <= AGREE_MS;
  e->pending = est.delay_ms;
  if (!agreed) return;
  e->pending = NAN;
  double bulk = fmax(0, est.delay_ms - MARGIN_MS);
  emit(e, ECHO_EVENT_DELAY_MEASURED, est.delay_ms);
  e->read_at += position(e->bulk_ms - bulk);
  e->bulk_ms = bulk;
  if (!e->settled) emit(e, ECHO_EVENT_HEARD, est.delay_ms);
  e->settled = true;
  dsp_core_reset(e->dsp);
}

void echo_capture(echo_control *e, const int16_t *in, int16_t *out, double now_ms) {
  int n = e->n;
  int16_t *mic = e->mic;
  apply_gain(in, mic, n, e->mic_gain);
  if (e->o.mode != ECHO_AEC) {
    if (e->o.mode == ECHO_DUCK) duck_mic(&e->duck, mic, n, now_ms);
    if (e->dsp != NULL) dsp_core_process(e->dsp, mic, NULL, out);
    else memmove(out, mic, (size_t)n * sizeof *out);
    return;
  }
  int64_t due = position(now_ms - e->frame_ms - e->bulk_ms);
  if (!e->has_read_at || !(llabs(due - e->read_at) <= RESYNC_MS * RATE_PER_MS)) {
    e->read_at = due;
    e->has_read_at = true;
  }
  ref_read(&e->ref, e->read_at, n, e->far);
  track(e, mic, now_ms);
  e->read_at += n;
  if (e->settled || e->o.noise_suppression || e->o.auto_gain) {
    dsp_core_process(e->dsp, mic, e->far, out);
  } else {
    /* Adapting on the side: the microphone passes as it is. */
    dsp_core_process(e->dsp, mic, e->far, e->far);
    memmove(out, mic, (size_t)n * sizeof *out);
  }
}
