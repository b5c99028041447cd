/* The engine's events as JS values, and the errors its methods throw (js_util.h). */
#include <stdio.h>
#include <string.h>
#include "js_util.h"

napi_value js_event_arg(napi_env env, const engine_event *ev) {
  napi_value arg = NULL;
  switch (ev->kind) {
    case ENGINE_EV_DTMF:
      napi_create_string_utf8(env, &ev->key, 1, &arg);
      return arg;
    case ENGINE_EV_CAPTURE_OPEN:
    case ENGINE_EV_CAPTURE_ERROR:
      if (napi_create_object(env, &arg) != napi_ok) return NULL;
      nu_set_str(env, arg, "state", ev->kind == ENGINE_EV_CAPTURE_OPEN ? "open" : "error");
      if (ev->kind == ENGINE_EV_CAPTURE_OPEN) return arg;
      nu_set_str(env, arg, "message", ev->message);
      nu_set_num(env, arg, "retryInMs", ev->retry_ms);
      return arg;
    case ENGINE_EV_ECHO:
      if (napi_create_object(env, &arg) != napi_ok) return NULL;
      nu_set_str(env, arg, "event", ev->echo == ECHO_EVENT_HEARD ? "heard" : "delay");
      nu_set_num(env, arg, "delayMs", ev->delay_ms);
      return arg;
    case ENGINE_EV_WARNING:
      if (napi_create_object(env, &arg) != napi_ok) return NULL;
      nu_set_str(env, arg, "message", ev->message);
      return arg;
    default:
      napi_get_undefined(env, &arg);
      return arg;
  }
}

const char *js_event_name(engine_event_kind kind) {
  switch (kind) {
    case ENGINE_EV_DTMF: return "dtmf";
    case ENGINE_EV_SILENT: return "silent";
    case ENGINE_EV_CAPTURE_OPEN:
    case ENGINE_EV_CAPTURE_ERROR: return "capture";
    case ENGINE_EV_WARNING: return "warning";
    case ENGINE_EV_ECHO: return "echo";
    case ENGINE_EV_CLOSE: return "close";
  }
  return "?";
}

/* Throws an Error whose code is the errno's name. */
void js_throw_errno(napi_env env, const char *message, int err_no) {
  napi_value msg, error, code;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok) {
    js_throw_last_error(env);
    return;
  }
  const char *name = err_no ? strerrorname_np(err_no) : "ENOMEM";
  if (name && napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) == napi_ok) {
    napi_set_named_property(env, error, "code", code);
  }
  napi_throw(env, error);
}

/* The one number argument of a setter, `name` in messages. */
bool js_number_arg(napi_env env, napi_value arg, const char *name, double *out) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, arg, &t);
  if (t != napi_number) {
    char msg[80];
    snprintf(msg, sizeof msg, "%s must be a number", name);
    nu_throw_type(env, msg);
    return false;
  }
  return napi_get_value_double(env, arg, out) == napi_ok;
}
