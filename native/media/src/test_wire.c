/*
 * Test-only bindings of wire.c under `_test` (test/native/media/wire.test.ts runs them beside
 * the TypeScript they port): rtpParse, RtpSender, DtmfSender, DtmfReceiver,
 * parseTelephoneEvent. Those of srtp.c are in test_srtp.c; register_wire_test() registers
 * both. Bad arguments throw TypeError or RangeError.
 */
#include "test_exports.h"
#include "test_util.h"
#include "wire.h"

#define MAX_DATAGRAM 65536
#define U32 4294967295.0

/* The option `name` of `obj`, test_uint's way. */
static bool get_field(napi_env env, napi_value obj, const char *name, double max,
                      double fallback, double *out) {
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return false;
  return test_uint(env, v, name, max, fallback, out);
}

/* The options' ssrc, sequence and timestamp, all required. */
static bool get_start(napi_env env, napi_value opts, double *ssrc, double *seq, double *ts) {
  return get_field(env, opts, "ssrc", U32, -1, ssrc) &&
         get_field(env, opts, "sequence", 65535, -1, seq) &&
         get_field(env, opts, "timestamp", U32, -1, ts);
}

static bool fits(napi_env env, size_t payload_len) {
  if (payload_len <= MAX_DATAGRAM) return true;
  napi_throw_range_error(env, NULL, "payload too long");
  return false;
}

/* The n bytes an rtp_sender wrote, or (n == 0) its refusal of an RTCP payload type. */
static napi_value datagram(napi_env env, const uint8_t *out, size_t n) {
  if (n > 0) return test_copy(env, out, n);
  napi_throw_range_error(env, NULL, "rtp: payloadType is reserved for RTCP (RFC 5761)");
  return NULL;
}

/* A parser's one argument, a Buffer (TypeError `msg` for anything else). */
static bool buffer_arg(napi_env env, napi_callback_info info, const char *msg, uint8_t **buf,
                       size_t *len) {
  napi_value argv[1];
  return test_args(env, info, 1, argv) && test_buffer(env, argv[0], msg, buf, len);
}

/* ---- RTP ---- */

static napi_value js_rtp_parse(napi_env env, napi_callback_info info) {
  napi_value payload;
  uint8_t *buf;
  size_t len;
  rtp_packet p;
  if (!buffer_arg(env, info, "buf must be a Buffer", &buf, &len)) return NULL;
  if (!rtp_parse(buf, len, &p)) return test_null(env);
  if ((payload = test_copy(env, p.payload, p.payload_len)) == NULL) return NULL;
  const test_field fields[] = {
      TEST_NUM("payloadType", p.payload_type), TEST_BOOL("marker", p.marker),
      TEST_NUM("sequence", p.sequence),        TEST_NUM("timestamp", p.timestamp),
      TEST_NUM("ssrc", p.ssrc),                TEST_VALUE("payload", payload),
  };
  return TEST_OBJECT(env, fields);
}

static napi_value js_rtp_sender_new(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = test_new(env, info, 1, argv, NULL);
  double pt, ssrc, seq, ts;
  if (self == NULL || !test_object_arg(env, argv[0], "options must be an object") ||
      !get_field(env, argv[0], "payloadType", 127, -1, &pt) ||
      !get_start(env, argv[0], &ssrc, &seq, &ts))
    return NULL;
  rtp_sender *s = test_alloc(env, sizeof *s);
  if (s == NULL) return NULL;
  rtp_sender_init(s, (uint8_t)pt, (uint32_t)ssrc, (uint16_t)seq, (uint32_t)ts);
  return test_wrap(env, self, s, test_free);
}

/* nextAudio(payload, samples) over any rtp_sender. */
static napi_value next_audio(napi_env env, rtp_sender *s, napi_value payload_v,
                             napi_value samples_v) {
  uint8_t *payload;
  size_t len;
  double samples;
  if (!test_buffer(env, payload_v, "payload must be a Buffer", &payload, &len) ||
      !test_uint(env, samples_v, "samples", U32, -1, &samples) || !fits(env, len))
    return NULL;
  uint8_t out[RTP_HEADER_SIZE + MAX_DATAGRAM];
  return datagram(env, out,
                  rtp_sender_next_audio(s, payload, len, (uint32_t)samples, out, sizeof out));
}

