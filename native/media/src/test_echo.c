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
#include "test_util.h"

#define MAX_EVENTS 64
#define PCM "echo: pcm must be a Buffer"

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

/* The option `name`, which must be of type `want`. */
static bool get_prop(napi_env env, napi_value obj, const char *name, napi_valuetype want,
                     napi_value *out) {
  napi_valuetype type;
  if (napi_get_named_property(env, obj, name, out) != napi_ok ||
      napi_typeof(env, *out, &type) != napi_ok) {
    js_throw_last_error(env);
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

static bool get_mode(napi_env env, napi_value obj, echo_mode *out) {
  napi_value mode;
  char s[8] = {0};
  size_t len = 0;
  if (!get_prop(env, obj, "mode", napi_string, &mode)) return false;
  if (napi_get_value_string_utf8(env, mode, s, sizeof s, &len) != napi_ok) {
    js_throw_last_error(env);
    return false;
  }
  if (strcmp(s, "aec") == 0) *out = ECHO_AEC;
  else if (strcmp(s, "duck") == 0) *out = ECHO_DUCK;
  else if (strcmp(s, "off") == 0) *out = ECHO_OFF;
  else {
    napi_throw_range_error(env, NULL, "echo: mode must be aec, duck or off");
    return false;
  }
  return true;
}

static const char *mode_name(echo_mode m) {
  return m == ECHO_AEC ? "aec" : m == ECHO_DUCK ? "duck" : "off";
}

static napi_value echo_ctor(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = test_new(env, info, 1, argv, NULL);
  if (self == NULL || !test_object_arg(env, argv[0], "echo: options must be an object"))
    return NULL;
  napi_value opts = argv[0];
  echo_options o = {0};
  double frame = 0;
  if (!get_mode(env, opts, &o.mode) || !get_double(env, opts, "frameSamples", &frame) ||
      !get_double(env, opts, "micGainDb", &o.mic_gain_db) ||
      !get_double(env, opts, "speakerVolume", &o.speaker_volume) ||
      !get_bool(env, opts, "noiseSuppression", &o.noise_suppression) ||
      !get_bool(env, opts, "autoGain", &o.auto_gain) ||
      !get_double(env, opts, "playbackDelayMs", &o.playback_delay_ms))
    return NULL;
  o.frame_samples = frame == 480 || frame == 960 ? (int)frame : 0;
  test_echo *t = test_alloc(env, sizeof *t);
  if (t == NULL) return NULL;
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
  return test_wrap(env, self, t, finalize);
}

/* playback(pcm, now) / capture(pcm, now): the frame processed, in a new Buffer. The frame is
 * copied into t->in first (its byteOffset may be odd). */
static napi_value run(napi_env env, napi_callback_info info, bool capture) {
  size_t argc;
  napi_value argv[2];
  test_echo *t = test_this(env, info, 2, argv, &argc);
  uint8_t *pcm;
  size_t len;
  double now;
  /* Without `now`, too, the complaint is about pcm. */
  if (t == NULL || !test_argc(env, argc, 2, PCM) || !test_buffer(env, argv[0], PCM, &pcm, &len))
    return NULL;
  if (len != (size_t)t->n * 2) {
    char msg[80];
    snprintf(msg, sizeof msg, "echo: pcm must be one frame of %d bytes, got %zu", t->n * 2, len);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  memcpy(t->in, pcm, len);
  if (!test_number(env, argv[1], "echo: now must be a number", &now)) return NULL;
  if (capture) echo_capture(t->e, t->in, t->out, now);
  else echo_playback(t->e, t->in, t->out, now);
  return test_copy(env, t->out, (size_t)t->n * 2);
}

static napi_value m_playback(napi_env env, napi_callback_info info) {
  return run(env, info, false);
}

static napi_value m_capture(napi_env env, napi_callback_info info) { return run(env, info, true); }

/* setSpeakerVolume(volume) / setMicGainDb(db) */
static napi_value setter(napi_env env, napi_callback_info info, bool volume) {
  napi_value argv[1];
  test_echo *t = test_this(env, info, 1, argv, NULL);
  const char *msg = volume ? "echo: volume must be a number" : "echo: db must be a number";
  double v = 0;
  if (t == NULL || !test_number(env, argv[0], msg, &v)) return NULL;
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

/* events(): [name, value] pairs since the last call. */
static napi_value m_events(napi_env env, napi_callback_info info) {
  test_echo *t = test_this(env, info, 0, NULL, NULL);
  if (t == NULL) return NULL;
  napi_value list;
  NAPI_CALL(env, napi_create_array_with_length(env, (size_t)t->nev, &list));
  for (int i = 0; i < t->nev; i++) {
    napi_value pair, name, value;
    const char *s = t->ev[i].event == ECHO_EVENT_HEARD ? "heard" : "delayMeasured";
    NAPI_CALL(env, napi_create_array_with_length(env, 2, &pair));
    if ((name = test_str(env, s)) == NULL || (value = test_num(env, t->ev[i].value)) == NULL)
      return NULL;
    NAPI_CALL(env, napi_set_element(env, pair, 0, name));
    NAPI_CALL(env, napi_set_element(env, pair, 1, value));
    NAPI_CALL(env, napi_set_element(env, list, (uint32_t)i, pair));
  }
  t->nev = 0;
  return list;
}

TEST_DEFINE_GETTER(g_mode, test_echo, test_str, mode_name(echo_get_mode(self->e)))
TEST_DEFINE_GETTER(g_delay, test_echo, test_num, echo_delay_ms(self->e))
TEST_DEFINE_GETTER(g_cancelling, test_echo, test_bool, echo_cancelling(self->e))
TEST_DEFINE_GETTER(g_volume, test_echo, test_num, echo_speaker_volume(self->e))

napi_status register_echo_test(napi_env env, napi_value test) {
  static const napi_property_descriptor props[] = {
      TEST_METHOD("playback", m_playback), TEST_METHOD("capture", m_capture),
      TEST_METHOD("setSpeakerVolume", m_set_volume), TEST_METHOD("setMicGainDb", m_set_gain),
      TEST_METHOD("events", m_events), TEST_GETTER("mode", g_mode),
      TEST_GETTER("delayMs", g_delay), TEST_GETTER("cancelling", g_cancelling),
      TEST_GETTER("speakerVolume", g_volume),
  };
  static const test_export exports[] = {TEST_CLASS("Echo", echo_ctor, props)};
  return TEST_REGISTER(env, test, exports);
}
