/*
 * Test-only bindings of wire.c and srtp.c under `_test` (test/native/media/wire.test.ts
 * runs them beside the TypeScript they port): rtpParse, RtpSender, DtmfSender,
 * DtmfReceiver, parseTelephoneEvent, SrtpSender, SrtpReceiver, and the RFC 3711 B.2/B.3
 * hooks srtpKeystream and srtpDerive. Bad arguments throw TypeError or RangeError.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_exports.h"
#include "wire.h"

/* srtp.c's test hooks (not part of wire.h). */
bool srtp_test_keystream(const uint8_t key[16], const uint8_t iv[16], uint8_t *out, size_t len);
bool srtp_test_derive(const uint8_t master[SRTP_MASTER_BYTES], uint8_t label, uint8_t *out,
                      size_t len);
void srtp_test_stats(const srtp_receiver *r, double *ok, double *auth, double *replay,
                     double *malformed);

#define MAX_DATAGRAM 65536
#define CALL(env, call)                                                  \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      bool pending_ = false;                                             \
      napi_is_exception_pending(env, &pending_);                         \
      if (!pending_) napi_throw_error(env, NULL, "babel-media: N-API call failed"); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

/* ---- argument helpers: false with an exception pending ---- */

static bool get_buffer(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a Buffer", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  void *p = NULL;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return false;
  *data = p;
  return true;
}

/* An integer in [0, max]; `fallback` (>= 0) when undefined, required when fallback < 0. */
static bool get_uint(napi_env env, napi_value v, const char *name, double max, double fallback,
                     double *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined && fallback >= 0) {
    *out = fallback;
    return true;
  }
  char msg[128];
  if (t != napi_number) {
    snprintf(msg, sizeof msg, "%s must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  double d = 0;
  napi_get_value_double(env, v, &d);
  if (!(d >= 0 && d <= max && floor(d) == d)) {
    snprintf(msg, sizeof msg, "%s must be an integer in 0..%.0f", name, max);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  *out = d;
  return true;
}

static bool get_field(napi_env env, napi_value obj, const char *key, const char *name, double max,
                      double fallback, double *out) {
  napi_value v;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return false;
  return get_uint(env, v, name, max, fallback, out);
}

static bool get_options(napi_env env, napi_value v, napi_value *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t != napi_object) {
    napi_throw_type_error(env, NULL, "options must be an object");
    return false;
  }
  *out = v;
  return true;
}

static napi_value args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  napi_value self;
  for (size_t i = 0; i < n; i++) napi_get_undefined(env, &argv[i]);
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  return self;
}

static void *unwrap(napi_env env, napi_value self) {
  void *p = NULL;
  if (napi_unwrap(env, self, &p) != napi_ok) return NULL;
  return p;
}

static napi_value buffer_copy(napi_env env, const uint8_t *data, size_t len) {
  napi_value out;
  void *copy;
  CALL(env, napi_create_buffer_copy(env, len, len ? (const void *)data : (const void *)"", &copy, &out));
  return out;
}

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

static napi_value number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static napi_value boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

