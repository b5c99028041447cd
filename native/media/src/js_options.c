/* The engine's options between JS and C: see index.d.ts for the contract. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "js_util.h"

static bool jitter_config(napi_env env, napi_value options, jitter_options *j) {
  napi_value o;
  if (!js_object(env, options, "jitter", &o, false)) return false;
  if (!o) return true;
  const double big = 600000;
  return js_num(env, o, "jitter.", "minDepthMs", j->min_depth_ms, 0, big, false, &j->min_depth_ms) &&
         js_num(env, o, "jitter.", "maxDepthMs", j->max_depth_ms, 0, big, false, &j->max_depth_ms) &&
         js_num(env, o, "jitter.", "initialDepthMs", j->initial_depth_ms, 0, big, false,
             &j->initial_depth_ms) &&
         js_num(env, o, "jitter.", "marginMs", j->margin_ms, 0, big, false, &j->margin_ms) &&
         js_num(env, o, "jitter.", "windowMs", j->window_ms, 0, big, false, &j->window_ms) &&
         js_num(env, o, "jitter.", "maxUnderrunMs", j->max_underrun_ms, 0, big, false,
             &j->max_underrun_ms) &&
         js_num(env, o, "jitter.", "maxDropWaitMs", j->max_drop_wait_ms, 0, big, false,
             &j->max_drop_wait_ms);
}

static bool capture_config(napi_env env, napi_value options, capture_spec *c) {
  napi_value o;
  char kind[16];
  memset(c, 0, sizeof *c);
  if (!js_object(env, options, "capture", &o, false)) return false;
  if (!o) {
    c->kind = CAPTURE_SILENCE;
    return true;
  }
  if (!js_str(env, o, "capture.", "kind", NULL, kind, sizeof kind)) return false;
  if (strcmp(kind, "tone") == 0) {
    c->kind = CAPTURE_TONE;
    if (!js_num(env, o, "capture.", "hz", -1, 1, 24000, false, &c->hz)) return false;
    return c->hz > 0 || js_type_error(env, "%s is required", "capture.hz");
  }
  if (strcmp(kind, "file") == 0) {
    c->kind = CAPTURE_FILE;
    return js_str(env, o, "capture.", "path", NULL, c->name, sizeof c->name);
  }
  if (strcmp(kind, "silence") == 0) {
    c->kind = CAPTURE_SILENCE;
    return true;
  }
  if (strcmp(kind, "alsa") == 0) {
    c->kind = CAPTURE_ALSA;
    return js_str(env, o, "capture.", "pcm", NULL, c->name, 256);
  }
  nu_throw_range(env, "capture.kind must be 'tone', 'file', 'silence' or 'alsa'");
  return false;
}

bool js_playback(napi_env env, napi_value o, const char *path, engine_playback *out) {
  char kind[16], name[32];
  *out = (engine_playback){.kind = SINK_NULL, .fd = -1, .max_latency_ms = ENGINE_MAX_LATENCY_MS};
  napi_valuetype t = napi_undefined;
  if (o) napi_typeof(env, o, &t);
  if (t != napi_object || !o) {
    snprintf(name, sizeof name, "%.*s", (int)strlen(path) - 1, path);
    return js_type_error(env, "%s must be an object", name);
  }
  if (!js_str(env, o, path, "kind", NULL, kind, sizeof kind)) return false;
  if (strcmp(kind, "null") == 0) return true;
  if (strcmp(kind, "fd") == 0) {
    double fd;
    out->kind = SINK_FD;
    if (!js_num(env, o, path, "fd", -1, 0, INT32_MAX, true, &fd) ||
        !js_num(env, o, path, "maxLatencyMs", ENGINE_MAX_LATENCY_MS, 1, 60000, false,
             &out->max_latency_ms)) {
      return false;
    }
    snprintf(name, sizeof name, "%sfd", path);
    if (fd < 0) return js_type_error(env, "%s is required", name);
    out->fd = (int)fd;
    return true;
  }
  snprintf(name, sizeof name, "%skind must be 'null' or 'fd'", path);
  nu_throw_range(env, name);
  return false;
}

static bool playback_config(napi_env env, napi_value options, engine_config *c) {
  napi_value o;
  c->playback = (engine_playback){
      .kind = SINK_NULL, .fd = -1, .max_latency_ms = ENGINE_MAX_LATENCY_MS};
  if (!js_prop(env, options, "playback", &o)) return false;
  if (!o) return true;
  return js_playback(env, o, "playback.", &c->playback);
}

/* echo: control.ts' options; absent: none at all (off, 0 dB, volume 100, no DSP). */
static bool echo_config(napi_env env, napi_value options, engine_config *c) {
  napi_value o;
  char mode[16];
  c->echo_on = false;
  c->echo = (echo_options){.mode = ECHO_OFF, .speaker_volume = 100};
  if (!js_object(env, options, "echo", &o, false)) return false;
  if (!o) return true;
  echo_options *e = &c->echo;
  if (!js_str(env, o, "echo.", "mode", "off", mode, sizeof mode)) return false;
  if (strcmp(mode, "aec") == 0) e->mode = ECHO_AEC;
  else if (strcmp(mode, "duck") == 0) e->mode = ECHO_DUCK;
  else if (strcmp(mode, "off") == 0) e->mode = ECHO_OFF;
  else {
    nu_throw_range(env, "echo.mode must be 'aec', 'duck' or 'off'");
    return false;
  }
  if (!js_num(env, o, "echo.", "micGainDb", 0, -60, 60, false, &e->mic_gain_db) ||
      !js_num(env, o, "echo.", "speakerVolume", 100, 0, 100, false, &e->speaker_volume) ||
      !js_bool(env, o, "echo.", "noiseSuppression", &e->noise_suppression) ||
      !js_bool(env, o, "echo.", "autoGain", &e->auto_gain) ||
      !js_num(env, o, "echo.", "playbackDelayMs", 0, 0, 10000, false, &e->playback_delay_ms)) {
    return false;
  }
  c->echo_on = true;
  return true;
}

