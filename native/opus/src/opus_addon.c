/*
 * babel-opus: Opus for Babel Intercom over the system's libopus, through Node-API.
 *
 * One format only: 48 kHz, mono, signed 16-bit little-endian PCM (native order on every
 * platform we run on: x86-64, arm64, armhf). Two classes:
 *
 *   new Encoder()                   OPUS_APPLICATION_VOIP, set at creation (libopus
 *                                   refuses to change it after the first frame)
 *     .encode(pcm) -> Buffer        pcm: exactly one 2.5/5/10/20/40/60 ms frame
 *     .bitrate .complexity .inbandFec .packetLossPercent   read and write the ctls
 *     .application                  read only
 *   new Decoder()
 *     .decode(packet, frameSize, fec = false) -> Buffer
 *         packet null or empty: loss concealment of exactly frameSize samples;
 *         fec true: the frame before `packet`, from its in-band FEC (concealment when it
 *         has none), exactly frameSize samples;
 *         otherwise: the packet, at most frameSize samples.
 *
 * Every failure is a thrown JS exception (RangeError/TypeError for bad arguments, Error
 * with `code` = the libopus error name for codec errors); nothing here aborts the process.
 * Calls are synchronous: a 20 ms frame costs well under a millisecond even on a Pi 3.
 */
#include <node_api.h>
#include <opus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NAPI_UTIL_ERROR_CODE "ERR_BABEL_OPUS_NAPI"
#define NAPI_UTIL_PREFIX "opus: "
#include "napi_util.h"

#define SAMPLE_RATE 48000
#define CHANNELS 1
/* 2.5 ms: the unit of every Opus frame duration. */
#define SAMPLES_2_5_MS (SAMPLE_RATE / 400)
/* Largest frame we encode (60 ms) and largest output we decode (120 ms, RFC 6716 3.2.5). */
#define MAX_ENCODE_SAMPLES (SAMPLE_RATE * 60 / 1000)
#define MAX_DECODE_SAMPLES (SAMPLE_RATE * 120 / 1000)
/* Recommended output buffer of opus_encode (opus.h). */
#define MAX_PACKET_BYTES 4000

static const char *opus_error_name(int code) {
  switch (code) {
    case OPUS_BAD_ARG: return "OPUS_BAD_ARG";
    case OPUS_BUFFER_TOO_SMALL: return "OPUS_BUFFER_TOO_SMALL";
    case OPUS_INTERNAL_ERROR: return "OPUS_INTERNAL_ERROR";
    case OPUS_INVALID_PACKET: return "OPUS_INVALID_PACKET";
    case OPUS_UNIMPLEMENTED: return "OPUS_UNIMPLEMENTED";
    case OPUS_INVALID_STATE: return "OPUS_INVALID_STATE";
    case OPUS_ALLOC_FAIL: return "OPUS_ALLOC_FAIL";
    default: return "OPUS_ERROR";
  }
}

/* Throws Error("opus: <what>: <libopus message>") with code = the libopus error name. */
static napi_value throw_opus(napi_env env, const char *what, int code) {
  char msg[160];
  snprintf(msg, sizeof msg, "opus: %s: %s", what, opus_strerror(code));
  napi_throw_error(env, opus_error_name(code), msg);
  return NULL;
}

/* The bytes of a Uint8Array (a Buffer is one); false, with a TypeError thrown, otherwise. */
static bool get_bytes(napi_env env, napi_value value, const char *name, const uint8_t **data,
                      size_t *length) {
  void *ptr = NULL;
  int r = nu_uint8_array(env, value, &ptr, length);
  if (r < 0) return false;
  if (r == 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "opus: %s must be a Buffer or Uint8Array", name);
    nu_throw_type(env, msg);
    return false;
  }
  *data = ptr;
  return true;
}

/* ---- Encoder ------------------------------------------------------------------------ */

static void encoder_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  opus_encoder_destroy(data);
}

static napi_value encoder_new(napi_env env, napi_callback_info info) {
  if (!nu_require_new(env, info, "Encoder")) return NULL;
  napi_value self;
  NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  int err = OPUS_OK;
  OpusEncoder *enc = opus_encoder_create(SAMPLE_RATE, CHANNELS, OPUS_APPLICATION_VOIP, &err);
  if (enc == NULL || err != OPUS_OK) return throw_opus(env, "cannot create an encoder", err);
  return nu_wrap(env, self, enc, encoder_finalize) ? self : NULL;
}