static void set(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

static void free_finalizer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* ---- RTP ---- */

static napi_value js_rtp_parse(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  args(env, info, 1, argv);
  uint8_t *buf;
  size_t len;
  if (!get_buffer(env, argv[0], "buf", &buf, &len)) return NULL;
  rtp_packet p;
  if (!rtp_parse(buf, len, &p)) return null_value(env);
  napi_value o;
  CALL(env, napi_create_object(env, &o));
  set(env, o, "payloadType", number(env, p.payload_type));
  set(env, o, "marker", boolean(env, p.marker));
  set(env, o, "sequence", number(env, p.sequence));
  set(env, o, "timestamp", number(env, p.timestamp));
  set(env, o, "ssrc", number(env, p.ssrc));
  napi_value payload = buffer_copy(env, p.payload, p.payload_len);
  if (payload == NULL) return NULL;
  set(env, o, "payload", payload);
  return o;
}

static bool read_sender_start(napi_env env, napi_value opts, double pt_fallback, rtp_sender *s) {
  double pt, ssrc, seq, ts;
  if (!get_field(env, opts, "payloadType", "payloadType", 127, pt_fallback, &pt) ||
      !get_field(env, opts, "ssrc", "ssrc", 4294967295.0, -1, &ssrc) ||
      !get_field(env, opts, "sequence", "sequence", 65535, -1, &seq) ||
      !get_field(env, opts, "timestamp", "timestamp", 4294967295.0, -1, &ts))
    return false;
  rtp_sender_init(s, (uint8_t)pt, (uint32_t)ssrc, (uint16_t)seq, (uint32_t)ts);
  return true;
}

static napi_value js_rtp_sender_new(napi_env env, napi_callback_info info) {
  napi_value argv[1], opts;
  napi_value self = args(env, info, 1, argv);
  if (self == NULL || !get_options(env, argv[0], &opts)) return NULL;
  rtp_sender tmp;
  if (!read_sender_start(env, opts, -1, &tmp)) return NULL;
  rtp_sender *s = malloc(sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  *s = tmp;
  if (napi_wrap(env, self, s, free_finalizer, NULL, NULL) != napi_ok) {
    free(s);
    napi_throw_error(env, NULL, "napi_wrap failed");
    return NULL;
  }
  return self;
}

/* nextAudio(payload, samples) over any rtp_sender. */
static napi_value next_audio(napi_env env, rtp_sender *s, napi_value payload_v, napi_value samples_v) {
  uint8_t *payload;
  size_t len;
  double samples;
  if (!get_buffer(env, payload_v, "payload", &payload, &len) ||
      !get_uint(env, samples_v, "samples", 4294967295.0, -1, &samples))
    return NULL;
  if (len > MAX_DATAGRAM) {
    napi_throw_range_error(env, NULL, "payload too long");
    return NULL;
  }
  uint8_t out[RTP_HEADER_SIZE + MAX_DATAGRAM];
  size_t n = rtp_sender_next_audio(s, payload, len, (uint32_t)samples, out, sizeof out);
  if (n == 0) {
    napi_throw_range_error(env, NULL, "rtp: payloadType is reserved for RTCP (RFC 5761)");
    return NULL;
  }
  return buffer_copy(env, out, n);
}

static napi_value js_rtp_sender_next_audio(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  napi_value self = args(env, info, 2, argv);
  rtp_sender *s = self ? unwrap(env, self) : NULL;
  if (s == NULL) return NULL;
  return next_audio(env, s, argv[0], argv[1]);
}

static napi_value js_rtp_sender_silence(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  rtp_sender *s = self ? unwrap(env, self) : NULL;
  double samples;
  if (s == NULL || !get_uint(env, argv[0], "samples", 4294967295.0, -1, &samples)) return NULL;
  rtp_sender_silence(s, (uint32_t)samples);
  return NULL;
}

static napi_value js_rtp_sender_packet(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  napi_value self = args(env, info, 4, argv);
  rtp_sender *s = self ? unwrap(env, self) : NULL;
  if (s == NULL) return NULL;
  double pt, ts;
  uint8_t *payload;
  size_t len;
  bool marker = false;
  if (!get_uint(env, argv[0], "payloadType", 127, -1, &pt) ||
      !get_buffer(env, argv[1], "payload", &payload, &len) ||
      !get_uint(env, argv[2], "timestamp", 4294967295.0, -1, &ts))
    return NULL;
  if (napi_get_value_bool(env, argv[3], &marker) != napi_ok) {
    napi_throw_type_error(env, NULL, "marker must be a boolean");
    return NULL;
  }
  if (len > MAX_DATAGRAM) {
    napi_throw_range_error(env, NULL, "payload too long");
    return NULL;
  }
  uint8_t out[RTP_HEADER_SIZE + MAX_DATAGRAM];
  size_t n = rtp_sender_packet(s, (uint8_t)pt, payload, len, (uint32_t)ts, marker, out, sizeof out);
  if (n == 0) {
    napi_throw_range_error(env, NULL, "rtp: payloadType is reserved for RTCP (RFC 5761)");
    return NULL;
  }
  return buffer_copy(env, out, n);
}

static napi_value js_rtp_sender_ssrc(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  rtp_sender *s = self ? unwrap(env, self) : NULL;
  return s ? number(env, s->ssrc) : NULL;
}
static napi_value js_rtp_sender_sequence(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  rtp_sender *s = self ? unwrap(env, self) : NULL;
  return s ? number(env, s->sequence) : NULL;
}
static napi_value js_rtp_sender_timestamp(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  rtp_sender *s = self ? unwrap(env, self) : NULL;
  return s ? number(env, s->timestamp) : NULL;
}

/* ---- RFC 4733 ---- */

typedef struct {
  rtp_sender rtp;
  dtmf_sender dtmf;
} dtmf_sender_box;

static napi_value js_dtmf_sender_new(napi_env env, napi_callback_info info) {
  napi_value argv[1], opts;
  napi_value self = args(env, info, 1, argv);
  if (self == NULL || !get_options(env, argv[0], &opts)) return NULL;
  napi_value audio_pt;
  napi_create_double(env, OPUS_PAYLOAD_TYPE, &audio_pt);
  double pt, packet_ms, clock_rate, volume;
  rtp_sender rtp;
  double ssrc, seq, ts;
  if (!get_field(env, opts, "ssrc", "ssrc", 4294967295.0, -1, &ssrc) ||
      !get_field(env, opts, "sequence", "sequence", 65535, -1, &seq) ||
      !get_field(env, opts, "timestamp", "timestamp", 4294967295.0, -1, &ts) ||
      !get_field(env, opts, "payloadType", "payloadType", 127, DTMF_PAYLOAD_TYPE, &pt) ||
      !get_field(env, opts, "packetMs", "packetMs", 60000, 20, &packet_ms) ||
      !get_field(env, opts, "clockRate", "clockRate", 1000000, 48000, &clock_rate) ||
      !get_field(env, opts, "volume", "volume", 63, 10, &volume))
    return NULL;
  if (packet_ms < 1 || clock_rate < 1 || (pt >= 72 && pt <= 76)) {
    napi_throw_range_error(env, NULL,
                           "packetMs and clockRate must be positive, payloadType not RTCP's");
    return NULL;
  }
  rtp_sender_init(&rtp, OPUS_PAYLOAD_TYPE, (uint32_t)ssrc, (uint16_t)seq, (uint32_t)ts);
  dtmf_sender_box *b = malloc(sizeof *b);
  if (b == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  b->rtp = rtp;
  dtmf_sender_init(&b->dtmf, &b->rtp, (uint8_t)pt, (uint32_t)packet_ms, (uint32_t)clock_rate,
                   (uint8_t)volume);
  if (napi_wrap(env, self, b, free_finalizer, NULL, NULL) != napi_ok) {
    free(b);
    napi_throw_error(env, NULL, "napi_wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_dtmf_sender_press(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  napi_value self = args(env, info, 2, argv);
  dtmf_sender_box *b = self ? unwrap(env, self) : NULL;
  if (b == NULL) return NULL;
  char key[4] = {0};
  size_t klen = 0;
  if (napi_get_value_string_utf8(env, argv[0], key, sizeof key, &klen) != napi_ok) {
    napi_throw_type_error(env, NULL, "key must be a string");
    return NULL;
  }
  double ms;
  if (!get_uint(env, argv[1], "durationMs", 4294967295.0, 100, &ms)) return NULL;
  if (klen != 1 || dtmf_key_to_event(key[0]) < 0) {
    napi_throw_range_error(env, NULL, "dtmf: not a DTMF key");
    return NULL;
  }
  if (!dtmf_sender_press(&b->dtmf, key[0], (uint32_t)ms)) {
    napi_throw_range_error(env, NULL,
                           "dtmf: the press does not fit the duration field, or the queue is full");
    return NULL;
  }
  return NULL;
}

static napi_value js_dtmf_sender_tick(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  dtmf_sender_box *b = self ? unwrap(env, self) : NULL;
  if (b == NULL) return NULL;
  uint8_t out[64];
  size_t n = dtmf_sender_tick(&b->dtmf, out, sizeof out);
  return n == 0 ? null_value(env) : buffer_copy(env, out, n);
}

static napi_value js_dtmf_sender_next_audio(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  napi_value self = args(env, info, 2, argv);
  dtmf_sender_box *b = self ? unwrap(env, self) : NULL;
  if (b == NULL) return NULL;
  return next_audio(env, &b->rtp, argv[0], argv[1]);
}

static napi_value js_dtmf_sender_active(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  dtmf_sender_box *b = self ? unwrap(env, self) : NULL;
  return b ? boolean(env, dtmf_sender_active(&b->dtmf)) : NULL;
}
static napi_value js_dtmf_sender_sequence(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  dtmf_sender_box *b = self ? unwrap(env, self) : NULL;
  return b ? number(env, b->rtp.sequence) : NULL;
}
static napi_value js_dtmf_sender_timestamp(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  dtmf_sender_box *b = self ? unwrap(env, self) : NULL;
  return b ? number(env, b->rtp.timestamp) : NULL;
}

static napi_value js_dtmf_receiver_new(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  if (self == NULL) return NULL;
  dtmf_receiver *r = malloc(sizeof *r);
  if (r == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  dtmf_receiver_init(r);
  if (napi_wrap(env, self, r, free_finalizer, NULL, NULL) != napi_ok) {
    free(r);
    napi_throw_error(env, NULL, "napi_wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_dtmf_receiver_push(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  dtmf_receiver *r = self ? unwrap(env, self) : NULL;
  uint8_t *buf;
  size_t len;
  if (r == NULL || !get_buffer(env, argv[0], "datagram", &buf, &len)) return NULL;
  rtp_packet p;
  char key;
  if (!rtp_parse(buf, len, &p) || !dtmf_receiver_push(r, &p, &key)) return null_value(env);
  napi_value s;
  CALL(env, napi_create_string_utf8(env, &key, 1, &s));
  return s;
}

static napi_value js_parse_telephone_event(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  args(env, info, 1, argv);
  uint8_t *buf;
  size_t len;
  if (!get_buffer(env, argv[0], "payload", &buf, &len)) return NULL;
  telephone_event e;
  if (!telephone_event_parse(buf, len, &e)) return null_value(env);
  napi_value o;
  CALL(env, napi_create_object(env, &o));
  set(env, o, "event", number(env, e.event));
  set(env, o, "end", boolean(env, e.end));
  set(env, o, "volume", number(env, e.volume));
  set(env, o, "duration", number(env, e.duration));
  return o;
}

/* ---- SRTP ---- */

static bool get_master(napi_env env, napi_value v, uint8_t **master) {
  size_t len;
  if (!get_buffer(env, v, "master", master, &len)) return false;
  if (len != SRTP_MASTER_BYTES) {
    napi_throw_range_error(env, NULL, "master must be 30 bytes (16 key, 14 salt)");
    return false;
  }
  return true;
}

static void srtp_sender_finalizer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  srtp_sender_free(data);
}
static void srtp_receiver_finalizer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  srtp_receiver_free(data);
}

static napi_value js_srtp_sender_new(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  uint8_t *master;
  if (self == NULL || !get_master(env, argv[0], &master)) return NULL;
  srtp_sender *s = srtp_sender_new(master);
  if (s == NULL) {
    napi_throw_error(env, NULL, "SRTP: OpenSSL failed to set up the session keys");
    return NULL;
  }
  if (napi_wrap(env, self, s, srtp_sender_finalizer, NULL, NULL) != napi_ok) {
    srtp_sender_free(s);
    napi_throw_error(env, NULL, "napi_wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_srtp_protect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  srtp_sender *s = self ? unwrap(env, self) : NULL;
  uint8_t *rtp;
  size_t len;
  if (s == NULL || !get_buffer(env, argv[0], "rtp", &rtp, &len)) return NULL;
  napi_value out;
  void *data;
  CALL(env, napi_create_buffer(env, len + SRTP_TAG_BYTES, &data, &out));
  if (srtp_protect(s, rtp, len, data, len + SRTP_TAG_BYTES) == 0) {
    napi_throw_type_error(env, NULL, "SRTP protect: not an RTP version 2 packet");
    return NULL;
  }
  return out;
}

static napi_value js_srtp_receiver_new(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  uint8_t *master;
  if (self == NULL || !get_master(env, argv[0], &master)) return NULL;
  srtp_receiver *r = srtp_receiver_new(master);
  if (r == NULL) {
    napi_throw_error(env, NULL, "SRTP: OpenSSL failed to set up the session keys");
    return NULL;
  }
  if (napi_wrap(env, self, r, srtp_receiver_finalizer, NULL, NULL) != napi_ok) {
    srtp_receiver_free(r);
    napi_throw_error(env, NULL, "napi_wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_srtp_unprotect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  srtp_receiver *r = self ? unwrap(env, self) : NULL;
  uint8_t *in;
  size_t len;
  if (r == NULL || !get_buffer(env, argv[0], "srtp", &in, &len)) return NULL;
  uint8_t *out = malloc(len > 0 ? len : 1); /* test binding: per call is fine */
  if (out == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  size_t n = 0;
  srtp_result res = srtp_unprotect(r, in, len, out, len, &n);
  napi_value v;
  if (res == SRTP_OK) {
    v = buffer_copy(env, out, n);
  } else {
    const char *why = res == SRTP_AUTH ? "auth" : res == SRTP_REPLAY ? "replay" : "malformed";
    if (napi_create_string_utf8(env, why, NAPI_AUTO_LENGTH, &v) != napi_ok) v = NULL;
  }
  free(out);
  return v;
}

static napi_value js_srtp_receiver_stats(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  srtp_receiver *r = self ? unwrap(env, self) : NULL;
  if (r == NULL) return NULL;
  double ok, auth, replay, malformed, auth2, replay2;
  srtp_test_stats(r, &ok, &auth, &replay, &malformed);
  srtp_receiver_counts(r, &auth2, &replay2); /* the engine's view: the same two counts */
  if (auth2 != auth || replay2 != replay) {
    napi_throw_error(env, NULL, "srtp_receiver_counts disagrees with the stats");
    return NULL;
  }
  napi_value o;
  CALL(env, napi_create_object(env, &o));
  set(env, o, "ok", number(env, ok));
  set(env, o, "auth", number(env, auth));
  set(env, o, "replay", number(env, replay));
  set(env, o, "malformed", number(env, malformed));
  return o;
}

/* srtpKeystream(key: Buffer(16), iv: Buffer(16), length): the AES-CM keystream (B.2). */
static napi_value js_srtp_keystream(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  args(env, info, 3, argv);
  uint8_t *key, *iv;
  size_t klen, ivlen;
  double len;
  if (!get_buffer(env, argv[0], "key", &key, &klen) || !get_buffer(env, argv[1], "iv", &iv, &ivlen) ||
      !get_uint(env, argv[2], "length", 16.0 * 65536, -1, &len))
    return NULL;
  if (klen != 16 || ivlen != 16) {
    napi_throw_range_error(env, NULL, "key and iv must be 16 bytes");
    return NULL;
  }
  napi_value out;
  void *data;
  CALL(env, napi_create_buffer(env, (size_t)len, &data, &out));
  if (!srtp_test_keystream(key, iv, data, (size_t)len)) {
    napi_throw_error(env, NULL, "AES-CM failed");
    return NULL;
  }
  return out;
}

/* srtpDerive(master: Buffer(30), label, length): one session key (B.3). */
static napi_value js_srtp_derive(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  args(env, info, 3, argv);
  uint8_t *master;
  double label, len;
  if (!get_master(env, argv[0], &master) || !get_uint(env, argv[1], "label", 255, -1, &label) ||
      !get_uint(env, argv[2], "length", 4096, -1, &len))
    return NULL;
  napi_value out;
  void *data;
  CALL(env, napi_create_buffer(env, (size_t)len, &data, &out));
  if (!srtp_test_derive(master, (uint8_t)label, data, (size_t)len)) {
    napi_throw_error(env, NULL, "key derivation failed");
    return NULL;
  }
  return out;
}

/* ---- registration ---- */

#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}
#define GETTER(name, fn) {name, NULL, NULL, fn, NULL, NULL, napi_default, NULL}

static napi_status add_class(napi_env env, napi_value test, const char *name, napi_callback ctor,
                             size_t n, const napi_property_descriptor *props) {
  napi_value cls;
  napi_status st = napi_define_class(env, name, NAPI_AUTO_LENGTH, ctor, NULL, n, props, &cls);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, test, name, cls);
}

static napi_status add_function(napi_env env, napi_value test, const char *name, napi_callback fn) {
  napi_value f;
  napi_status st = napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, test, name, f);
}

napi_status register_wire_test(napi_env env, napi_value test) {
  static const napi_property_descriptor rtp_sender_props[] = {
      METHOD("nextAudio", js_rtp_sender_next_audio), METHOD("silence", js_rtp_sender_silence),
      METHOD("packet", js_rtp_sender_packet),        GETTER("ssrc", js_rtp_sender_ssrc),
      GETTER("sequence", js_rtp_sender_sequence),    GETTER("timestamp", js_rtp_sender_timestamp),
  };
  static const napi_property_descriptor dtmf_sender_props[] = {
      METHOD("press", js_dtmf_sender_press),         METHOD("tick", js_dtmf_sender_tick),
      METHOD("nextAudio", js_dtmf_sender_next_audio), GETTER("active", js_dtmf_sender_active),
      GETTER("sequence", js_dtmf_sender_sequence),   GETTER("timestamp", js_dtmf_sender_timestamp),
  };
  static const napi_property_descriptor dtmf_receiver_props[] = {
      METHOD("push", js_dtmf_receiver_push),
  };
  static const napi_property_descriptor srtp_sender_props[] = {
      METHOD("protect", js_srtp_protect),
  };
  static const napi_property_descriptor srtp_receiver_props[] = {
      METHOD("unprotect", js_srtp_unprotect),
      GETTER("stats", js_srtp_receiver_stats),
  };
  napi_status st;
  if ((st = add_function(env, test, "rtpParse", js_rtp_parse)) != napi_ok ||
      (st = add_function(env, test, "parseTelephoneEvent", js_parse_telephone_event)) != napi_ok ||
      (st = add_function(env, test, "srtpKeystream", js_srtp_keystream)) != napi_ok ||
      (st = add_function(env, test, "srtpDerive", js_srtp_derive)) != napi_ok ||
      (st = add_class(env, test, "RtpSender", js_rtp_sender_new, 6, rtp_sender_props)) != napi_ok ||
      (st = add_class(env, test, "DtmfSender", js_dtmf_sender_new, 6, dtmf_sender_props)) != napi_ok ||
      (st = add_class(env, test, "DtmfReceiver", js_dtmf_receiver_new, 1, dtmf_receiver_props)) != napi_ok ||
      (st = add_class(env, test, "SrtpSender", js_srtp_sender_new, 1, srtp_sender_props)) != napi_ok ||
      (st = add_class(env, test, "SrtpReceiver", js_srtp_receiver_new, 2, srtp_receiver_props)) != napi_ok)
    return st;
  return napi_ok;
}