bool js_engine_config(napi_env env, napi_value options, engine_config *c) {
  memset(c, 0, sizeof *c);
  napi_valuetype t = napi_undefined;
  napi_typeof(env, options, &t);
  if (t != napi_object) return js_type_error(env, "%s must be an object", "options");
  double frame, port, bitrate, complexity, loss, dtmf, guard;
  char host[64];
  if (!js_num(env, options, "", "frameMs", 20, 10, 20, true, &frame)) return false;
  if (frame != 10 && frame != 20) {
    nu_throw_range(env, "frameMs must be 10 or 20");
    return false;
  }
  pipeline_config *p = &c->pipeline;
  pipeline_config_default(p, (int)frame);
  bool fec_on = true;
  if (!js_str(env, options, "", "host", "0.0.0.0", host, sizeof host) ||
      !js_num(env, options, "", "port", 0, 0, 65535, true, &port) ||
      !js_num(env, options, "", "bitrate", p->bitrate, 6000, 510000, true, &bitrate) ||
      !js_num(env, options, "", "complexity", p->complexity, 0, 10, true, &complexity) ||
      !js_num(env, options, "", "packetLossPercent", p->packet_loss_percent, 0, 100, true, &loss) ||
      !js_num(env, options, "", "dtmfDurationMs", p->dtmf_duration_ms, 1, 10000, true, &dtmf) ||
      !js_num(env, options, "", "playoutGuardMs", p->playout_guard_ms, 0, 1000, false, &guard) ||
      !js_bool(env, options, "", "fec", &fec_on)) {
    return false;
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
    nu_throw_range(env, msg);
    return false;
  }
  jitter_free(probe);
  c->bind.sin_family = AF_INET;
  c->bind.sin_port = htons((uint16_t)port);
  if (!js_ipv4(env, host, "host", &c->bind.sin_addr)) return false;
  double tap;
  if (!js_num(env, options, "", "tapFd", -1, 0, INT32_MAX, true, &tap)) return false;
  c->tap_fd = (int)tap;
  return capture_config(env, options, &c->capture) && playback_config(env, options, c) &&
         echo_config(env, options, c);
}
