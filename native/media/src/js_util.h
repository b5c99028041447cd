/* Small Node-API helpers of the engine's JS binding (addon.c, js_options.c). */
#ifndef BABEL_JS_UTIL_H
#define BABEL_JS_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include "engine.h"
/* NAPI_CALL and the nu_* helpers (native/common). */
#define NAPI_UTIL_ERROR_CODE "ERR_BABEL_MEDIA_NAPI"
#include "napi_util.h"

/* Throws the last failed napi_* call's error (code ERR_BABEL_MEDIA_NAPI) unless one is
 * pending. */
static inline void js_throw_last_error(napi_env env) { nu_throw_last_error(env); }

/* js_args.c: option readers. `path` prefixes `name` in messages ("jitter.", or ""). */
/* Throws a TypeError of `fmt` with `name`; false. */
bool js_type_error(napi_env env, const char *fmt, const char *name);
/* The property `name` of `obj`; *v NULL if absent or undefined. False: an N-API failure. */
bool js_prop(napi_env env, napi_value obj, const char *name, napi_value *v);
/* A number in [min, max] (an integer if `integer`); absent: `def` (not range-checked). */
bool js_num(napi_env env, napi_value obj, const char *path, const char *name, double def,
            double min, double max, bool integer, double *out);
/* A string of 1..cap-2 bytes without NUL into buf; absent: `def`, or required if NULL. */
bool js_str(napi_env env, napi_value obj, const char *path, const char *name, const char *def,
            char *buf, size_t cap);
/* A boolean; absent: *out unchanged. */
bool js_bool(napi_env env, napi_value obj, const char *path, const char *name, bool *out);
/* An IPv4 literal (RangeError ERR_INVALID_IP_ADDRESS otherwise). */
bool js_ipv4(napi_env env, const char *text, const char *name, struct in_addr *out);
/* An object option (*v NULL when absent and not required). */
bool js_object(napi_env env, napi_value obj, const char *name, napi_value *v, bool required);

/* new Engine(options): the engine's config; false with a TypeError/RangeError thrown
 * naming the option. */
bool js_engine_config(napi_env env, napi_value options, engine_config *out);

/* A playback object (`path`: "playback." or "" for setPlayback's argument); false with an
 * error thrown naming the option. */
bool js_playback(napi_env env, napi_value o, const char *path, engine_playback *out);

/* engine.start(leg): the leg and its direction; false with an error thrown. */
bool js_leg(napi_env env, napi_value leg, pipeline_leg *out, engine_direction *dir);

/* MediaStats as a JS object (NULL with an error pending). */
napi_value js_stats(napi_env env, const engine_stats *s);

/* js_events.c: an event's name ('dtmf', 'echo', ...) and its argument (NULL: failed). */
const char *js_event_name(engine_event_kind kind);
napi_value js_event_arg(napi_env env, const engine_event *ev);
/* Throws an Error with `message` whose `code` is the errno's name (0: 'ENOMEM'). */
void js_throw_errno(napi_env env, const char *message, int err_no);
/* A method's number argument, `name` in the TypeError when it is not a number. */
bool js_number_arg(napi_env env, napi_value arg, const char *name, double *out);

/* `_test.Pipeline` (test_pipeline.c). */
napi_status register_pipeline_test(napi_env env, napi_value test);

#endif