static napi_value encoder_encode(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  OpusEncoder *enc = nu_unwrap_this(env, info, &argc, argv, NULL, "Encoder");
  if (enc == NULL) return NULL;
  if (argc < 1) return nu_throw_type(env, "opus: encode needs a PCM buffer");
  const uint8_t *bytes = NULL;
  size_t length = 0;
  if (!get_bytes(env, argv[0], "pcm", &bytes, &length)) return NULL;
  /* The frame durations opus_encode takes: 2.5, 5, 10, 20, 40 and 60 ms. */
  static const size_t frame_samples[] = {120, 240, 480, 960, 1920, 2880};
  size_t samples = length / 2;
  bool duration_ok = false;
  for (size_t i = 0; i < sizeof frame_samples / sizeof frame_samples[0]; i++) {
    if (samples == frame_samples[i]) duration_ok = true;
  }
  if (length % 2 != 0 || !duration_ok) {
    char msg[160];
    snprintf(msg, sizeof msg,
             "opus: encode takes one frame of 2.5, 5, 10, 20, 40 or 60 ms of 48 kHz mono "
             "s16le (240..5760 bytes), got %zu bytes",
             length);
    return nu_throw_range(env, msg);
  }
  /* Copied so the samples are 2-byte aligned whatever the Buffer's byteOffset. */
  opus_int16 pcm[MAX_ENCODE_SAMPLES];
  memcpy(pcm, bytes, length);
  unsigned char packet[MAX_PACKET_BYTES];
  opus_int32 n = opus_encode(enc, pcm, (int)samples, packet, (opus_int32)sizeof packet);
  if (n < 0) return throw_opus(env, "encode failed", n);
  napi_value result;
  NAPI_CALL(env, napi_create_buffer_copy(env, (size_t)n, packet, NULL, &result));
  return result;
}

/* One encoder setting: a property whose getter and setter are libopus ctls. */
typedef struct {
  const char *name;
  int set_request;
  int get_request;
  int32_t min;
  int32_t max;
  bool boolean;
} EncoderSetting;

static const EncoderSetting encoder_settings[] = {
    {"bitrate", OPUS_SET_BITRATE_REQUEST, OPUS_GET_BITRATE_REQUEST, 500, 512000, false},
    {"complexity", OPUS_SET_COMPLEXITY_REQUEST, OPUS_GET_COMPLEXITY_REQUEST, 0, 10, false},
    {"inbandFec", OPUS_SET_INBAND_FEC_REQUEST, OPUS_GET_INBAND_FEC_REQUEST, 0, 1, true},
    {"packetLossPercent", OPUS_SET_PACKET_LOSS_PERC_REQUEST, OPUS_GET_PACKET_LOSS_PERC_REQUEST,
     0, 100, false},
    {"application", 0, OPUS_GET_APPLICATION_REQUEST, 0, 0, false},
};

static napi_value encoder_get(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  void *data = NULL;
  OpusEncoder *enc = nu_unwrap_this(env, info, &argc, NULL, &data, "Encoder");
  if (enc == NULL) return NULL;
  const EncoderSetting *s = data;
  opus_int32 value = 0;
  int err = opus_encoder_ctl(enc, s->get_request, &value);
  if (err != OPUS_OK) return throw_opus(env, s->name, err);
  napi_value result;
  if (s->boolean) {
    NAPI_CALL(env, napi_get_boolean(env, value != 0, &result));
  } else {
    NAPI_CALL(env, napi_create_int32(env, value, &result));
  }
  return result;
}

static napi_value encoder_set(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  void *data = NULL;
  OpusEncoder *enc = nu_unwrap_this(env, info, &argc, argv, &data, "Encoder");
  if (enc == NULL) return NULL;
  const EncoderSetting *s = data;
  int32_t value = 0;
  if (s->boolean) {
    bool b = false;
    if (!nu_get_bool(env, argv[0], s->name, &b)) return NULL;
    value = b ? 1 : 0;
  } else if (!nu_get_int(env, argv[0], s->name, s->min, s->max, &value)) {
    return NULL;
  }
  int err = opus_encoder_ctl(enc, s->set_request, (opus_int32)value);
  if (err != OPUS_OK) return throw_opus(env, s->name, err);
  return NULL;
}

/* ---- Decoder ------------------------------------------------------------------------ */

static void decoder_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  opus_decoder_destroy(data);
}

static napi_value decoder_new(napi_env env, napi_callback_info info) {
  if (!nu_require_new(env, info, "Decoder")) return NULL;
  napi_value self;
  NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  int err = OPUS_OK;
  OpusDecoder *dec = opus_decoder_create(SAMPLE_RATE, CHANNELS, &err);
  if (dec == NULL || err != OPUS_OK) return throw_opus(env, "cannot create a decoder", err);
  return nu_wrap(env, self, dec, decoder_finalize) ? self : NULL;
}