static napi_value js_rtp_sender_next_audio(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  rtp_sender *s = test_this(env, info, 2, argv, NULL);
  return s ? next_audio(env, s, argv[0], argv[1]) : NULL;
}

static napi_value js_rtp_sender_silence(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  rtp_sender *s = test_this(env, info, 1, argv, NULL);
  double samples;
  if (s == NULL || !test_uint(env, argv[0], "samples", U32, -1, &samples)) return NULL;
  rtp_sender_silence(s, (uint32_t)samples);
  return NULL;
}

/* packet(payloadType, payload, timestamp, marker) */
static napi_value js_rtp_sender_packet(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  rtp_sender *s = test_this(env, info, 4, argv, NULL);
  double pt, ts;
  uint8_t *payload;
  size_t len;
  bool marker = false;
  if (s == NULL || !test_uint(env, argv[0], "payloadType", 127, -1, &pt) ||
      !test_buffer(env, argv[1], "payload must be a Buffer", &payload, &len) ||
      !test_uint(env, argv[2], "timestamp", U32, -1, &ts))
    return NULL;
  if (napi_get_value_bool(env, argv[3], &marker) != napi_ok) {
    napi_throw_type_error(env, NULL, "marker must be a boolean");
    return NULL;
  }
  if (!fits(env, len)) return NULL;
  uint8_t out[RTP_HEADER_SIZE + MAX_DATAGRAM];
  return datagram(env, out, rtp_sender_packet(s, (uint8_t)pt, payload, len, (uint32_t)ts, marker,
                                              out, sizeof out));
}

TEST_DEFINE_GETTER(js_rtp_sender_ssrc, rtp_sender, test_num, self->ssrc)
TEST_DEFINE_GETTER(js_rtp_sender_sequence, rtp_sender, test_num, self->sequence)
TEST_DEFINE_GETTER(js_rtp_sender_timestamp, rtp_sender, test_num, self->timestamp)

/* ---- RFC 4733 ---- */

typedef struct {
  rtp_sender rtp;
  dtmf_sender dtmf;
} dtmf_sender_box;

static napi_value js_dtmf_sender_new(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = test_new(env, info, 1, argv, NULL);
  napi_value opts = argv[0];
  double ssrc, seq, ts, pt, packet_ms, clock_rate, volume;
  if (self == NULL || !test_object_arg(env, opts, "options must be an object") ||
      !get_start(env, opts, &ssrc, &seq, &ts) ||
      !get_field(env, opts, "payloadType", 127, DTMF_PAYLOAD_TYPE, &pt) ||
      !get_field(env, opts, "packetMs", 60000, 20, &packet_ms) ||
      !get_field(env, opts, "clockRate", 1000000, 48000, &clock_rate) ||
      !get_field(env, opts, "volume", 63, 10, &volume))
    return NULL;
  if (packet_ms < 1 || clock_rate < 1 || (pt >= 72 && pt <= 76)) {
    napi_throw_range_error(env, NULL,
                           "packetMs and clockRate must be positive, payloadType not RTCP's");
    return NULL;
  }
  dtmf_sender_box *b = test_alloc(env, sizeof *b);
  if (b == NULL) return NULL;
  rtp_sender_init(&b->rtp, OPUS_PAYLOAD_TYPE, (uint32_t)ssrc, (uint16_t)seq, (uint32_t)ts);
  dtmf_sender_init(&b->dtmf, &b->rtp, (uint8_t)pt, (uint32_t)packet_ms, (uint32_t)clock_rate,
                   (uint8_t)volume);
  return test_wrap(env, self, b, test_free);
}

/* press(key, durationMs = 100) */
static napi_value js_dtmf_sender_press(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  dtmf_sender_box *b = test_this(env, info, 2, argv, NULL);
  if (b == NULL) return NULL;
  char key[4] = {0};
  size_t klen = 0;
  if (napi_get_value_string_utf8(env, argv[0], key, sizeof key, &klen) != napi_ok) {
    napi_throw_type_error(env, NULL, "key must be a string");
    return NULL;
  }
  double ms;
  if (!test_uint(env, argv[1], "durationMs", U32, 100, &ms)) return NULL;
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
  dtmf_sender_box *b = test_this(env, info, 0, NULL, NULL);
  if (b == NULL) return NULL;
  uint8_t out[64];
  size_t n = dtmf_sender_tick(&b->dtmf, out, sizeof out);
  return n == 0 ? test_null(env) : test_copy(env, out, n);
}

