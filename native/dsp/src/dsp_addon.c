/*
 * babel-dsp: echo cancellation, noise suppression and automatic gain for Babel Intercom,
 * over the system's speexdsp (speex_echo_* and speex_preprocess_*), through Node-API.
 *
 * One format only: 48 kHz, mono, signed 16-bit little-endian PCM (native order on every
 * platform we run on: x86-64, arm64, armhf), in frames of 480 or 960 samples, processed
 * at 16 kHz (wideband speech; speexdsp's resampler down and back up). One class:
 *
 *   new Processor(frameSamples, tailMs)
 *       tailMs 0: no echo canceller (noise suppression and gain only); otherwise the
 *       length of the echo path the adaptive filter models, 20..1000 ms
 *     .process(mic, far) -> Buffer
 *         mic: one frame from the microphone; far: the frame that reached the speaker
 *         while it was recorded (null or undefined: silence). The result is a new frame.
 *     .reset()                      forgets the learned echo path
 *     .denoise .agc                 booleans, read and write
 *     .noiseSuppressDb .echoSuppressDb .echoSuppressActiveDb   negative dB, read and write
 *     .agcLevel                     the AGC's target level (1..32768), read and write
 *
 * The residual echo the linear filter leaves is suppressed by the preprocessor, which is
 * handed the echo state (SPEEX_PREPROCESS_SET_ECHO_STATE). Every failure is a thrown JS
 * exception (RangeError/TypeError for bad arguments); nothing here aborts the process.
 *
 * This file is the Node-API face only: the processing is dsp_core.c, which babel-media
 * compiles in too, so the device's native media loop runs the very same code.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_core.h"
#define NAPI_UTIL_ERROR_CODE "ERR_BABEL_DSP_NAPI"
#define NAPI_UTIL_PREFIX "dsp: "
#include "napi_util.h"

#define SAMPLE_RATE DSP_CORE_SAMPLE_RATE
#define MAX_FRAME DSP_CORE_MAX_FRAME
#define MAX_TAIL_MS DSP_CORE_MAX_TAIL_MS

static void dsp_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  dsp_core_free(data);
}

/*
 * One frame of PCM from a Uint8Array into `out` (aligned). `optional`: null or undefined
 * gives silence. False, with a TypeError/RangeError thrown, otherwise.
 */
static bool get_frame(napi_env env, napi_value value, const char *name, int frame, bool optional,
                      int16_t *out) {
  char msg[160];
  napi_valuetype vt = napi_undefined;
  if (value != NULL && napi_typeof(env, value, &vt) != napi_ok) {
    nu_throw_last_error(env);
    return false;
  }
  if (optional && (value == NULL || vt == napi_null || vt == napi_undefined)) {
    memset(out, 0, (size_t)frame * sizeof(int16_t));
    return true;
  }
  size_t length = 0;
  void *ptr = NULL;
  int r = nu_uint8_array(env, value, &ptr, &length);
  if (r < 0) return false;
  if (r == 0) {
    snprintf(msg, sizeof msg, "dsp: %s must be a Buffer or Uint8Array%s", name,
             optional ? " (or null)" : "");
    nu_throw_type(env, msg);
    return false;
  }
  if (length != (size_t)frame * 2) {
    snprintf(msg, sizeof msg, "dsp: %s must be one frame of %d bytes (s16le mono), got %zu",
             name, frame * 2, length);
    nu_throw_range(env, msg);
    return false;
  }
  memcpy(out, ptr, length); /* copied: the Buffer's byteOffset may be odd */
  return true;
}

static dsp_core *unwrap_this(napi_env env, napi_callback_info info, size_t *argc,
                             napi_value *argv, void **data) {
  return nu_unwrap_this(env, info, argc, argv, data, "Processor");
}

static napi_value processor_new(napi_env env, napi_callback_info info) {
  if (!nu_require_new(env, info, "Processor")) return NULL;
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  napi_value self;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  int32_t frame = 0;
  int32_t tail_ms = 0;
  if (!nu_get_int(env, argv[0], "frameSamples", 1, MAX_FRAME, &frame)) return NULL;
  if (frame != 480 && frame != 960) {
    return nu_throw_range(env, "dsp: frameSamples must be 480 or 960 (10 or 20 ms at 48 kHz)");
  }
  if (!nu_get_int(env, argv[1], "tailMs", 0, MAX_TAIL_MS, &tail_ms)) return NULL;
  if (tail_ms != 0 && tail_ms < 20) return nu_throw_range(env, "dsp: tailMs must be 0 or 20..1000");
  char err[128];
  dsp_core *d = dsp_core_new(frame, tail_ms, err, sizeof err);
  if (d == NULL) {
    napi_throw_error(env, "ERR_BABEL_DSP_ALLOC", err);
    return NULL;
  }
  return nu_wrap(env, self, d, dsp_finalize) ? self : NULL;
}

