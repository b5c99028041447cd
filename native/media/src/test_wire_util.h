/*
 * Private to the test-only bindings of wire.c and srtp.c (test_wire.c: RTP and RFC 4733;
 * test_srtp.c: SRTP): the Node-API helpers both use. Argument readers return false with an
 * exception pending; value makers return NULL with one pending.
 */
#ifndef BABEL_TEST_WIRE_UTIL_H
#define BABEL_TEST_WIRE_UTIL_H
#include <math.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CALL(env, call)                                                  \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      bool pending_ = false;                                             \
      napi_is_exception_pending(env, &pending_);                         \
      if (!pending_) napi_throw_error(env, NULL, "babel-media: N-API call failed"); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

/* ---- argument helpers: false with an exception pending ---- */

static inline bool get_buffer(napi_env env, napi_value v, const char *name, uint8_t **data,
                              size_t *len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a Buffer", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  void *p = NULL;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return false;
  *data = p;
  return true;
}

/* An integer in [0, max]; `fallback` (>= 0) when undefined, required when fallback < 0. */
static inline bool get_uint(napi_env env, napi_value v, const char *name, double max,
                            double fallback, double *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined && fallback >= 0) {
    *out = fallback;
    return true;
  }
  char msg[128];
  if (t != napi_number) {
    snprintf(msg, sizeof msg, "%s must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  double d = 0;
  napi_get_value_double(env, v, &d);
  if (!(d >= 0 && d <= max && floor(d) == d)) {
    snprintf(msg, sizeof msg, "%s must be an integer in 0..%.0f", name, max);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  *out = d;
  return true;
}

static inline napi_value args(napi_env env, napi_callback_info info, size_t n,
                              napi_value *argv) {
  size_t argc = n;
  napi_value self;
  for (size_t i = 0; i < n; i++) napi_get_undefined(env, &argv[i]);
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  return self;
}

static inline void *unwrap(napi_env env, napi_value self) {
  void *p = NULL;
  if (napi_unwrap(env, self, &p) != napi_ok) return NULL;
  return p;
}

static inline napi_value buffer_copy(napi_env env, const uint8_t *data, size_t len) {
  napi_value out;
  void *copy;
  CALL(env, napi_create_buffer_copy(env, len, len ? (const void *)data : (const void *)"", &copy, &out));
  return out;
}

static inline napi_value number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static inline void set(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

/* ---- registration ---- */

#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}
#define GETTER(name, fn) {name, NULL, NULL, fn, NULL, NULL, napi_default, NULL}

static inline napi_status add_class(napi_env env, napi_value test, const char *name,
                                    napi_callback ctor, size_t n,
                                    const napi_property_descriptor *props) {
  napi_value cls;
  napi_status st = napi_define_class(env, name, NAPI_AUTO_LENGTH, ctor, NULL, n, props, &cls);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, test, name, cls);
}

static inline napi_status add_function(napi_env env, napi_value test, const char *name,
                                       napi_callback fn) {
  napi_value f;
  napi_status st = napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, test, name, f);
}

/* `_test.SrtpSender`, `_test.SrtpReceiver`, `_test.srtpKeystream`, `_test.srtpDerive`
 * (test_srtp.c); register_wire_test() calls it. */
napi_status register_srtp_test(napi_env env, napi_value test);

#endif
