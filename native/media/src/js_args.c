/* Reading JS option objects in C: each failure throws a TypeError (wrong type) or a
 * RangeError (out of range) naming the option, and returns false (js_util.h). */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "js_util.h"

bool js_type_error(napi_env env, const char *fmt, const char *name) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, name);
  nu_throw_type(env, msg);
  return false;
}

/* The property `name` of `obj`; *v NULL if absent or undefined. */
bool js_prop(napi_env env, napi_value obj, const char *name, napi_value *v) {
  *v = NULL;
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok) return false;
  if (!has) return true;
  napi_value got;
  napi_valuetype t = napi_undefined;
  if (napi_get_named_property(env, obj, name, &got) != napi_ok) return false;
  if (napi_typeof(env, got, &t) != napi_ok) return false;
  if (t != napi_undefined) *v = got;
  return true;
}

/* A number option in [min, max] (an integer if `integer`); absent: `def`. */
bool js_num(napi_env env, napi_value obj, const char *path, const char *name, double def,
                double min, double max, bool integer, double *out) {
  napi_value v;
  char full[96];
  snprintf(full, sizeof full, "%s%s", path, name);
  if (!js_prop(env, obj, name, &v)) return false;
  if (!v) {
    *out = def;
    return true;
  }
  napi_valuetype t = napi_undefined;
  double d = 0;
  napi_typeof(env, v, &t);
  if (t != napi_number) return js_type_error(env, "%s must be a number", full);
  napi_get_value_double(env, v, &d);
  if (!(d >= min && d <= max) || (integer && d != floor(d))) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s must be %s in %.15g..%.15g, got %.15g", full,
             integer ? "an integer" : "a number", min, max, d);
    nu_throw_range(env, msg);
    return false;
  }
  *out = d;
  return true;
}

/* A string option into buf (required unless def is non-NULL). */
bool js_str(napi_env env, napi_value obj, const char *path, const char *name,
                const char *def, char *buf, size_t cap) {
  napi_value v;
  char full[96];
  snprintf(full, sizeof full, "%s%s", path, name);
  if (!js_prop(env, obj, name, &v)) return false;
  if (!v) {
    if (!def) return js_type_error(env, "%s is required", full);
    snprintf(buf, cap, "%s", def);
    return true;
  }
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  if (t != napi_string) return js_type_error(env, "%s must be a string", full);
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return false;
  if (len == 0 || len >= cap - 1 || strlen(buf) != len) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s must be 1 to %zu bytes, without NUL", full, cap - 2);
    nu_throw_range(env, msg);
    return false;
  }
  return true;
}

bool js_ipv4(napi_env env, const char *text, const char *name, struct in_addr *out) {
  if (inet_pton(AF_INET, text, out) == 1) return true;
  char msg[200];
  snprintf(msg, sizeof msg, "%s must be an IPv4 address, got \"%.64s\"", name, text);
  napi_throw_range_error(env, "ERR_INVALID_IP_ADDRESS", msg);
  return false;
}

bool js_object(napi_env env, napi_value obj, const char *name, napi_value *v,
                   bool required) {
  if (!js_prop(env, obj, name, v)) return false;
  if (!*v) return required ? js_type_error(env, "%s is required", name) : true;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, *v, &t);
  if (t != napi_object) return js_type_error(env, "%s must be an object", name);
  return true;
}

bool js_bool(napi_env env, napi_value obj, const char *path, const char *name,
                    bool *out) {
  napi_value v;
  char full[96];
  snprintf(full, sizeof full, "%s%s", path, name);
  if (!js_prop(env, obj, name, &v)) return false;
  if (!v) return true;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  if (t != napi_boolean) return js_type_error(env, "%s must be a boolean", full);
  return napi_get_value_bool(env, v, out) == napi_ok;
}