static napi_value processor_process(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  dsp_core *d = unwrap_this(env, info, &argc, argv, NULL);
  if (d == NULL) return NULL;
  if (argc < 1) return nu_throw_type(env, "dsp: process needs (mic, far)");
  int frame = dsp_core_frame(d);
  int16_t mic[MAX_FRAME];
  int16_t far[MAX_FRAME];
  int16_t out[MAX_FRAME];
  if (!get_frame(env, argv[0], "mic", frame, false, mic)) return NULL;
  if (!get_frame(env, argc >= 2 ? argv[1] : NULL, "far", frame, true, far)) return NULL;
  dsp_core_process(d, mic, far, out);
  napi_value result;
  NAPI_CALL(env, napi_create_buffer_copy(env, (size_t)frame * 2, out, NULL, &result));
  return result;
}

/*
 * Forgets the learned echo path (the reference moved). The preprocessor and the resamplers
 * keep their state: their history is still the signal's, and starting them again would
 * put a step into the output.
 */
static napi_value processor_reset(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  dsp_core *d = unwrap_this(env, info, &argc, NULL, NULL);
  if (d == NULL) return NULL;
  dsp_core_reset(d);
  return NULL;
}

/* ---- properties ---------------------------------------------------------------------- */

typedef enum { P_DENOISE, P_AGC, P_NOISE_DB, P_ECHO_DB, P_ECHO_ACTIVE_DB, P_AGC_LEVEL } Prop;

typedef struct {
  const char *name;
  Prop prop;
} PropInfo;

static const PropInfo props[] = {
    {"denoise", P_DENOISE},     {"agc", P_AGC},
    {"noiseSuppressDb", P_NOISE_DB}, {"echoSuppressDb", P_ECHO_DB},
    {"echoSuppressActiveDb", P_ECHO_ACTIVE_DB}, {"agcLevel", P_AGC_LEVEL},
};

static napi_value processor_get(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  void *data = NULL;
  dsp_core *d = unwrap_this(env, info, &argc, NULL, &data);
  if (d == NULL) return NULL;
  const PropInfo *p = data;
  napi_value result;
  switch (p->prop) {
    case P_DENOISE:
      NAPI_CALL(env, napi_get_boolean(env, dsp_core_denoise(d), &result));
      return result;
    case P_AGC:
      NAPI_CALL(env, napi_get_boolean(env, dsp_core_agc(d), &result));
      return result;
    case P_AGC_LEVEL:
      NAPI_CALL(env, napi_create_double(env, dsp_core_agc_level(d), &result));
      return result;
    case P_NOISE_DB:
      NAPI_CALL(env, napi_create_int32(env, dsp_core_noise_suppress_db(d), &result));
      return result;
    case P_ECHO_DB:
      NAPI_CALL(env, napi_create_int32(env, dsp_core_echo_suppress_db(d), &result));
      return result;
    default:
      NAPI_CALL(env, napi_create_int32(env, dsp_core_echo_suppress_active_db(d), &result));
      return result;
  }
}

static napi_value processor_set(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  void *data = NULL;
  dsp_core *d = unwrap_this(env, info, &argc, argv, &data);
  if (d == NULL) return NULL;
  const PropInfo *p = data;
  if (p->prop == P_DENOISE || p->prop == P_AGC) {
    bool b = false;
    if (!nu_get_bool(env, argv[0], p->name, &b)) return NULL;
    if (p->prop == P_DENOISE) dsp_core_set_denoise(d, b);
    else dsp_core_set_agc(d, b);
    return NULL;
  }
  int32_t v = 0;
  if (p->prop == P_AGC_LEVEL) {
    if (!nu_get_int(env, argv[0], p->name, 1, 32768, &v)) return NULL;
    dsp_core_set_agc_level(d, (float)v);
    return NULL;
  }
  if (!nu_get_int(env, argv[0], p->name, -100, 0, &v)) return NULL;
  if (p->prop == P_NOISE_DB) dsp_core_set_noise_suppress_db(d, v);
  else if (p->prop == P_ECHO_DB) dsp_core_set_echo_suppress_db(d, v);
  else dsp_core_set_echo_suppress_active_db(d, v);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor desc[2 + sizeof props / sizeof props[0]];
  size_t n = 0;
  desc[n++] = (napi_property_descriptor){"process", NULL, processor_process, NULL, NULL, NULL,
                                         napi_default, NULL};
  desc[n++] = (napi_property_descriptor){"reset", NULL, processor_reset, NULL, NULL, NULL,
                                         napi_default, NULL};
  for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
    desc[n++] = (napi_property_descriptor){props[i].name, NULL, NULL, processor_get,
                                           processor_set, NULL, napi_default, (void *)&props[i]};
  }
  napi_value cls;
  NAPI_CALL(env, napi_define_class(env, "Processor", NAPI_AUTO_LENGTH, processor_new, NULL, n,
                                   desc, &cls));
  NAPI_CALL(env, napi_set_named_property(env, exports, "Processor", cls));
  napi_value rate;
  NAPI_CALL(env, napi_create_int32(env, SAMPLE_RATE, &rate));
  NAPI_CALL(env, napi_set_named_property(env, exports, "SAMPLE_RATE", rate));
  napi_value lib;
  NAPI_CALL(env, napi_create_string_utf8(env, "speexdsp", NAPI_AUTO_LENGTH, &lib));
  NAPI_CALL(env, napi_set_named_property(env, exports, "library", lib));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
