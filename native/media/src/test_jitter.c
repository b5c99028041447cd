/*
 * Test bindings of the jitter buffer and the transit percentile (jitter.h), under `_test`:
 *
 *   new Jitter(options?)         the TS JitterBufferOptions (absent or undefined = default;
 *                                `isQuiet` is refused: the C buffer always uses the default)
 *     .push(sequence, timestamp, payload: Buffer, arrival, ssrc?)  'ok' | 'duplicate' | ...
 *     .noteSequence(sequence)
 *     .pop(now)                  { kind: 'frame', payload (a copy), sequence, timestamp }
 *                                | { kind: 'conceal' } | { kind: 'empty' }
 *     .stats()                   JitterStats (types.ts' field names)
 *   new Transit(q, { clockRate?, startPackets?, stepMs?, resetMs? })
 *     .note(ssrc, timestamp, arrival)
 *     .value                     NaN before the first packet
 *
 * RangeError where the TS constructors throw, and for numbers the C types cannot hold.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "jitter.h"
#include "test_exports.h"
#include "test_util.h"

#define SEQUENCE "sequence must be an integer in [0, 65535]"
#define TIMESTAMP "timestamp must be an integer in [0, 2^32)"
#define SSRC "ssrc must be an integer in [0, 2^32)"

/* An integer in [0, max]; `what` is the message of the TypeError or RangeError otherwise. */
static bool get_uint(napi_env env, napi_value v, const char *what, double max, double *out) {
  return test_whole(env, v, max, what, what, out);
}

/* The named option if present (not undefined or null): 1, absent: 0, error thrown: -1. */
static int get_option(napi_env env, napi_value obj, const char *name, double *out) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok)
    return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  if (t != napi_number) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return napi_get_value_double(env, v, out) == napi_ok ? 1 : -1;
}

/* --- Jitter ----------------------------------------------------------------------------- */

TEST_FINALIZER(jitter_finalize, jitter_free)

/* The TS JitterBufferOptions in `obj` over the defaults in *o. */
static bool read_options(napi_env env, napi_value obj, jitter_options *o) {
  napi_value quiet;
  napi_valuetype qt;
  if (!test_object_arg(env, obj, "jitter: options must be an object")) return false;
  if (napi_get_named_property(env, obj, "isQuiet", &quiet) != napi_ok ||
      napi_typeof(env, quiet, &qt) != napi_ok) {
    js_throw_last_error(env);
    return false;
  }
  if (qt != napi_undefined) {
    napi_throw_type_error(env, NULL, "jitter: isQuiet is not supported by the C buffer");
    return false;
  }
  double x;
  int r = get_option(env, obj, "frameMs", &x);
  if (r < 0) return false;
  if (r > 0) jitter_options_default(o, x);
  if ((r = get_option(env, obj, "clockRate", &x)) < 0) return false;
  if (r > 0) {
    /* The TS's own check refuses <= 0; the C type takes a whole 32-bit number. */
    if (!(x > 0)) x = 0;
    else if (!(x <= UINT32_MAX) || floor(x) != x) {
      napi_throw_range_error(env, NULL, "jitter: clockRate must be a whole 32-bit number");
      return false;
    }
    o->clock_rate = (uint32_t)x;
  }
  struct {
    const char *name;
    double *field;
  } fields[] = {
      {"minDepthMs", &o->min_depth_ms},       {"maxDepthMs", &o->max_depth_ms},
      {"initialDepthMs", &o->initial_depth_ms}, {"marginMs", &o->margin_ms},
      {"windowMs", &o->window_ms},             {"maxUnderrunMs", &o->max_underrun_ms},
      {"maxDropWaitMs", &o->max_drop_wait_ms},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if ((r = get_option(env, obj, fields[i].name, &x)) < 0) return false;
    if (r > 0) *fields[i].field = x;
  }
  return true;
}

