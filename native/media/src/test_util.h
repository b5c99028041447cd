/*
 * The Node-API glue of the test-only bindings under `_test` (test_jitter.c, test_wire.c,
 * test_srtp.c, test_echo.c, test_pipeline.c), so that each of them reads as what it binds.
 *
 * Readers return false and makers NULL with an exception pending. Each TypeError or
 * RangeError message is the caller's, word for word (the tests under test/native/media/ and
 * the TypeScript they compare with name them); a failed napi_* call throws as the engine's
 * binding does (NAPI_CALL, js_util.h).
 */
#ifndef BABEL_TEST_UTIL_H
#define BABEL_TEST_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "js_util.h"

/* ---- the call: `this`, the arguments, the native object ---- */

/* A constructor's `this` and its first n arguments into argv (those not given: undefined;
 * *argc, if argc is not NULL: how many were). NULL with a TypeError when called without
 * `new` (the class's name comes from test_register). */
napi_value test_new(napi_env env, napi_callback_info info, size_t n, napi_value *argv,
                    size_t *argc);

/* A method's native object (what test_wrap put in `this`) and its arguments, as test_new. */
void *test_this(napi_env env, napi_callback_info info, size_t n, napi_value *argv, size_t *argc);

/* A plain function's first n arguments, as test_new. */
bool test_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv);

/* `native` (not NULL) wrapped in `self`, freed by `finalize` with it: self. On failure
 * `finalize` runs at once and NULL is returned. */
napi_value test_wrap(napi_env env, napi_value self, void *native, napi_finalize finalize);

/* `size` zeroed bytes for test_wrap and test_free; NULL with an Error thrown. */
void *test_alloc(napi_env env, size_t size);
void test_free(napi_env env, void *data, void *hint);

/* A finalizer `name` that hands the native object to `free_fn`. */
#define TEST_FINALIZER(name, free_fn)                          \
  static void name(napi_env env, void *data, void *hint) {     \
    (void)env;                                                 \
    (void)hint;                                                \
    free_fn(data);                                             \
  }

/* ---- arguments: false with a TypeError or RangeError of the given message ---- */

/* At least `need` arguments given (TypeError `msg` otherwise: a usage line). */
bool test_argc(napi_env env, size_t argc, size_t need, const char *msg);
/* A Buffer's bytes (TypeError `msg` for anything else). */
bool test_buffer(napi_env env, napi_value v, const char *msg, uint8_t **data, size_t *len);
/* A number (TypeError `msg` for anything else). */
bool test_number(napi_env env, napi_value v, const char *msg, double *out);
/* An object (TypeError `msg` for anything else, null included). */
bool test_object_arg(napi_env env, napi_value v, const char *msg);
/* A whole number in [0, max]: TypeError `type_msg` if v is not a number, RangeError
 * `range_msg` if it is out of range or fractional (NaN included). */
bool test_whole(napi_env env, napi_value v, double max, const char *type_msg,
                const char *range_msg, double *out);
/* test_whole with the messages "NAME must be a number" and "NAME must be an integer in
 * 0..MAX"; undefined gives `fallback` when it is >= 0 (and is refused when it is < 0). */
bool test_uint(napi_env env, napi_value v, const char *name, double max, double fallback,
               double *out);

/* ---- results: NULL with an exception pending ---- */

napi_value test_null(napi_env env);
napi_value test_bool(napi_env env, bool b);
napi_value test_num(napi_env env, double d);
napi_value test_str(napi_env env, const char *s);
napi_value test_char(napi_env env, char c); /* a string of that one character */
/* A new Buffer holding a copy of len bytes (none: an empty Buffer). */
napi_value test_copy(napi_env env, const void *data, size_t len);

/* One property of an object test_object builds, in the order given (a TEST_VALUE's value
 * must not be NULL). */
typedef enum { TEST_FIELD_NUM, TEST_FIELD_BOOL, TEST_FIELD_STR, TEST_FIELD_VALUE } test_field_kind;
typedef struct {
  const char *name;
  test_field_kind kind;
  double num;
  const char *str;
  napi_value value;
} test_field;
#define TEST_NUM(name, x) {(name), TEST_FIELD_NUM, (double)(x), NULL, NULL}
#define TEST_BOOL(name, b) {(name), TEST_FIELD_BOOL, (b) ? 1 : 0, NULL, NULL}
#define TEST_STR(name, s) {(name), TEST_FIELD_STR, 0, (s), NULL}
#define TEST_VALUE(name, v) {(name), TEST_FIELD_VALUE, 0, NULL, (v)}

napi_value test_object(napi_env env, const test_field *fields, size_t n);
#define TEST_OBJECT(env, fields) test_object((env), (fields), sizeof(fields) / sizeof((fields)[0]))

/* A getter `fn` of the native object T that `this` wraps: `make(env, expr)`, where expr may
 * name the object `self`. */
#define TEST_DEFINE_GETTER(fn, T, make, expr)                         \
  static napi_value fn(napi_env env, napi_callback_info info) {       \
    T *self = test_this(env, info, 0, NULL, NULL);                    \
    return self ? make(env, (expr)) : NULL;                           \
  }

/* ---- registration on the `_test` object ---- */

/* Prototype members as an engine's class has them: methods writable and configurable,
 * getters neither, none enumerable. */
#define TEST_METHOD(name, fn) {(name), NULL, (fn), NULL, NULL, NULL, napi_default_method, NULL}
#define TEST_GETTER(name, fn) {(name), NULL, NULL, (fn), NULL, NULL, napi_default, NULL}

/* One export: a class (props: its prototype's members) or, with props NULL, a function. */
typedef struct {
  const char *name;
  napi_callback fn;
  const napi_property_descriptor *props;
  size_t n;
} test_export;
#define TEST_CLASS(name, ctor, props) {(name), (ctor), (props), sizeof(props) / sizeof((props)[0])}
#define TEST_FUNCTION(name, fn) {(name), (fn), NULL, 0}

/* Defines each export on `test` under its name; the first failure's status. */
napi_status test_register(napi_env env, napi_value test, const test_export *exports, size_t n);
#define TEST_REGISTER(env, test, exports) \
  test_register((env), (test), (exports), sizeof(exports) / sizeof((exports)[0]))

#endif
