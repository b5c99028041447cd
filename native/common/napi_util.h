/*
 * Node-API helpers the four addons share (babel-opus, babel-dsp, babel-alsa, babel-media):
 * throwing, reading arguments, and unwrapping the C object behind `this`. Header only
 * (static inline), included through each addon's binding.gyp include_dirs.
 *
 * The including file names its two strings first:
 *
 *   #define NAPI_UTIL_ERROR_CODE "ERR_BABEL_OPUS_NAPI"  the `code` of the Error thrown when a
 *                                                        napi_* call fails (required)
 *   #define NAPI_UTIL_PREFIX "opus: "                    what the argument errors' messages
 *                                                        start with (optional, default "")
 *   #include "napi_util.h"
 *
 * Every helper that fails throws (TypeError ERR_INVALID_ARG_TYPE for a wrong type,
 * RangeError ERR_OUT_OF_RANGE for a value out of range) and returns false or NULL.
 */
#ifndef BABEL_NAPI_UTIL_H
#define BABEL_NAPI_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef NAPI_UTIL_ERROR_CODE
#error "define NAPI_UTIL_ERROR_CODE (the code of a failed napi_* call's Error) before napi_util.h"
#endif
#ifndef NAPI_UTIL_PREFIX
#define NAPI_UTIL_PREFIX ""
#endif

/* On a failed napi_* call: throw (unless an exception is already pending), return NULL. */
#define NAPI_CALL(env, call)     \
  do {                           \
    if ((call) != napi_ok) {     \
      nu_throw_last_error(env);  \
      return NULL;               \
    }                            \
  } while (0)

/* Throws an Error with `code` and N-API's message of the last failed call, unless an
 * exception is already pending (then that one stands). */
static inline void nu_throw_last_error_as(napi_env env, const char *code) {
  /* The last error first: any N-API call, napi_is_exception_pending too, clears it. */
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *msg = info && info->error_message ? info->error_message : "N-API call failed";
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_throw_error(env, code, msg);
}

/* The same with this addon's NAPI_UTIL_ERROR_CODE. */
static inline void nu_throw_last_error(napi_env env) {
  nu_throw_last_error_as(env, NAPI_UTIL_ERROR_CODE);
}

/* RangeError ERR_OUT_OF_RANGE; NULL. */
static inline napi_value nu_throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* TypeError ERR_INVALID_ARG_TYPE; NULL. */
static inline napi_value nu_throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* undefined and null, for a method's result (NULL only if N-API itself failed). */
static inline napi_value nu_undefined(napi_env env) {
  napi_value v = NULL;
  napi_get_undefined(env, &v);
  return v;
}

static inline napi_value nu_null(napi_env env) {
  napi_value v = NULL;
  napi_get_null(env, &v);
  return v;
}

/* obj[name] = a number / a string (NUL-terminated); false if N-API failed. */
static inline bool nu_set_num(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

static inline bool nu_set_str(napi_env env, napi_value obj, const char *name, const char *value) {
  napi_value v;
  return napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

/* An integer argument in [min, max] (`value` NULL: missing); false, with a
 * RangeError/TypeError naming `name` thrown, otherwise. */
static inline bool nu_get_int(napi_env env, napi_value value, const char *name, int32_t min,
                              int32_t max, int32_t *out) {
  napi_valuetype type;
  char msg[128];
  if (value == NULL || napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    snprintf(msg, sizeof msg, NAPI_UTIL_PREFIX "%s must be a number", name);
    nu_throw_type(env, msg);
    return false;
  }
  double d = 0;
  napi_get_value_double(env, value, &d);
  /* Range first: converting a double out of int32_t's range to one is undefined. */
  if (!(d >= min && d <= max) || d != (double)(int32_t)d) {
    snprintf(msg, sizeof msg, NAPI_UTIL_PREFIX "%s must be an integer in %d..%d", name, (int)min,
             (int)max);
    nu_throw_range(env, msg);
    return false;
  }
  *out = (int32_t)d;
  return true;
}

/* A boolean argument; false, with a TypeError naming `name` thrown, otherwise. */
static inline bool nu_get_bool(napi_env env, napi_value value, const char *name, bool *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) {
    nu_throw_last_error(env);
    return false;
  }
  if (type != napi_boolean) {
    char msg[96];
    snprintf(msg, sizeof msg, NAPI_UTIL_PREFIX "%s must be a boolean", name);
    nu_throw_type(env, msg);
    return false;
  }
  if (napi_get_value_bool(env, value, out) != napi_ok) {
    nu_throw_last_error(env);
    return false;
  }
  return true;
}

/*
 * The bytes of a Uint8Array (a Buffer is one). 1: *data and *length are set; 0: `value` is
 * not one (NULL, not a typed array, or another kind), nothing thrown: the caller says what
 * it wanted; -1: reading it failed, thrown.
 */
static inline int nu_uint8_array(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_typedarray = false;
  if (value == NULL || napi_is_typedarray(env, value, &is_typedarray) != napi_ok ||
      !is_typedarray) {
    return 0;
  }
  napi_typedarray_type type = napi_int8_array;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) {
    nu_throw_last_error(env);
    return -1;
  }
  return type == napi_uint8_array ? 1 : 0;
}

/* The C object napi_wrap put behind `this` (with the call's arguments and data, as
 * napi_get_cb_info); NULL, with a TypeError thrown, for any other receiver. */
static inline void *nu_unwrap_this(napi_env env, napi_callback_info info, size_t *argc,
                                   napi_value *argv, void **data, const char *class_name) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, data) != napi_ok) {
    nu_throw_last_error(env);
    return NULL;
  }
  void *native = NULL;
  if (napi_unwrap(env, self, &native) != napi_ok || native == NULL) {
    char msg[96];
    snprintf(msg, sizeof msg, NAPI_UTIL_PREFIX "receiver is not a %s", class_name);
    nu_throw_type(env, msg);
    return NULL;
  }
  return native;
}

/* In a constructor: `self` owns `native` from here, freed by `finalize` once collected. On
 * failure `native` is freed at once (finalize(env, native, NULL)) and the error thrown:
 * false. */
static inline bool nu_wrap(napi_env env, napi_value self, void *native, napi_finalize finalize) {
  if (napi_wrap(env, self, native, finalize, NULL, NULL) == napi_ok) return true;
  finalize(env, native, NULL);
  nu_throw_last_error(env);
  return false;
}

/* A constructor called without `new`: false, with a TypeError worded like V8's thrown. */
static inline bool nu_require_new(napi_env env, napi_callback_info info, const char *class_name) {
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) {
    char msg[96];
    snprintf(msg, sizeof msg,
             NAPI_UTIL_PREFIX "class constructor %s cannot be invoked without 'new'", class_name);
    nu_throw_type(env, msg);
    return false;
  }
  return true;
}

/* The same for the classes whose error has the code ERR_CONSTRUCT_CALL_REQUIRED and the
 * message "<class> must be called with new" (babel-alsa's Capture, babel-media's Engine). */
static inline bool nu_require_construct_call(napi_env env, napi_callback_info info,
                                             const char *class_name) {
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok) {
    nu_throw_last_error(env);
    return false;
  }
  if (!target) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be called with new", class_name);
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", msg);
    return false;
  }
  return true;
}

#endif
