/*
 * Test bindings of the echo control (echo.h), under `_test`:
 *
 *   new Echo({ mode: 'aec'|'duck'|'off', frameSamples, micGainDb, speakerVolume,
 *              noiseSuppression, autoGain, playbackDelayMs })
 *     .playback(pcm: Buffer, now): Buffer    one frame for the speaker (a new Buffer)
 *     .capture(pcm: Buffer, now): Buffer     one captured frame (a new Buffer)
 *     .setSpeakerVolume(v)  .setMicGainDb(db)
 *     .mode .delayMs .cancelling .speakerVolume
 *     .events(): Array<[name, value]>        the events since the last call:
 *                                            'heard' | 'delayMeasured' (echo.h)
 *
 * TypeError for a missing or mistyped option or argument, RangeError for a frame of the
 * wrong length or an option echo_new refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"
#include "test_exports.h"

#define MAX_EVENTS 64

#define CALL(env, call)  \
  do {                   \
    if ((call) != napi_ok) { \
      throw_pending(env);    \
      return NULL;           \
    }                        \
  } while (0)

typedef struct {
  echo_control *e;
  int n;
  int nev;
  struct {
    echo_event event;
    double value;
  } ev[MAX_EVENTS];
  int16_t in[960];
  int16_t out[960];
} test_echo;

static void throw_pending(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, NULL,
                   info && info->error_message ? info->error_message : "echo: N-API call failed");
}

static void on_event(void *user, echo_event event, double value) {
  test_echo *t = user;
  if (t->nev >= MAX_EVENTS) return;
  t->ev[t->nev].event = event;
  t->ev[t->nev].value = value;
  t->nev++;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  test_echo *t = data;
  echo_free(t->e);
  free(t);
}

static bool get_prop(napi_env env, napi_value obj, const char *name, napi_valuetype want,
                     napi_value *out) {
  napi_valuetype type;
  if (napi_get_named_property(env, obj, name, out) != napi_ok ||
      napi_typeof(env, *out, &type) != napi_ok) {
    throw_pending(env);
    return false;
  }
  if (type != want) {
    char msg[96];
    snprintf(msg, sizeof msg, "echo: %s must be a %s", name,
             want == napi_number ? "number" : want == napi_boolean ? "boolean" : "string");
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static bool get_double(napi_env env, napi_value obj, const char *name, double *out) {
  napi_value v;
  return get_prop(env, obj, name, napi_number, &v) &&
         napi_get_value_double(env, v, out) == napi_ok;
}

static bool get_bool(napi_env env, napi_value obj, const char *name, bool *out) {
  napi_value v;
  return get_prop(env, obj, name, napi_boolean, &v) && napi_get_value_bool(env, v, out) == napi_ok;
}

static napi_value echo_ctor(napi_env env, napi_callback_info info) {
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) {
    napi_throw_type_error(env, NULL, "echo: class constructor Echo cannot be invoked without 'new'");
    return NULL;
  }
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  napi_value self;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  napi_valuetype type = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_object) {
    napi_throw_type_error(env, NULL, "echo: options must be an object");
    return NULL;
  }
  echo_options o = {0};
  napi_value mode;
  char mode_s[8] = {0};
  size_t len = 0;
  if (!get_prop(env, argv[0], "mode", napi_string, &mode)) return NULL;
  CALL(env, napi_get_value_string_utf8(env, mode, mode_s, sizeof mode_s, &len));
  if (strcmp(mode_s, "aec") == 0) o.mode = ECHO_AEC;
  else if (strcmp(mode_s, "duck") == 0) o.mode = ECHO_DUCK;
  else if (strcmp(mode_s, "off") == 0) o.mode = ECHO_OFF;
  else {
    napi_throw_range_error(env, NULL, "echo: mode must be aec, duck or off");
    return NULL;
  }
  double frame = 0;
  if (!get_double(env, argv[0], "frameSamples", &frame) ||
      !get_double(env, argv[0], "micGainDb", &o.mic_gain_db) ||
      !get_double(env, argv[0], "speakerVolume", &o.speaker_volume) ||
      !get_bool(env, argv[0], "noiseSuppression", &o.noise_suppression) ||
      !get_bool(env, argv[0], "autoGain", &o.auto_gain) ||
      !get_double(env, argv[0], "playbackDelayMs", &o.playback_delay_ms)) {
    return NULL;
  }
  o.frame_samples = frame == 480 || frame == 960 ? (int)frame : 0;
  test_echo *t = calloc(1, sizeof *t);
  if (t == NULL) {
    napi_throw_error(env, NULL, "echo: out of memory");
    return NULL;
  }
  o.on_event = on_event;
  o.event_user = t;
  char err[128];
  t->e = echo_new(&o, err, sizeof err);
  if (t->e == NULL) {
    free(t);
    napi_throw_range_error(env, NULL, err);
    return NULL;
  }
  t->n = o.frame_samples;
  if (napi_wrap(env, self, t, finalize, NULL, NULL) != napi_ok) {
    finalize(env, t, NULL);
    throw_pending(env);
    return NULL;
  }
  return self;
}

static test_echo *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *t = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) {
    throw_pending(env);
    return NULL;
  }
  if (napi_unwrap(env, self, &t) != napi_ok || t == NULL) {
    napi_throw_type_error(env, NULL, "echo: receiver is not an Echo");
    return NULL;
  }
  return t;
}

static bool arg_number(napi_env env, napi_value v, const char *name, double *out) {
  napi_valuetype type;
  if (v == NULL || napi_typeof(env, v, &type) != napi_ok || type != napi_number) {
    char msg[64];
    snprintf(msg, sizeof msg, "echo: %s must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return napi_get_value_double(env, v, out) == napi_ok;
}

/* (pcm, now): the frame copied into t->in (its byteOffset may be odd). */
static bool frame_args(napi_env env, test_echo *t, size_t argc, napi_value *argv,
                       double *now) {
  bool is_buffer = false;
  void *data = NULL;
  size_t len = 0;
  if (argc < 2 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, NULL, "echo: pcm must be a Buffer");
    return false;
  }
  if (napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    throw_pending(env);
    return false;
  }
  if (len != (size_t)t->n * 2) {
    char msg[80];
    snprintf(msg, sizeof msg, "echo: pcm must be one frame of %d bytes, got %zu", t->n * 2, len);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  memcpy(t->in, data, len);
  return arg_number(env, argv[1], "now", now);
}

