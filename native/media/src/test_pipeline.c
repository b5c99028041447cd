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
#include <string.h>

#include "test_util.h"

#define NUMBER "a number is required"
#define BUFFER "a Buffer is required"

TEST_FINALIZER(finalize, pipeline_free)

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  napi_value self = test_new(env, info, 2, argv, &argc);
  engine_config cfg;
  pipeline_leg leg;
  engine_direction dir;
  if (self == NULL || !test_argc(env, argc, 2, "usage: new Pipeline(options, leg)") ||
      !js_engine_config(env, argv[0], &cfg) || !js_leg(env, argv[1], &leg, &dir))
    return NULL;
  char err[200];
  pipeline *p = pipeline_new(&cfg.pipeline, &leg, err, sizeof err);
  if (!p) {
    napi_throw_error(env, NULL, err);
    return NULL;
  }
  return test_wrap(env, self, p, finalize);
}

static napi_value capture_frame(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  pipeline *p = test_this(env, info, 2, argv, NULL);
  uint8_t *pcm;
  size_t len;
  double now;
  if (!p || !test_buffer(env, argv[0], BUFFER, &pcm, &len) ||
      !test_number(env, argv[1], NUMBER, &now))
    return NULL;
  if (len != (size_t)pipeline_frame_samples(p) * 2) {
    napi_throw_range_error(env, NULL, "captureFrame takes exactly one frame");
    return NULL;
  }
  int16_t frame[PIPELINE_MAX_FRAME_SAMPLES];
  memcpy(frame, pcm, len);
  uint8_t datagram[PIPELINE_MAX_DATAGRAM];
  size_t n = pipeline_capture_frame(p, frame, now, datagram, sizeof datagram);
  return n == 0 ? test_null(env) : test_copy(env, datagram, n);
}

static napi_value receive(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  pipeline *p = test_this(env, info, 4, argv, NULL);
  uint8_t *data;
  size_t len, ip_len;
  double port, now;
  char ip[64];
  if (!p || !test_buffer(env, argv[0], BUFFER, &data, &len) ||
      !test_number(env, argv[2], NUMBER, &port) || !test_number(env, argv[3], NUMBER, &now))
    return NULL;
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[1], ip, sizeof ip, &ip_len));
  struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, ip, &from.sin_addr) != 1) {
    napi_throw_range_error(env, NULL, "address must be an IPv4 address");
    return NULL;
  }
  char key = 0;
  return pipeline_receive(p, data, len, &from, now, &key) ? test_char(env, key) : test_null(env);
}

static napi_value playout_frame(napi_env env, napi_callback_info info) {
  napi_value argv[1], pcm;
  pipeline *p = test_this(env, info, 1, argv, NULL);
  double now;
  if (!p || !test_number(env, argv[0], NUMBER, &now)) return NULL;
  int16_t frame[PIPELINE_MAX_FRAME_SAMPLES];
  playout_kind k = pipeline_playout_frame(p, now, frame);
  static const char *names[] = {"frame", "conceal", "silence"};
  if ((pcm = test_copy(env, frame, (size_t)pipeline_frame_samples(p) * 2)) == NULL) return NULL;
  const test_field fields[] = {TEST_STR("kind", names[k]), TEST_VALUE("pcm", pcm)};
  return TEST_OBJECT(env, fields);
}

static napi_value next_playout_at(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  pipeline *p = test_this(env, info, 1, argv, NULL);
  double previous;
  if (!p || !test_number(env, argv[0], NUMBER, &previous)) return NULL;
  return test_num(env, pipeline_next_playout_at(p, previous));
}

static napi_value press_key(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  pipeline *p = test_this(env, info, 1, argv, NULL);
  char key[4] = "";
  size_t len = 0;
  if (!p) return NULL;
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[0], key, sizeof key, &len));
  return test_bool(env, len == 1 && pipeline_press_key(p, key[0]));
}

static napi_value stats(napi_env env, napi_callback_info info) {
  pipeline *p = test_this(env, info, 0, NULL, NULL);
  if (!p) return NULL;
  engine_stats s;
  memset(&s, 0, sizeof s);
  pipeline_get_stats(p, &s.media);
  return js_stats(env, &s);
}

napi_status register_pipeline_test(napi_env env, napi_value test) {
  static const napi_property_descriptor methods[] = {
      TEST_METHOD("captureFrame", capture_frame), TEST_METHOD("receive", receive),
      TEST_METHOD("playoutFrame", playout_frame), TEST_METHOD("nextPlayoutAt", next_playout_at),
      TEST_METHOD("pressKey", press_key), TEST_METHOD("stats", stats),
  };
  static const test_export exports[] = {TEST_CLASS("Pipeline", construct, methods)};
  return TEST_REGISTER(env, test, exports);
}
