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
#include <stdlib.h>
#include <string.h>

#include "jitter.h"
#include "test_exports.h"

#define CALL(env, call)                                                 \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      throw_pending(env);                                               \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static void throw_pending(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, NULL,
                   info && info->error_message ? info->error_message : "babel-media: N-API call failed");
}

/* Reads a number; false with a TypeError thrown if it is not one. */
static bool get_number(napi_env env, napi_value v, const char *what, double *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  return napi_get_value_double(env, v, out) == napi_ok;
}

/* An integer in [0, max]; false with a RangeError (or TypeError) thrown otherwise. */
static bool get_uint(napi_env env, napi_value v, const char *what, double max, double *out) {
  if (!get_number(env, v, what, out)) return false;
  if (!(*out >= 0 && *out <= max) || floor(*out) != *out) {
    napi_throw_range_error(env, NULL, what);
    return false;
  }
  return true;
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

static void *unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *p = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "babel-media: not a constructed object");
    return NULL;
  }
  return p;
}

static bool set_num(napi_env env, napi_value obj, const char *name, double x) {
  napi_value v;
  return napi_create_double(env, x, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

static bool set_str(napi_env env, napi_value obj, const char *name, const char *s) {
  napi_value v;
  return napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

/* --- Jitter ----------------------------------------------------------------------------- */

static void jitter_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  jitter_free(data);
}

static napi_value jitter_ctor(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  jitter_options o;
  jitter_options_default(&o, 20);
  napi_valuetype t = napi_undefined;
  if (argc >= 1) CALL(env, napi_typeof(env, argv[0], &t));
  if (t != napi_undefined && t != napi_null) {
    if (t != napi_object) {
      napi_throw_type_error(env, NULL, "jitter: options must be an object");
      return NULL;
    }
    napi_value obj = argv[0], quiet;
    napi_valuetype qt;
    CALL(env, napi_get_named_property(env, obj, "isQuiet", &quiet));
    CALL(env, napi_typeof(env, quiet, &qt));
    if (qt != napi_undefined) {
      napi_throw_type_error(env, NULL, "jitter: isQuiet is not supported by the C buffer");
      return NULL;
    }
    double x;
    int r = get_option(env, obj, "frameMs", &x);
    if (r < 0) return NULL;
    if (r > 0) jitter_options_default(&o, x);
    if ((r = get_option(env, obj, "clockRate", &x)) < 0) return NULL;
    if (r > 0) {
      /* The TS's own check refuses <= 0; the C type takes a whole 32-bit number. */
      if (!(x > 0)) x = 0;
      else if (!(x <= UINT32_MAX) || floor(x) != x) {
        napi_throw_range_error(env, NULL, "jitter: clockRate must be a whole 32-bit number");
        return NULL;
      }
      o.clock_rate = (uint32_t)x;
    }
    struct {
      const char *name;
      double *field;
    } fields[] = {
        {"minDepthMs", &o.min_depth_ms},       {"maxDepthMs", &o.max_depth_ms},
        {"initialDepthMs", &o.initial_depth_ms}, {"marginMs", &o.margin_ms},
        {"windowMs", &o.window_ms},             {"maxUnderrunMs", &o.max_underrun_ms},
        {"maxDropWaitMs", &o.max_drop_wait_ms},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
      if ((r = get_option(env, obj, fields[i].name, &x)) < 0) return NULL;
      if (r > 0) *fields[i].field = x;
    }
  }
  char err[160];
  jitter *jb = jitter_new(&o, err, sizeof err);
  if (!jb) {
    napi_throw_range_error(env, NULL, err);
    return NULL;
  }
  if (napi_wrap(env, self, jb, jitter_finalize, NULL, NULL) != napi_ok) {
    jitter_free(jb);
    throw_pending(env);
    return NULL;
  }
  return self;
}

static napi_value jitter_push_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  jitter *jb = unwrap_this(env, info, &argc, argv);
  if (!jb) return NULL;
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "push(sequence, timestamp, payload, arrival, ssrc?)");
    return NULL;
  }
  double seq, ts, arrival, ssrc = 0;
  bool has_ssrc = false;
  if (!get_uint(env, argv[0], "sequence must be an integer in [0, 65535]", 65535, &seq) ||
      !get_uint(env, argv[1], "timestamp must be an integer in [0, 2^32)", UINT32_MAX, &ts) ||
      !get_number(env, argv[3], "arrival must be a number", &arrival))
    return NULL;
  bool is_buffer = false;
  CALL(env, napi_is_buffer(env, argv[2], &is_buffer));
  if (!is_buffer) {
    napi_throw_type_error(env, NULL, "payload must be a Buffer");
    return NULL;
  }
  void *data = NULL;
  size_t len = 0;
  CALL(env, napi_get_buffer_info(env, argv[2], &data, &len));
  if (argc >= 5) {
    napi_valuetype t;
    CALL(env, napi_typeof(env, argv[4], &t));
    if (t != napi_undefined) {
      if (!get_uint(env, argv[4], "ssrc must be an integer in [0, 2^32)", UINT32_MAX, &ssrc))
        return NULL;
      has_ssrc = true;
    }
  }
  static const char *const names[] = {"ok", "duplicate", "late", "reset", "discarded"};
  jitter_push_result r = jitter_push(jb, (uint16_t)seq, (uint32_t)ts, data, len, arrival,
                                     has_ssrc, (uint32_t)ssrc);
  napi_value out;
  CALL(env, napi_create_string_utf8(env, names[r], NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value jitter_note_sequence_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  jitter *jb = unwrap_this(env, info, &argc, argv);
  if (!jb) return NULL;
  double seq;
  if (argc < 1 || !get_uint(env, argv[0], "sequence must be an integer in [0, 65535]", 65535, &seq))
    return NULL;
  jitter_note_sequence(jb, (uint16_t)seq);
  return NULL;
}

static napi_value jitter_pop_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  jitter *jb = unwrap_this(env, info, &argc, argv);
  if (!jb) return NULL;
  double now;
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "pop(now)");
    return NULL;
  }
  if (!get_number(env, argv[0], "now must be a number", &now)) return NULL;
  jitter_pop_result r;
  jitter_pop(jb, now, &r);
  napi_value out;
  CALL(env, napi_create_object(env, &out));
  if (r.kind == JB_FRAME) {
    napi_value payload;
    CALL(env, napi_create_buffer_copy(env, r.len, r.payload, NULL, &payload));
    if (!set_str(env, out, "kind", "frame") ||
        napi_set_named_property(env, out, "payload", payload) != napi_ok ||
        !set_num(env, out, "sequence", r.sequence) || !set_num(env, out, "timestamp", r.timestamp)) {
      throw_pending(env);
      return NULL;
    }
  } else if (!set_str(env, out, "kind", r.kind == JB_CONCEAL ? "conceal" : "empty")) {
    throw_pending(env);
    return NULL;
  }
  return out;
}

