/*
 * Test-only bindings of wire.c under `_test` (test/native/media/wire.test.ts runs them beside
 * the TypeScript they port): rtpParse, RtpSender, DtmfSender, DtmfReceiver,
 * parseTelephoneEvent. Those of srtp.c are in test_srtp.c; register_wire_test() registers
 * both. Bad arguments throw TypeError or RangeError.
 */
#include <stdlib.h>

#include "test_exports.h"
#include "test_wire_util.h"
#include "wire.h"

#define MAX_DATAGRAM 65536

/* ---- helpers of these bindings only (the shared ones: test_wire_util.h) ---- */

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

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

static napi_value boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
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

/* ---- registration ---- */

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
  napi_status st;
  if ((st = add_function(env, test, "rtpParse", js_rtp_parse)) != napi_ok ||
      (st = add_function(env, test, "parseTelephoneEvent", js_parse_telephone_event)) != napi_ok ||
      (st = add_class(env, test, "RtpSender", js_rtp_sender_new, 6, rtp_sender_props)) != napi_ok ||
      (st = add_class(env, test, "DtmfSender", js_dtmf_sender_new, 6, dtmf_sender_props)) != napi_ok ||
      (st = add_class(env, test, "DtmfReceiver", js_dtmf_receiver_new, 1, dtmf_receiver_props)) != napi_ok)
    return st;
  return register_srtp_test(env, test);
}
