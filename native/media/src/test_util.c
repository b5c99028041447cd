/* The test-only bindings' Node-API glue (test_util.h). */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the call ---- */

/* Node fills the argv slots past the arguments given with undefined itself. */
static bool call_info(napi_env env, napi_callback_info info, size_t n, napi_value *argv,
                      size_t *argc, napi_value *self, void **data) {
  size_t given = n;
  if (napi_get_cb_info(env, info, &given, argv, self, data) != napi_ok) {
    js_throw_last_error(env);
    return false;
  }
  if (argc) *argc = given;
  return true;
}

napi_value test_new(napi_env env, napi_callback_info info, size_t n, napi_value *argv,
                    size_t *argc) {
  napi_value self, target = NULL;
  void *name = NULL;
  if (!call_info(env, info, n, argv, argc, &self, &name)) return NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) {
    char msg[128];
    snprintf(msg, sizeof msg, "Class constructor %s cannot be invoked without 'new'",
             name ? (const char *)name : "");
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  return self;
}

void *test_this(napi_env env, napi_callback_info info, size_t n, napi_value *argv, size_t *argc) {
  napi_value self;
  void *native = NULL;
  if (!call_info(env, info, n, argv, argc, &self, NULL)) return NULL;
  if (napi_unwrap(env, self, &native) != napi_ok || native == NULL) {
    napi_throw_type_error(env, NULL, "babel-media: not a constructed object");
    return NULL;
  }
  return native;
}

bool test_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  napi_value self;
  return call_info(env, info, n, argv, NULL, &self, NULL);
}

napi_value test_wrap(napi_env env, napi_value self, void *native, napi_finalize finalize) {
  if (napi_wrap(env, self, native, finalize, NULL, NULL) != napi_ok) {
    finalize(env, native, NULL);
    js_throw_last_error(env);
    return NULL;
  }
  return self;
}

void *test_alloc(napi_env env, size_t size) {
  void *p = calloc(1, size);
  if (p == NULL) napi_throw_error(env, NULL, "out of memory");
  return p;
}

void test_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* ---- arguments ---- */

bool test_argc(napi_env env, size_t argc, size_t need, const char *msg) {
  if (argc >= need) return true;
  napi_throw_type_error(env, NULL, msg);
  return false;
}

bool test_buffer(napi_env env, napi_value v, const char *msg, uint8_t **data, size_t *len) {
  bool is = false;
  void *p = NULL;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) {
    js_throw_last_error(env);
    return false;
  }
  *data = p;
  return true;
}

static bool is_type(napi_env env, napi_value v, napi_valuetype want) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == want;
}

bool test_number(napi_env env, napi_value v, const char *msg, double *out) {
  if (!is_type(env, v, napi_number)) {
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return napi_get_value_double(env, v, out) == napi_ok;
}

bool test_object_arg(napi_env env, napi_value v, const char *msg) {
  if (is_type(env, v, napi_object)) return true;
  napi_throw_type_error(env, NULL, msg);
  return false;
}

bool test_whole(napi_env env, napi_value v, double max, const char *type_msg,
                const char *range_msg, double *out) {
  if (!test_number(env, v, type_msg, out)) return false;
  if (!(*out >= 0 && *out <= max && floor(*out) == *out)) {
    napi_throw_range_error(env, NULL, range_msg);
    return false;
  }
  return true;
}

bool test_uint(napi_env env, napi_value v, const char *name, double max, double fallback,
               double *out) {
  if (fallback >= 0 && is_type(env, v, napi_undefined)) {
    *out = fallback;
    return true;
  }
  char type_msg[96], range_msg[128];
  snprintf(type_msg, sizeof type_msg, "%s must be a number", name);
  snprintf(range_msg, sizeof range_msg, "%s must be an integer in 0..%.0f", name, max);
  return test_whole(env, v, max, type_msg, range_msg, out);
}

/* ---- results ---- */

napi_value test_null(napi_env env) {
  napi_value v;
  NAPI_CALL(env, napi_get_null(env, &v));
  return v;
}

napi_value test_bool(napi_env env, bool b) {
  napi_value v;
  NAPI_CALL(env, napi_get_boolean(env, b, &v));
  return v;
}

napi_value test_num(napi_env env, double d) {
  napi_value v;
  NAPI_CALL(env, napi_create_double(env, d, &v));
  return v;
}

napi_value test_str(napi_env env, const char *s) {
  napi_value v;
  NAPI_CALL(env, napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v));
  return v;
}

napi_value test_char(napi_env env, char c) {
  napi_value v;
  NAPI_CALL(env, napi_create_string_utf8(env, &c, 1, &v));
  return v;
}

napi_value test_copy(napi_env env, const void *data, size_t len) {
  napi_value v;
  NAPI_CALL(env, napi_create_buffer_copy(env, len, len ? data : (const void *)"", NULL, &v));
  return v;
}

napi_value test_object(napi_env env, const test_field *fields, size_t n) {
  napi_value obj;
  NAPI_CALL(env, napi_create_object(env, &obj));
  for (size_t i = 0; i < n; i++) {
    const test_field *f = &fields[i];
    napi_value v = f->kind == TEST_FIELD_NUM    ? test_num(env, f->num)
                   : f->kind == TEST_FIELD_BOOL ? test_bool(env, f->num != 0)
                   : f->kind == TEST_FIELD_STR  ? test_str(env, f->str)
                                                : f->value;
    if (v == NULL) return NULL;
    NAPI_CALL(env, napi_set_named_property(env, obj, f->name, v));
  }
  return obj;
}

/* ---- registration ---- */

napi_status test_register(napi_env env, napi_value test, const test_export *exports, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const test_export *e = &exports[i];
    napi_value v;
    napi_status st;
    if (e->props) /* the class's name is its constructor's data: test_new's message */
      st = napi_define_class(env, e->name, NAPI_AUTO_LENGTH, e->fn, (void *)e->name, e->n,
                             e->props, &v);
    else
      st = napi_create_function(env, e->name, NAPI_AUTO_LENGTH, e->fn, NULL, &v);
    if (st == napi_ok) st = napi_set_named_property(env, test, e->name, v);
    if (st != napi_ok) return st;
  }
  return napi_ok;
}