static napi_value decoder_decode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  OpusDecoder *dec = nu_unwrap_this(env, info, &argc, argv, NULL, "Decoder");
  if (dec == NULL) return NULL;
  if (argc < 2) return nu_throw_type(env, "opus: decode needs (packet, frameSize[, fec])");

  const uint8_t *data = NULL;
  size_t length = 0;
  napi_valuetype type;
  NAPI_CALL(env, napi_typeof(env, argv[0], &type));
  if (type != napi_null && type != napi_undefined &&
      !get_bytes(env, argv[0], "packet", &data, &length)) {
    return NULL;
  }
  if (length > 0x7fffffff) return nu_throw_range(env, "opus: packet too long");
  if (length == 0) data = NULL; /* libopus: a NULL packet is a lost one */

  int32_t frame_size = 0;
  if (!nu_get_int(env, argv[1], "frameSize", 1, MAX_DECODE_SAMPLES, &frame_size)) return NULL;

  bool fec = false;
  if (argc >= 3) {
    NAPI_CALL(env, napi_typeof(env, argv[2], &type));
    if (type != napi_undefined && !nu_get_bool(env, argv[2], "fec", &fec)) return NULL;
  }
  /* Concealment and FEC produce exactly frame_size samples, which libopus requires to be
   * a whole number of 2.5 ms; say so here rather than as a bare OPUS_BAD_ARG. */
  if ((data == NULL || fec) && frame_size % SAMPLES_2_5_MS != 0) {
    char msg[160];
    snprintf(msg, sizeof msg,
             "opus: frameSize for concealment or FEC must be a multiple of %d samples "
             "(2.5 ms), got %d",
             SAMPLES_2_5_MS, (int)frame_size);
    return nu_throw_range(env, msg);
  }

  /* Decoded into an aligned buffer, then copied into a Buffer of the decoded length. */
  opus_int16 pcm[MAX_DECODE_SAMPLES];
  int n = opus_decode(dec, data, (opus_int32)length, pcm, frame_size, fec ? 1 : 0);
  if (n < 0) {
    char what[96];
    snprintf(what, sizeof what, "cannot decode a %zu-byte packet into %d samples", length,
             (int)frame_size);
    return throw_opus(env, what, n);
  }
  napi_value result;
  NAPI_CALL(env, napi_create_buffer_copy(env, (size_t)n * 2, pcm, NULL, &result));
  return result;
}

/* ---- Module ------------------------------------------------------------------------- */

static napi_value define_encoder(napi_env env) {
  napi_property_descriptor props[1 + sizeof encoder_settings / sizeof encoder_settings[0]];
  memset(props, 0, sizeof props);
  props[0].utf8name = "encode";
  props[0].method = encoder_encode;
  props[0].attributes = napi_default_method;
  size_t count = 1;
  for (size_t i = 0; i < sizeof encoder_settings / sizeof encoder_settings[0]; i++, count++) {
    const EncoderSetting *s = &encoder_settings[i];
    props[count].utf8name = s->name;
    props[count].getter = encoder_get;
    props[count].setter = s->set_request ? encoder_set : NULL;
    props[count].data = (void *)s;
    props[count].attributes = napi_enumerable | napi_configurable;
  }
  napi_value cls;
  NAPI_CALL(env, napi_define_class(env, "Encoder", NAPI_AUTO_LENGTH, encoder_new, NULL, count,
                                   props, &cls));
  return cls;
}

static napi_value define_decoder(napi_env env) {
  napi_property_descriptor props[] = {
      {"decode", NULL, decoder_decode, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  NAPI_CALL(env, napi_define_class(env, "Decoder", NAPI_AUTO_LENGTH, decoder_new, NULL,
                                   sizeof props / sizeof props[0], props, &cls));
  return cls;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value encoder = define_encoder(env);
  if (encoder == NULL) return NULL;
  napi_value decoder = define_decoder(env);
  if (decoder == NULL) return NULL;
  napi_value version, rate, application_voip;
  NAPI_CALL(env, napi_create_string_utf8(env, opus_get_version_string(), NAPI_AUTO_LENGTH,
                                         &version));
  NAPI_CALL(env, napi_create_int32(env, SAMPLE_RATE, &rate));
  NAPI_CALL(env, napi_create_int32(env, OPUS_APPLICATION_VOIP, &application_voip));
  napi_property_descriptor props[] = {
      {"Encoder", NULL, NULL, NULL, NULL, encoder, napi_enumerable, NULL},
      {"Decoder", NULL, NULL, NULL, NULL, decoder, napi_enumerable, NULL},
      {"libopusVersion", NULL, NULL, NULL, NULL, version, napi_enumerable, NULL},
      {"SAMPLE_RATE", NULL, NULL, NULL, NULL, rate, napi_enumerable, NULL},
      {"APPLICATION_VOIP", NULL, NULL, NULL, NULL, application_voip, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