static napi_value jitter_stats_js(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  jitter *jb = unwrap_this(env, info, &argc, NULL);
  if (!jb) return NULL;
  jitter_stats s;
  jitter_get_stats(jb, &s);
  napi_value out;
  CALL(env, napi_create_object(env, &out));
  if (!set_num(env, out, "received", s.received) || !set_num(env, out, "lost", s.lost) ||
      !set_num(env, out, "late", s.late) || !set_num(env, out, "concealed", s.concealed) ||
      !set_num(env, out, "duplicates", s.duplicates) ||
      !set_num(env, out, "discarded", s.discarded) || !set_num(env, out, "dropped", s.dropped) ||
      !set_num(env, out, "inserted", s.inserted) || !set_num(env, out, "underruns", s.underruns) ||
      !set_num(env, out, "resets", s.resets) || !set_num(env, out, "jitterMs", s.jitter_ms) ||
      !set_num(env, out, "depthMs", s.depth_ms) || !set_num(env, out, "targetMs", s.target_ms)) {
    throw_pending(env);
    return NULL;
  }
  return out;
}

/* --- Transit ---------------------------------------------------------------------------- */

static void transit_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value transit_ctor(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  double q;
  if (argc < 1 || !get_number(env, argv[0], "transit: q must be a number", &q)) return NULL;
  if (!(q > 0 && q < 1)) {
    char msg[96];
    snprintf(msg, sizeof msg, "transit: percentile must be in (0, 1), got %g", q);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  double clock_rate = 48000, start_packets = 16, step_ms = 0.5, reset_ms = 2000;
  napi_valuetype t = napi_undefined;
  if (argc >= 2) CALL(env, napi_typeof(env, argv[1], &t));
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
  transit_percentile *tp = malloc(sizeof *tp);
  if (!tp) {
    napi_throw_error(env, NULL, "transit: out of memory");
    return NULL;
  }
  transit_init(tp, q, (uint32_t)clock_rate, (int)start_packets, step_ms, reset_ms);
  if (napi_wrap(env, self, tp, transit_finalize, NULL, NULL) != napi_ok) {
    free(tp);
    throw_pending(env);
    return NULL;
  }
  return self;
}

static napi_value transit_note_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  transit_percentile *tp = unwrap_this(env, info, &argc, argv);
  if (!tp) return NULL;
  double ssrc, ts, arrival;
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "note(ssrc, timestamp, arrival)");
    return NULL;
  }
  if (!get_uint(env, argv[0], "ssrc must be an integer in [0, 2^32)", UINT32_MAX, &ssrc) ||
      !get_uint(env, argv[1], "timestamp must be an integer in [0, 2^32)", UINT32_MAX, &ts) ||
      !get_number(env, argv[2], "arrival must be a number", &arrival))
    return NULL;
  transit_note(tp, (uint32_t)ssrc, (uint32_t)ts, arrival);
  return NULL;
}

static napi_value transit_value_js(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  transit_percentile *tp = unwrap_this(env, info, &argc, NULL);
  if (!tp) return NULL;
  napi_value out;
  CALL(env, napi_create_double(env, transit_value(tp), &out));
  return out;
}

napi_status register_jitter_test(napi_env env, napi_value test) {
  napi_status s;
  napi_value cls;
  napi_property_descriptor jp[] = {
      {"push", NULL, jitter_push_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"noteSequence", NULL, jitter_note_sequence_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"pop", NULL, jitter_pop_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, jitter_stats_js, NULL, NULL, NULL, napi_default_method, NULL},
  };
  s = napi_define_class(env, "Jitter", NAPI_AUTO_LENGTH, jitter_ctor, NULL, sizeof jp / sizeof jp[0],
                        jp, &cls);
  if (s != napi_ok) return s;
  if ((s = napi_set_named_property(env, test, "Jitter", cls)) != napi_ok) return s;
  napi_property_descriptor tp[] = {
      {"note", NULL, transit_note_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"value", NULL, NULL, transit_value_js, NULL, NULL, napi_enumerable, NULL},
  };
  s = napi_define_class(env, "Transit", NAPI_AUTO_LENGTH, transit_ctor, NULL, sizeof tp / sizeof tp[0],
                        tp, &cls);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, test, "Transit", cls);
}
