/* The engine's options, legs and stats between JS and C: see index.d.ts for the contract. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include "js_util.h"

void js_throw_last_error(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *msg = info && info->error_message ? info->error_message : "N-API call failed";
  napi_throw_error(env, "ERR_BABEL_MEDIA_NAPI", msg);
}

static bool type_error(napi_env env, const char *fmt, const char *name) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, name);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return false;
}

/* The property `name` of `obj`; *v NULL if absent or undefined. */
static bool prop(napi_env env, napi_value obj, const char *name, napi_value *v) {
  *v = NULL;
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok) return false;
  if (!has) return true;
  napi_value got;
  napi_valuetype t = napi_undefined;
  if (napi_get_named_property(env, obj, name, &got) != napi_ok) return false;
  if (napi_typeof(env, got, &t) != napi_ok) return false;
  if (t != napi_undefined) *v = got;
  return true;
}

/* A number option in [min, max] (an integer if `integer`); absent: `def`. */
static bool num(napi_env env, napi_value obj, const char *path, const char *name, double def,
                double min, double max, bool integer, double *out) {
  napi_value v;
  char full[96];
  snprintf(full, sizeof full, "%s%s", path, name);
  if (!prop(env, obj, name, &v)) return false;
  if (!v) {
    *out = def;
    return true;
  }
  napi_valuetype t = napi_undefined;
  double d = 0;
  napi_typeof(env, v, &t);
  if (t != napi_number) return type_error(env, "%s must be a number", full);
  napi_get_value_double(env, v, &d);
  if (!(d >= min && d <= max) || (integer && d != floor(d))) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s must be %s in %.15g..%.15g, got %.15g", full,
             integer ? "an integer" : "a number", min, max, d);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = d;
  return true;
}

/* A string option into buf (required unless def is non-NULL). */
static bool str(napi_env env, napi_value obj, const char *path, const char *name,
                const char *def, char *buf, size_t cap) {
  napi_value v;
  char full[96];
  snprintf(full, sizeof full, "%s%s", path, name);
  if (!prop(env, obj, name, &v)) return false;
  if (!v) {
    if (!def) return type_error(env, "%s is required", full);
    snprintf(buf, cap, "%s", def);
    return true;
  }
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  if (t != napi_string) return type_error(env, "%s must be a string", full);
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return false;
  if (len == 0 || len >= cap - 1 || strlen(buf) != len) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s must be 1 to %zu bytes, without NUL", full, cap - 2);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  return true;
}

static bool ipv4(napi_env env, const char *text, const char *name, struct in_addr *out) {
  if (inet_pton(AF_INET, text, out) == 1) return true;
  char msg[200];
  snprintf(msg, sizeof msg, "%s must be an IPv4 address, got \"%.64s\"", name, text);
  napi_throw_range_error(env, "ERR_INVALID_IP_ADDRESS", msg);
  return false;
}

static bool object(napi_env env, napi_value obj, const char *name, napi_value *v,
                   bool required) {
  if (!prop(env, obj, name, v)) return false;
  if (!*v) return required ? type_error(env, "%s is required", name) : true;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, *v, &t);
  if (t != napi_object) return type_error(env, "%s must be an object", name);
  return true;
}

static bool jitter_config(napi_env env, napi_value options, jitter_options *j) {
  napi_value o;
  if (!object(env, options, "jitter", &o, false)) return false;
  if (!o) return true;
  const double big = 600000;
  return num(env, o, "jitter.", "minDepthMs", j->min_depth_ms, 0, big, false, &j->min_depth_ms) &&
         num(env, o, "jitter.", "maxDepthMs", j->max_depth_ms, 0, big, false, &j->max_depth_ms) &&
         num(env, o, "jitter.", "initialDepthMs", j->initial_depth_ms, 0, big, false,
             &j->initial_depth_ms) &&
         num(env, o, "jitter.", "marginMs", j->margin_ms, 0, big, false, &j->margin_ms) &&
         num(env, o, "jitter.", "windowMs", j->window_ms, 0, big, false, &j->window_ms) &&
         num(env, o, "jitter.", "maxUnderrunMs", j->max_underrun_ms, 0, big, false,
             &j->max_underrun_ms) &&
         num(env, o, "jitter.", "maxDropWaitMs", j->max_drop_wait_ms, 0, big, false,
             &j->max_drop_wait_ms);
}