static napi_value js_dtmf_sender_next_audio(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  dtmf_sender_box *b = test_this(env, info, 2, argv, NULL);
  return b ? next_audio(env, &b->rtp, argv[0], argv[1]) : NULL;
}

TEST_DEFINE_GETTER(js_dtmf_sender_active, dtmf_sender_box, test_bool,
                   dtmf_sender_active(&self->dtmf))
TEST_DEFINE_GETTER(js_dtmf_sender_sequence, dtmf_sender_box, test_num, self->rtp.sequence)
TEST_DEFINE_GETTER(js_dtmf_sender_timestamp, dtmf_sender_box, test_num, self->rtp.timestamp)

static napi_value js_dtmf_receiver_new(napi_env env, napi_callback_info info) {
  napi_value self = test_new(env, info, 0, NULL, NULL);
  dtmf_receiver *r = self ? test_alloc(env, sizeof *r) : NULL;
  if (r == NULL) return NULL;
  dtmf_receiver_init(r);
  return test_wrap(env, self, r, test_free);
}

/* push(datagram): the key an RFC 4733 packet completes, or null. */
static napi_value js_dtmf_receiver_push(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  dtmf_receiver *r = test_this(env, info, 1, argv, NULL);
  uint8_t *buf;
  size_t len;
  if (r == NULL || !test_buffer(env, argv[0], "datagram must be a Buffer", &buf, &len))
    return NULL;
  rtp_packet p;
  char key;
  if (!rtp_parse(buf, len, &p) || !dtmf_receiver_push(r, &p, &key)) return test_null(env);
  return test_char(env, key);
}

static napi_value js_parse_telephone_event(napi_env env, napi_callback_info info) {
  uint8_t *buf;
  size_t len;
  telephone_event e;
  if (!buffer_arg(env, info, "payload must be a Buffer", &buf, &len)) return NULL;
  if (!telephone_event_parse(buf, len, &e)) return test_null(env);
  const test_field fields[] = {
      TEST_NUM("event", e.event),   TEST_BOOL("end", e.end),
      TEST_NUM("volume", e.volume), TEST_NUM("duration", e.duration),
  };
  return TEST_OBJECT(env, fields);
}

/* ---- registration ---- */

napi_status register_wire_test(napi_env env, napi_value test) {
  static const napi_property_descriptor rtp_sender_props[] = {
      TEST_METHOD("nextAudio", js_rtp_sender_next_audio),
      TEST_METHOD("silence", js_rtp_sender_silence), TEST_METHOD("packet", js_rtp_sender_packet),
      TEST_GETTER("ssrc", js_rtp_sender_ssrc), TEST_GETTER("sequence", js_rtp_sender_sequence),
      TEST_GETTER("timestamp", js_rtp_sender_timestamp),
  };
  static const napi_property_descriptor dtmf_sender_props[] = {
      TEST_METHOD("press", js_dtmf_sender_press), TEST_METHOD("tick", js_dtmf_sender_tick),
      TEST_METHOD("nextAudio", js_dtmf_sender_next_audio),
      TEST_GETTER("active", js_dtmf_sender_active),
      TEST_GETTER("sequence", js_dtmf_sender_sequence),
      TEST_GETTER("timestamp", js_dtmf_sender_timestamp),
  };
  static const napi_property_descriptor dtmf_receiver_props[] = {
      TEST_METHOD("push", js_dtmf_receiver_push),
  };
  static const test_export exports[] = {
      TEST_FUNCTION("rtpParse", js_rtp_parse),
      TEST_FUNCTION("parseTelephoneEvent", js_parse_telephone_event),
      TEST_CLASS("RtpSender", js_rtp_sender_new, rtp_sender_props),
      TEST_CLASS("DtmfSender", js_dtmf_sender_new, dtmf_sender_props),
      TEST_CLASS("DtmfReceiver", js_dtmf_receiver_new, dtmf_receiver_props),
  };
  napi_status st = TEST_REGISTER(env, test, exports);
  return st == napi_ok ? register_srtp_test(env, test) : st;
}
