/* babel-media: the device's per-frame media loop on a native thread (see engine.h). */
#include <node_api.h>
#include "test_exports.h"

static napi_value init(napi_env env, napi_value exports) {
  napi_value test;
  if (napi_create_object(env, &test) != napi_ok) return NULL;
  if (register_jitter_test(env, test) != napi_ok) return NULL;
  if (register_wire_test(env, test) != napi_ok) return NULL;
  if (register_echo_test(env, test) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "_test", test) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