static bool capture_config(napi_env env, napi_value options, capture_spec *c) {
  napi_value o;
  char kind[16];
  memset(c, 0, sizeof *c);
  if (!object(env, options, "capture", &o, false)) return false;
  if (!o) {
    c->kind = CAPTURE_SILENCE;
    return true;
  }
  if (!str(env, o, "capture.", "kind", NULL, kind, sizeof kind)) return false;
  if (strcmp(kind, "tone") == 0) {
    c->kind = CAPTURE_TONE;
    if (!num(env, o, "capture.", "hz", -1, 1, 24000, false, &c->hz)) return false;
    return c->hz > 0 || type_error(env, "%s is required", "capture.hz");
  }
  if (strcmp(kind, "file") == 0) {
    c->kind = CAPTURE_FILE;
    return str(env, o, "capture.", "path", NULL, c->name, sizeof c->name);
  }
  if (strcmp(kind, "silence") == 0) {
    c->kind = CAPTURE_SILENCE;
    return true;
  }
  if (strcmp(kind, "alsa") == 0) {
    c->kind = CAPTURE_ALSA;
    return str(env, o, "capture.", "pcm", NULL, c->name, 256);
  }
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                         "capture.kind must be 'tone', 'file', 'silence' or 'alsa'");
  return false;
}

static bool playback_config(napi_env env, napi_value options, engine_config *c) {
  napi_value o;
  char kind[16];
  c->sink = SINK_NULL;
  c->sink_fd = -1;
  if (!object(env, options, "playback", &o, false)) return false;
  if (!o) return true;
  if (!str(env, o, "playback.", "kind", NULL, kind, sizeof kind)) return false;
  if (strcmp(kind, "null") == 0) return true;
  if (strcmp(kind, "fd") == 0) {
    double fd;
    c->sink = SINK_FD;
    if (!num(env, o, "playback.", "fd", -1, 0, INT32_MAX, true, &fd)) return false;
    if (fd < 0) return type_error(env, "%s is required", "playback.fd");
    c->sink_fd = (int)fd;
    return true;
  }
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "playback.kind must be 'null' or 'fd'");
  return false;
}

bool js_engine_config(napi_env env, napi_value options, engine_config *c) {
  memset(c, 0, sizeof *c);
  napi_valuetype t = napi_undefined;
  napi_typeof(env, options, &t);
  if (t != napi_object) return type_error(env, "%s must be an object", "options");
  double frame, port, bitrate, complexity, loss, dtmf, guard;
  char host[64];
  if (!num(env, options, "", "frameMs", 20, 10, 20, true, &frame)) return false;
  if (frame != 10 && frame != 20) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "frameMs must be 10 or 20");
    return false;
  }
  pipeline_config *p = &c->pipeline;
  pipeline_config_default(p, (int)frame);
  napi_value fec;
  bool fec_on = true;
  if (!str(env, options, "", "host", "0.0.0.0", host, sizeof host) ||
      !num(env, options, "", "port", 0, 0, 65535, true, &port) ||
      !num(env, options, "", "bitrate", p->bitrate, 6000, 510000, true, &bitrate) ||
      !num(env, options, "", "complexity", p->complexity, 0, 10, true, &complexity) ||
      !num(env, options, "", "packetLossPercent", p->packet_loss_percent, 0, 100, true, &loss) ||
      !num(env, options, "", "dtmfDurationMs", p->dtmf_duration_ms, 1, 10000, true, &dtmf) ||
      !num(env, options, "", "playoutGuardMs", p->playout_guard_ms, 0, 1000, false, &guard) ||
      !prop(env, options, "fec", &fec)) {
    return false;
  }
  if (fec) {
    napi_typeof(env, fec, &t);
    if (t != napi_boolean) return type_error(env, "%s must be a boolean", "fec");
    napi_get_value_bool(env, fec, &fec_on);
  }
  p->bitrate = (int)bitrate;
  p->complexity = (int)complexity;
  p->packet_loss_percent = (int)loss;
  p->fec = fec_on;
  p->dtmf_duration_ms = (uint32_t)dtmf;
  p->playout_guard_ms = guard;
  if (!jitter_config(env, options, &p->jitter)) return false;
  /* The jitter buffer's own checks, now rather than at the first leg. */
  jitter_options jo = p->jitter;
  jo.frame_ms = frame;
  jo.clock_rate = PIPELINE_SAMPLE_RATE;
  char jerr[160] = "";
  jitter *probe = jitter_new(&jo, jerr, sizeof jerr);
  if (!probe) {
    char msg[200];
    snprintf(msg, sizeof msg, "jitter: %s", jerr[0] ? jerr : "out of memory");
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  jitter_free(probe);
  c->bind.sin_family = AF_INET;
  c->bind.sin_port = htons((uint16_t)port);
  if (!ipv4(env, host, "host", &c->bind.sin_addr)) return false;
  return capture_config(env, options, &c->capture) && playback_config(env, options, c);
}

