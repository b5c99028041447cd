/*
 * Test-only binding of pipeline.c under `_test` (test/native/media/engine-pipeline.test.ts
 * runs it beside device/media/pipeline.ts on the same inputs):
 *
 *   new Pipeline(options, leg)   options: the Engine's (its codec, jitter and DTMF part),
 *                                leg: the Engine's start() argument
 *   .captureFrame(pcm, now): Buffer | null
 *   .receive(datagram, address, port, now): key string | null
 *   .playoutFrame(now): { kind: 'frame' | 'conceal' | 'silence', pcm: Buffer }
 *   .nextPlayoutAt(previous): number
 *   .pressKey(key): boolean
 *   .stats(): MediaStats
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "js_util.h"

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  pipeline_free(data);
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL}, self;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "usage: new Pipeline(options, leg)");
    return NULL;
  }
  engine_config cfg;
  pipeline_leg leg;
  engine_direction dir;
  if (!js_engine_config(env, argv[0], &cfg) || !js_leg(env, argv[1], &leg, &dir)) return NULL;
  char err[200];
  pipeline *p = pipeline_new(&cfg.pipeline, &leg, err, sizeof err);
  if (!p) {
    napi_throw_error(env, NULL, err);
    return NULL;
  }
  if (napi_wrap(env, self, p, finalize, NULL, NULL) != napi_ok) {
    pipeline_free(p);
    js_throw_last_error(env);
    return NULL;
  }
  return self;
}

/* `this`'s pipeline and up to four arguments (missing ones undefined). */
static pipeline *unwrap(napi_env env, napi_callback_info info, napi_value *argv, size_t n) {
  size_t argc = n;
  napi_value self;
  pipeline *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok ||
      napi_unwrap(env, self, (void **)&p) != napi_ok) {
    js_throw_last_error(env);
    return NULL;
  }
  for (size_t i = argc; i < n; i++) napi_get_undefined(env, &argv[i]);
  return p;
}

static bool number(napi_env env, napi_value v, double *out) {
  if (napi_get_value_double(env, v, out) == napi_ok) return true;
  napi_throw_type_error(env, NULL, "a number is required");
  return false;
}

static bool bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) == napi_ok && is &&
      napi_get_buffer_info(env, v, data, len) == napi_ok) {
    return true;
  }
  napi_throw_type_error(env, NULL, "a Buffer is required");
  return false;
}

static napi_value capture_frame(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  pipeline *p = unwrap(env, info, argv, 2);
  void *pcm;
  size_t len;
  double now;
  if (!p || !bytes(env, argv[0], &pcm, &len) || !number(env, argv[1], &now)) return NULL;
  if (len != (size_t)pipeline_frame_samples(p) * 2) {
    napi_throw_range_error(env, NULL, "captureFrame takes exactly one frame");
    return NULL;
  }
  int16_t frame[PIPELINE_MAX_FRAME_SAMPLES];
  memcpy(frame, pcm, len);
  uint8_t datagram[PIPELINE_MAX_DATAGRAM];
  size_t n = pipeline_capture_frame(p, frame, now, datagram, sizeof datagram);
  if (n == 0) NAPI_CALL(env, napi_get_null(env, &out));
  else NAPI_CALL(env, napi_create_buffer_copy(env, n, datagram, NULL, &out));
  return out;
}

static napi_value receive(napi_env env, napi_callback_info info) {
  napi_value argv[4], out;
  pipeline *p = unwrap(env, info, argv, 4);
  void *data;
  size_t len, ip_len;
  double port, now;
  char ip[64];
  if (!p || !bytes(env, argv[0], &data, &len) || !number(env, argv[2], &port) ||
      !number(env, argv[3], &now)) {
    return NULL;
  }
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[1], ip, sizeof ip, &ip_len));
  struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, ip, &from.sin_addr) != 1) {
    napi_throw_range_error(env, NULL, "address must be an IPv4 address");
    return NULL;
  }
  char key = 0;
  if (pipeline_receive(p, data, len, &from, now, &key)) {
    NAPI_CALL(env, napi_create_string_utf8(env, &key, 1, &out));
  } else {
    NAPI_CALL(env, napi_get_null(env, &out));
  }
  return out;
}

static napi_value playout_frame(napi_env env, napi_callback_info info) {
  napi_value argv[1], out, kind, pcm;
  pipeline *p = unwrap(env, info, argv, 1);
  double now;
  if (!p || !number(env, argv[0], &now)) return NULL;
  int16_t frame[PIPELINE_MAX_FRAME_SAMPLES];
  playout_kind k = pipeline_playout_frame(p, now, frame);
  static const char *names[] = {"frame", "conceal", "silence"};
  NAPI_CALL(env, napi_create_object(env, &out));
  NAPI_CALL(env, napi_create_string_utf8(env, names[k], NAPI_AUTO_LENGTH, &kind));
  NAPI_CALL(env, napi_create_buffer_copy(env, (size_t)pipeline_frame_samples(p) * 2, frame,
                                         NULL, &pcm));
  NAPI_CALL(env, napi_set_named_property(env, out, "kind", kind));
  NAPI_CALL(env, napi_set_named_property(env, out, "pcm", pcm));
  return out;
}

static napi_value next_playout_at(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  pipeline *p = unwrap(env, info, argv, 1);
  double previous;
  if (!p || !number(env, argv[0], &previous)) return NULL;
  NAPI_CALL(env, napi_create_double(env, pipeline_next_playout_at(p, previous), &out));
  return out;
}

static napi_value press_key(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  pipeline *p = unwrap(env, info, argv, 1);
  char key[4] = "";
  size_t len = 0;
  if (!p) return NULL;
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[0], key, sizeof key, &len));
  NAPI_CALL(env, napi_get_boolean(env, len == 1 && pipeline_press_key(p, key[0]), &out));
  return out;
}

static napi_value stats(napi_env env, napi_callback_info info) {
  pipeline *p = unwrap(env, info, NULL, 0);
  if (!p) return NULL;
  engine_stats s;
  memset(&s, 0, sizeof s);
  pipeline_get_stats(p, &s.media);
  return js_stats(env, &s);
}

napi_status register_pipeline_test(napi_env env, napi_value test) {
  napi_property_descriptor methods[] = {
      {"captureFrame", NULL, capture_frame, NULL, NULL, NULL, napi_default_method, NULL},
      {"receive", NULL, receive, NULL, NULL, NULL, napi_default_method, NULL},
      {"playoutFrame", NULL, playout_frame, NULL, NULL, NULL, napi_default_method, NULL},
      {"nextPlayoutAt", NULL, next_playout_at, NULL, NULL, NULL, napi_default_method, NULL},
      {"pressKey", NULL, press_key, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  napi_status s = napi_define_class(env, "Pipeline", NAPI_AUTO_LENGTH, construct, NULL,
                                    sizeof methods / sizeof methods[0], methods, &cls);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, test, "Pipeline", cls);
}