static napi_value run(napi_env env, napi_callback_info info, bool capture) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  test_echo *t = unwrap(env, info, &argc, argv);
  double now = 0;
  if (t == NULL || !frame_args(env, t, argc, argv, &now)) return NULL;
  if (capture) echo_capture(t->e, t->in, t->out, now);
  else echo_playback(t->e, t->in, t->out, now);
  napi_value out;
  CALL(env, napi_create_buffer_copy(env, (size_t)t->n * 2, t->out, NULL, &out));
  return out;
}

static napi_value m_playback(napi_env env, napi_callback_info info) {
  return run(env, info, false);
}

static napi_value m_capture(napi_env env, napi_callback_info info) { return run(env, info, true); }

static napi_value setter(napi_env env, napi_callback_info info, bool volume) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  test_echo *t = unwrap(env, info, &argc, argv);
  double v = 0;
  if (t == NULL || !arg_number(env, argv[0], volume ? "volume" : "db", &v)) return NULL;
  if (volume) echo_set_speaker_volume(t->e, v);
  else echo_set_mic_gain_db(t->e, v);
  return NULL;
}

static napi_value m_set_volume(napi_env env, napi_callback_info info) {
  return setter(env, info, true);
}

static napi_value m_set_gain(napi_env env, napi_callback_info info) {
  return setter(env, info, false);
}

static napi_value m_events(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  test_echo *t = unwrap(env, info, &argc, NULL);
  if (t == NULL) return NULL;
  napi_value list;
  CALL(env, napi_create_array_with_length(env, (size_t)t->nev, &list));
  for (int i = 0; i < t->nev; i++) {
    napi_value pair, name, value;
    const char *s = t->ev[i].event == ECHO_EVENT_HEARD ? "heard" : "delayMeasured";
    CALL(env, napi_create_array_with_length(env, 2, &pair));
    CALL(env, napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &name));
    CALL(env, napi_create_double(env, t->ev[i].value, &value));
    CALL(env, napi_set_element(env, pair, 0, name));
    CALL(env, napi_set_element(env, pair, 1, value));
    CALL(env, napi_set_element(env, list, (uint32_t)i, pair));
  }
  t->nev = 0;
  return list;
}

static napi_value g_mode(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  test_echo *t = unwrap(env, info, &argc, NULL);
  if (t == NULL) return NULL;
  echo_mode m = echo_get_mode(t->e);
  napi_value v;
  CALL(env, napi_create_string_utf8(env, m == ECHO_AEC ? "aec" : m == ECHO_DUCK ? "duck" : "off",
                                    NAPI_AUTO_LENGTH, &v));
  return v;
}

static napi_value g_number(napi_env env, napi_callback_info info, double (*get)(const echo_control *)) {
  size_t argc = 0;
  test_echo *t = unwrap(env, info, &argc, NULL);
  if (t == NULL) return NULL;
  napi_value v;
  CALL(env, napi_create_double(env, get(t->e), &v));
  return v;
}

static napi_value g_delay(napi_env env, napi_callback_info info) {
  return g_number(env, info, echo_delay_ms);
}

static napi_value g_volume(napi_env env, napi_callback_info info) {
  return g_number(env, info, echo_speaker_volume);
}

static napi_value g_cancelling(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  test_echo *t = unwrap(env, info, &argc, NULL);
  if (t == NULL) return NULL;
  napi_value v;
  CALL(env, napi_get_boolean(env, echo_cancelling(t->e), &v));
  return v;
}

napi_status register_echo_test(napi_env env, napi_value test) {
  napi_property_descriptor desc[] = {
      {"playback", NULL, m_playback, NULL, NULL, NULL, napi_default, NULL},
      {"capture", NULL, m_capture, NULL, NULL, NULL, napi_default, NULL},
      {"setSpeakerVolume", NULL, m_set_volume, NULL, NULL, NULL, napi_default, NULL},
      {"setMicGainDb", NULL, m_set_gain, NULL, NULL, NULL, napi_default, NULL},
      {"events", NULL, m_events, NULL, NULL, NULL, napi_default, NULL},
      {"mode", NULL, NULL, g_mode, NULL, NULL, napi_default, NULL},
      {"delayMs", NULL, NULL, g_delay, NULL, NULL, napi_default, NULL},
      {"cancelling", NULL, NULL, g_cancelling, NULL, NULL, napi_default, NULL},
      {"speakerVolume", NULL, NULL, g_volume, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  napi_status s = napi_define_class(env, "Echo", NAPI_AUTO_LENGTH, echo_ctor, NULL,
                                    sizeof desc / sizeof desc[0], desc, &cls);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, test, "Echo", cls);
}