static napi_value jitter_ctor(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = test_new(env, info, 1, argv, NULL);
  if (!self) return NULL;
  jitter_options o;
  jitter_options_default(&o, 20);
  napi_valuetype t;
  NAPI_CALL(env, napi_typeof(env, argv[0], &t));
  if (t != napi_undefined && t != napi_null && !read_options(env, argv[0], &o)) return NULL;
  char err[160];
  jitter *jb = jitter_new(&o, err, sizeof err);
  if (!jb) {
    napi_throw_range_error(env, NULL, err);
    return NULL;
  }
  return test_wrap(env, self, jb, jitter_finalize);
}

static napi_value jitter_push_js(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[5];
  jitter *jb = test_this(env, info, 5, argv, &argc);
  if (!jb || !test_argc(env, argc, 4, "push(sequence, timestamp, payload, arrival, ssrc?)"))
    return NULL;
  double seq, ts, arrival, ssrc = 0;
  uint8_t *data;
  size_t len;
  if (!get_uint(env, argv[0], SEQUENCE, 65535, &seq) ||
      !get_uint(env, argv[1], TIMESTAMP, UINT32_MAX, &ts) ||
      !test_number(env, argv[3], "arrival must be a number", &arrival) ||
      !test_buffer(env, argv[2], "payload must be a Buffer", &data, &len))
    return NULL;
  napi_valuetype t;
  NAPI_CALL(env, napi_typeof(env, argv[4], &t));
  bool has_ssrc = t != napi_undefined;
  if (has_ssrc && !get_uint(env, argv[4], SSRC, UINT32_MAX, &ssrc)) return NULL;
  static const char *const names[] = {"ok", "duplicate", "late", "reset", "discarded"};
  return test_str(env, names[jitter_push(jb, (uint16_t)seq, (uint32_t)ts, data, len, arrival,
                                         has_ssrc, (uint32_t)ssrc)]);
}

static napi_value jitter_note_sequence_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  jitter *jb = test_this(env, info, 1, argv, NULL);
  double seq;
  if (!jb || !get_uint(env, argv[0], SEQUENCE, 65535, &seq)) return NULL;
  jitter_note_sequence(jb, (uint16_t)seq);
  return NULL;
}

/* pop(now): { kind: 'frame', payload, sequence, timestamp } | { kind: 'conceal' | 'empty' } */
static napi_value jitter_pop_js(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[1], payload;
  jitter *jb = test_this(env, info, 1, argv, &argc);
  double now;
  if (!jb || !test_argc(env, argc, 1, "pop(now)") ||
      !test_number(env, argv[0], "now must be a number", &now))
    return NULL;
  jitter_pop_result r;
  jitter_pop(jb, now, &r);
  if (r.kind != JB_FRAME) {
    const test_field none[] = {TEST_STR("kind", r.kind == JB_CONCEAL ? "conceal" : "empty")};
    return TEST_OBJECT(env, none);
  }
  if ((payload = test_copy(env, r.payload, r.len)) == NULL) return NULL;
  const test_field frame[] = {TEST_STR("kind", "frame"), TEST_VALUE("payload", payload),
                              TEST_NUM("sequence", r.sequence), TEST_NUM("timestamp", r.timestamp)};
  return TEST_OBJECT(env, frame);
}

/* stats(): JitterStats, types.ts' field names. */
static napi_value jitter_stats_js(napi_env env, napi_callback_info info) {
  jitter *jb = test_this(env, info, 0, NULL, NULL);
  if (!jb) return NULL;
  jitter_stats s;
  jitter_get_stats(jb, &s);
  const test_field stats[] = {
      TEST_NUM("received", s.received),   TEST_NUM("lost", s.lost),
      TEST_NUM("late", s.late),           TEST_NUM("concealed", s.concealed),
      TEST_NUM("duplicates", s.duplicates), TEST_NUM("discarded", s.discarded),
      TEST_NUM("dropped", s.dropped),     TEST_NUM("inserted", s.inserted),
      TEST_NUM("underruns", s.underruns), TEST_NUM("resets", s.resets),
      TEST_NUM("jitterMs", s.jitter_ms),  TEST_NUM("depthMs", s.depth_ms),
      TEST_NUM("targetMs", s.target_ms),
  };
  return TEST_OBJECT(env, stats);
}