static bool key_buffer(napi_env env, napi_value srtp, const char *name, uint8_t *out) {
  napi_value v;
  bool is_buffer = false;
  char full[32];
  snprintf(full, sizeof full, "srtp.%s", name);
  if (!prop(env, srtp, name, &v)) return false;
  if (!v || napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) {
    return type_error(env, "%s must be a Buffer of 30 bytes (key and salt)", full);
  }
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return false;
  if (len != SRTP_MASTER_BYTES) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be 30 bytes (key and salt), got %zu", full, len);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  memcpy(out, data, SRTP_MASTER_BYTES);
  return true;
}

bool js_leg(napi_env env, napi_value leg, pipeline_leg *out, engine_direction *dir) {
  memset(out, 0, sizeof *out);
  napi_valuetype t = napi_undefined;
  napi_typeof(env, leg, &t);
  if (t != napi_object) return type_error(env, "%s must be an object", "leg");
  char ip[64], direction[16];
  double port, ssrc, seq, ts;
  uint32_t r[3] = {0, 0, 0};
  if (getrandom(r, sizeof r, 0) != sizeof r) {
    napi_throw_error(env, NULL, "getrandom failed");
    return false;
  }
  if (!str(env, leg, "", "ip", NULL, ip, sizeof ip) ||
      !num(env, leg, "", "port", -1, 1, 65535, true, &port) ||
      !str(env, leg, "", "direction", "both", direction, sizeof direction) ||
      !num(env, leg, "", "ssrc", r[0], 0, 4294967295.0, true, &ssrc) ||
      !num(env, leg, "", "sequence", r[1] & 0xffff, 0, 65535, true, &seq) ||
      !num(env, leg, "", "timestamp", r[2], 0, 4294967295.0, true, &ts)) {
    return false;
  }
  if (port < 0) return type_error(env, "%s is required", "port");
  if (strcmp(direction, "both") == 0) *dir = DIRECTION_BOTH;
  else if (strcmp(direction, "send") == 0) *dir = DIRECTION_SEND;
  else if (strcmp(direction, "receive") == 0) *dir = DIRECTION_RECEIVE;
  else {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                           "direction must be 'both', 'send' or 'receive'");
    return false;
  }
  out->remote.sin_family = AF_INET;
  out->remote.sin_port = htons((uint16_t)port);
  if (!ipv4(env, ip, "ip", &out->remote.sin_addr)) return false;
  out->ssrc = (uint32_t)ssrc;
  out->sequence = (uint16_t)seq;
  out->timestamp = (uint32_t)ts;
  napi_value srtp;
  if (!prop(env, leg, "srtp", &srtp)) return false;
  if (srtp) {
    napi_typeof(env, srtp, &t);
    if (t == napi_null) return true;
    if (t != napi_object) return type_error(env, "%s must be an object or null", "srtp");
    if (!key_buffer(env, srtp, "send", out->srtp_send) ||
        !key_buffer(env, srtp, "recv", out->srtp_recv)) {
      return false;
    }
    out->srtp = true;
  }
  return true;
}

static bool set_num(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

napi_value js_stats(napi_env env, const engine_stats *s) {
  napi_value o, b;
  const pipeline_stats *m = &s->media;
  NAPI_CALL(env, napi_create_object(env, &o));
  NAPI_CALL(env, napi_get_boolean(env, m->srtp, &b));
  if (!set_num(env, o, "packetsSent", m->packets_sent) ||
      !set_num(env, o, "bytesSent", m->bytes_sent) || !set_num(env, o, "received", m->received) ||
      !set_num(env, o, "lost", m->lost) || !set_num(env, o, "late", m->late) ||
      !set_num(env, o, "concealed", m->concealed) ||
      !set_num(env, o, "duplicates", m->duplicates) ||
      !set_num(env, o, "wrongSource", m->wrong_source) ||
      !set_num(env, o, "invalid", m->invalid) ||
      napi_set_named_property(env, o, "srtp", b) != napi_ok ||
      !set_num(env, o, "srtpAuthFailed", m->srtp_auth_failed) ||
      !set_num(env, o, "srtpReplayed", m->srtp_replayed) ||
      !set_num(env, o, "unknownPayload", m->unknown_payload) ||
      !set_num(env, o, "decodeErrors", m->decode_errors) ||
      !set_num(env, o, "dtmfSent", m->dtmf_sent) ||
      !set_num(env, o, "dtmfReceived", m->dtmf_received) ||
      !set_num(env, o, "jitterMs", m->jitter_ms) || !set_num(env, o, "depthMs", m->depth_ms) ||
      !set_num(env, o, "targetMs", m->target_ms) || !set_num(env, o, "bitrate", m->bitrate) ||
      !set_num(env, o, "sendBitrate", m->send_bitrate) ||
      !set_num(env, o, "sendErrors", s->send_errors) ||
      !set_num(env, o, "sinkDropped", s->sink_dropped)) {
    js_throw_last_error(env);
    return NULL;
  }
  return o;
}
