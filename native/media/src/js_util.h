/* Small Node-API helpers of the engine's JS binding (addon.c, js_options.c). */
#ifndef BABEL_JS_UTIL_H
#define BABEL_JS_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include "engine.h"

/* On a failed napi_* call: throw (unless an exception is already pending), return NULL. */
#define NAPI_CALL(env, call)        \
  do {                              \
    if ((call) != napi_ok) {        \
      js_throw_last_error(env);     \
      return NULL;                  \
    }                               \
  } while (0)

void js_throw_last_error(napi_env env);

/* new Engine(options): the engine's config; false with a TypeError/RangeError thrown
 * naming the option. */
bool js_engine_config(napi_env env, napi_value options, engine_config *out);

/* engine.start(leg): the leg and its direction; false with an error thrown. */
bool js_leg(napi_env env, napi_value leg, pipeline_leg *out, engine_direction *dir);

/* MediaStats as a JS object (NULL with an error pending). */
napi_value js_stats(napi_env env, const engine_stats *s);

/* `_test.Pipeline` (test_pipeline.c). */
napi_status register_pipeline_test(napi_env env, napi_value test);

#endif