/* --- Transit ---------------------------------------------------------------------------- */

static napi_value transit_ctor(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  napi_value self = test_new(env, info, 2, argv, NULL);
  double q;
  if (!self || !test_number(env, argv[0], "transit: q must be a number", &q)) return NULL;
  if (!(q > 0 && q < 1)) {
    char msg[96];
    snprintf(msg, sizeof msg, "transit: percentile must be in (0, 1), got %g", q);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  double clock_rate = 48000, start_packets = 16, step_ms = 0.5, reset_ms = 2000;
  napi_valuetype t;
  NAPI_CALL(env, napi_typeof(env, argv[1], &t));
  if (t == napi_object) {
    double x;
    int r;
    if ((r = get_option(env, argv[1], "clockRate", &x)) < 0) return NULL;
    if (r > 0) {
      if (!(x > 0 && x <= UINT32_MAX) || floor(x) != x) {
        napi_throw_range_error(env, NULL, "transit: clockRate must be a whole 32-bit number");
        return NULL;
      }
      clock_rate = x;
    }
    if ((r = get_option(env, argv[1], "startPackets", &x)) < 0) return NULL;
    /* `n <= startPackets` for whole n: floor() keeps its answers; NaN is never reached. */
    if (r > 0) start_packets = isnan(x) ? -1 : fmax(-1, fmin(INT32_MAX, floor(x)));
    if ((r = get_option(env, argv[1], "stepMs", &x)) < 0) return NULL;
    if (r > 0) step_ms = x;
    if ((r = get_option(env, argv[1], "resetMs", &x)) < 0) return NULL;
    if (r > 0) reset_ms = x;
  } else if (t != napi_undefined) {
    napi_throw_type_error(env, NULL, "transit: options must be an object");
    return NULL;
  }
  transit_percentile *tp = test_alloc(env, sizeof *tp);
  if (!tp) return NULL;
  transit_init(tp, q, (uint32_t)clock_rate, (int)start_packets, step_ms, reset_ms);
  return test_wrap(env, self, tp, test_free);
}

static napi_value transit_note_js(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[3];
  transit_percentile *tp = test_this(env, info, 3, argv, &argc);
  double ssrc, ts, arrival;
  if (!tp || !test_argc(env, argc, 3, "note(ssrc, timestamp, arrival)") ||
      !get_uint(env, argv[0], SSRC, UINT32_MAX, &ssrc) ||
      !get_uint(env, argv[1], TIMESTAMP, UINT32_MAX, &ts) ||
      !test_number(env, argv[2], "arrival must be a number", &arrival))
    return NULL;
  transit_note(tp, (uint32_t)ssrc, (uint32_t)ts, arrival);
  return NULL;
}

TEST_DEFINE_GETTER(transit_value_js, transit_percentile, test_num, transit_value(self))

napi_status register_jitter_test(napi_env env, napi_value test) {
  static const napi_property_descriptor jitter_props[] = {
      TEST_METHOD("push", jitter_push_js), TEST_METHOD("noteSequence", jitter_note_sequence_js),
      TEST_METHOD("pop", jitter_pop_js), TEST_METHOD("stats", jitter_stats_js),
  };
  static const napi_property_descriptor transit_props[] = {
      TEST_METHOD("note", transit_note_js), TEST_GETTER("value", transit_value_js),
  };
  static const test_export exports[] = {
      TEST_CLASS("Jitter", jitter_ctor, jitter_props),
      TEST_CLASS("Transit", transit_ctor, transit_props),
  };
  return TEST_REGISTER(env, test, exports);
}
