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

#define SAMPLE_RATE DSP_CORE_SAMPLE_RATE
#define MAX_FRAME DSP_CORE_MAX_FRAME
#define MAX_TAIL_MS DSP_CORE_MAX_TAIL_MS

#define NAPI_CALL(env, call)                                                             \
  do {                                                                                   \
    if ((call) != napi_ok) {                                                             \
      throw_last_napi_error(env);                                                        \
      return NULL;                                                                       \
    }                                                                                    \
  } while (0)

static void throw_last_napi_error(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *msg = info && info->error_message ? info->error_message : "N-API call failed";
  napi_throw_error(env, "ERR_BABEL_DSP_NAPI", msg);
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static void dsp_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  dsp_core_free(data);
}

/* An integer argument in [min, max]; false, with a RangeError/TypeError thrown, otherwise. */
static bool get_int(napi_env env, napi_value value, const char *name, int32_t min, int32_t max,
                    int32_t *out) {
  napi_valuetype type;
  char msg[128];
  if (value == NULL || napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    snprintf(msg, sizeof msg, "dsp: %s must be a number", name);
    throw_type(env, msg);
    return false;
  }
  double d = 0;
  napi_get_value_double(env, value, &d);
  if (!(d >= min && d <= max) || d != (double)(int32_t)d) {
    snprintf(msg, sizeof msg, "dsp: %s must be an integer in %d..%d", name, (int)min, (int)max);
    throw_range(env, msg);
    return false;
  }
  *out = (int32_t)d;
  return true;
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
    throw_last_napi_error(env);
    return false;
  }
  if (optional && (value == NULL || vt == napi_null || vt == napi_undefined)) {
    memset(out, 0, (size_t)frame * sizeof(int16_t));
    return true;
  }
  bool is_typedarray = false;
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void *ptr = NULL;
  if (value != NULL && napi_is_typedarray(env, value, &is_typedarray) == napi_ok &&
      is_typedarray) {
    if (napi_get_typedarray_info(env, value, &type, &length, &ptr, NULL, NULL) != napi_ok) {
      throw_last_napi_error(env);
      return false;
    }
  }
  if (!is_typedarray || type != napi_uint8_array) {
    snprintf(msg, sizeof msg, "dsp: %s must be a Buffer or Uint8Array%s", name,
             optional ? " (or null)" : "");
    throw_type(env, msg);
    return false;
  }
  if (length != (size_t)frame * 2) {
    snprintf(msg, sizeof msg, "dsp: %s must be one frame of %d bytes (s16le mono), got %zu",
             name, frame * 2, length);
    throw_range(env, msg);
    return false;
  }
  memcpy(out, ptr, length); /* copied: the Buffer's byteOffset may be odd */
  return true;
}

static dsp_core *unwrap_this(napi_env env, napi_callback_info info, size_t *argc,
                             napi_value *argv, void **data) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, data) != napi_ok) {
    throw_last_napi_error(env);
    return NULL;
  }
  void *native = NULL;
  if (napi_unwrap(env, self, &native) != napi_ok || native == NULL) {
    throw_type(env, "dsp: receiver is not a Processor");
    return NULL;
  }
  return native;
}

static napi_value processor_new(napi_env env, napi_callback_info info) {
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) {
    return throw_type(env, "dsp: class constructor Processor cannot be invoked without 'new'");
  }
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  napi_value self;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  int32_t frame = 0;
  int32_t tail_ms = 0;
  if (!get_int(env, argv[0], "frameSamples", 1, MAX_FRAME, &frame)) return NULL;
  if (frame != 480 && frame != 960) {
    return throw_range(env, "dsp: frameSamples must be 480 or 960 (10 or 20 ms at 48 kHz)");
  }
  if (!get_int(env, argv[1], "tailMs", 0, MAX_TAIL_MS, &tail_ms)) return NULL;
  if (tail_ms != 0 && tail_ms < 20) return throw_range(env, "dsp: tailMs must be 0 or 20..1000");
  char err[128];
  dsp_core *d = dsp_core_new(frame, tail_ms, err, sizeof err);
  if (d == NULL) {
    napi_throw_error(env, "ERR_BABEL_DSP_ALLOC", err);
    return NULL;
  }
  if (napi_wrap(env, self, d, dsp_finalize, NULL, NULL) != napi_ok) {
    dsp_core_free(d);
    throw_last_napi_error(env);
    return NULL;
  }
  return self;
}

static napi_value processor_process(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  dsp_core *d = unwrap_this(env, info, &argc, argv, NULL);
  if (d == NULL) return NULL;
  if (argc < 1) return throw_type(env, "dsp: process needs (mic, far)");
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
    napi_valuetype type;
    NAPI_CALL(env, napi_typeof(env, argv[0], &type));
    if (type != napi_boolean) {
      char msg[96];
      snprintf(msg, sizeof msg, "dsp: %s must be a boolean", p->name);
      return throw_type(env, msg);
    }
    bool b = false;
    NAPI_CALL(env, napi_get_value_bool(env, argv[0], &b));
    if (p->prop == P_DENOISE) dsp_core_set_denoise(d, b);
    else dsp_core_set_agc(d, b);
    return NULL;
  }
  int32_t v = 0;
  if (p->prop == P_AGC_LEVEL) {
    if (!get_int(env, argv[0], p->name, 1, 32768, &v)) return NULL;
    dsp_core_set_agc_level(d, (float)v);
    return NULL;
  }
  if (!get_int(env, argv[0], p->name, -100, 0, &v)) return NULL;
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
