/* A leg and its statistics between JS and C: see index.d.ts for the contract. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include "js_util.h"

static bool key_buffer(napi_env env, napi_value srtp, const char *name, uint8_t *out) {
  napi_value v;
  bool is_buffer = false;
  char full[32];
  snprintf(full, sizeof full, "srtp.%s", name);
  if (!js_prop(env, srtp, name, &v)) return false;
  if (!v || napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) {
    return js_type_error(env, "%s must be a Buffer of 30 bytes (key and salt)", full);
  }
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return false;
  if (len != SRTP_MASTER_BYTES) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be 30 bytes (key and salt), got %zu", full, len);
    nu_throw_range(env, msg);
    return false;
  }
  memcpy(out, data, SRTP_MASTER_BYTES);
  return true;
}

bool js_leg(napi_env env, napi_value leg, pipeline_leg *out, engine_direction *dir) {
  memset(out, 0, sizeof *out);
  napi_valuetype t = napi_undefined;
  napi_typeof(env, leg, &t);
  if (t != napi_object) return js_type_error(env, "%s must be an object", "leg");
  char ip[64], direction[16];
  double port, ssrc, seq, ts;
  uint32_t r[3] = {0, 0, 0};
  if (getrandom(r, sizeof r, 0) != sizeof r) {
    napi_throw_error(env, NULL, "getrandom failed");
    return false;
  }
  if (!js_str(env, leg, "", "ip", NULL, ip, sizeof ip) ||
      !js_num(env, leg, "", "port", -1, 1, 65535, true, &port) ||
      !js_str(env, leg, "", "direction", "both", direction, sizeof direction) ||
      !js_num(env, leg, "", "ssrc", r[0], 0, 4294967295.0, true, &ssrc) ||
      !js_num(env, leg, "", "sequence", r[1] & 0xffff, 0, 65535, true, &seq) ||
      !js_num(env, leg, "", "timestamp", r[2], 0, 4294967295.0, true, &ts)) {
    return false;
  }
  if (port < 0) return js_type_error(env, "%s is required", "port");
  if (strcmp(direction, "both") == 0) *dir = DIRECTION_BOTH;
  else if (strcmp(direction, "send") == 0) *dir = DIRECTION_SEND;
  else if (strcmp(direction, "receive") == 0) *dir = DIRECTION_RECEIVE;
  else {
    nu_throw_range(env, "direction must be 'both', 'send' or 'receive'");
    return false;
  }
  out->remote.sin_family = AF_INET;
  out->remote.sin_port = htons((uint16_t)port);
  if (!js_ipv4(env, ip, "ip", &out->remote.sin_addr)) return false;
  out->ssrc = (uint32_t)ssrc;
  out->sequence = (uint16_t)seq;
  out->timestamp = (uint32_t)ts;
  napi_value srtp;
  if (!js_prop(env, leg, "srtp", &srtp)) return false;
  if (srtp) {
    napi_typeof(env, srtp, &t);
    if (t == napi_null) return true;
    if (t != napi_object) return js_type_error(env, "%s must be an object or null", "srtp");
    if (!key_buffer(env, srtp, "send", out->srtp_send) ||
        !key_buffer(env, srtp, "recv", out->srtp_recv)) {
      return false;
    }
    out->srtp = true;
  }
  return true;
}

napi_value js_stats(napi_env env, const engine_stats *s) {
  napi_value o, b;
  const pipeline_stats *m = &s->media;
  NAPI_CALL(env, napi_create_object(env, &o));
  NAPI_CALL(env, napi_get_boolean(env, m->srtp, &b));
  if (!nu_set_num(env, o, "packetsSent", m->packets_sent) ||
      !nu_set_num(env, o, "bytesSent", m->bytes_sent) || !nu_set_num(env, o, "received", m->received) ||
      !nu_set_num(env, o, "lost", m->lost) || !nu_set_num(env, o, "late", m->late) ||
      !nu_set_num(env, o, "concealed", m->concealed) ||
      !nu_set_num(env, o, "duplicates", m->duplicates) ||
      !nu_set_num(env, o, "wrongSource", m->wrong_source) ||
      !nu_set_num(env, o, "invalid", m->invalid) ||
      napi_set_named_property(env, o, "srtp", b) != napi_ok ||
      !nu_set_num(env, o, "srtpAuthFailed", m->srtp_auth_failed) ||
      !nu_set_num(env, o, "srtpReplayed", m->srtp_replayed) ||
      !nu_set_num(env, o, "unknownPayload", m->unknown_payload) ||
      !nu_set_num(env, o, "decodeErrors", m->decode_errors) ||
      !nu_set_num(env, o, "dtmfSent", m->dtmf_sent) ||
      !nu_set_num(env, o, "dtmfReceived", m->dtmf_received) ||
      !nu_set_num(env, o, "jitterMs", m->jitter_ms) || !nu_set_num(env, o, "depthMs", m->depth_ms) ||
      !nu_set_num(env, o, "targetMs", m->target_ms) || !nu_set_num(env, o, "bitrate", m->bitrate) ||
      !nu_set_num(env, o, "sendBitrate", m->send_bitrate) ||
      !nu_set_num(env, o, "sendErrors", s->send_errors) ||
      !nu_set_num(env, o, "sinkDropped", s->sink_dropped)) {
    js_throw_last_error(env);
    return NULL;
  }
  return o;
}
