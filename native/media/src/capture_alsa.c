/* The ALSA microphone (capture.h): native/alsa's hw params with one frame per period,
 * non-blocking and polled by the engine thread. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "capture_impl.h"

/* ALSA periods in the buffer (capture-alsa.ts). */
#define ALSA_PERIODS 4

static _Thread_local char last_alsa_message[160];

static void alsa_error_handler(const char *file, int line, const char *function, int err,
                               const char *fmt, ...) {
  (void)file;
  (void)line;
  (void)function;
  (void)err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_alsa_message, sizeof last_alsa_message, fmt, ap);
  va_end(ap);
}

void capture_quiet_alsa(void) { snd_lib_error_set_handler(alsa_error_handler); }

void capture_alsa_close(capture *c) {
  if (c->pcm) snd_pcm_close(c->pcm);
  c->pcm = NULL;
}

int capture_alsa_poll_fds(capture *c, struct pollfd *fds, int max) {
  int n = snd_pcm_poll_descriptors(c->pcm, fds, (unsigned)max);
  return n < 0 ? 0 : n;
}

/* ---- alsa: native/alsa's set_params with one frame per period ------------------------ */

#define HW(call, name) \
  do {                 \
    rc = (call);       \
    if (rc < 0) {      \
      step = (name);   \
      goto out;        \
    }                  \
  } while (0)

bool capture_alsa_open(capture *c, char *err, size_t err_len) {
  snd_pcm_hw_params_t *hw = NULL;
  snd_pcm_sw_params_t *sw = NULL;
  const char *step = "snd_pcm_open";
  last_alsa_message[0] = 0;
  /* Non-blocking: a busy hw device is EBUSY at once instead of a wait. */
  int rc = snd_pcm_open(&c->pcm, c->spec.name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
  if (rc < 0) {
    c->pcm = NULL;
    goto out;
  }
  unsigned rate = SAMPLE_RATE;
  snd_pcm_uframes_t period = (snd_pcm_uframes_t)c->frame_samples;
  snd_pcm_uframes_t buffer = period * ALSA_PERIODS;
  int dir = 0;
  HW(snd_pcm_hw_params_malloc(&hw), "snd_pcm_hw_params_malloc");
  HW(snd_pcm_hw_params_any(c->pcm, hw), "snd_pcm_hw_params_any");
  HW(snd_pcm_hw_params_set_access(c->pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED),
     "snd_pcm_hw_params_set_access RW_INTERLEAVED");
  HW(snd_pcm_hw_params_set_format(c->pcm, hw, SND_PCM_FORMAT_S16_LE),
     "snd_pcm_hw_params_set_format S16_LE");
  HW(snd_pcm_hw_params_set_channels(c->pcm, hw, 1), "snd_pcm_hw_params_set_channels 1");
  HW(snd_pcm_hw_params_set_rate_near(c->pcm, hw, &rate, &dir), "snd_pcm_hw_params_set_rate_near");
  dir = 0;
  HW(snd_pcm_hw_params_set_period_size_near(c->pcm, hw, &period, &dir),
     "snd_pcm_hw_params_set_period_size_near");
  if (buffer < period * 2) buffer = period * 2;
  HW(snd_pcm_hw_params_set_buffer_size_near(c->pcm, hw, &buffer),
     "snd_pcm_hw_params_set_buffer_size_near");
  HW(snd_pcm_hw_params(c->pcm, hw), "snd_pcm_hw_params");
  dir = 0;
  HW(snd_pcm_hw_params_get_rate(hw, &rate, &dir), "snd_pcm_hw_params_get_rate");
  if (rate != SAMPLE_RATE) {
    step = "snd_pcm_hw_params_get_rate (not 48000 Hz)";
    rc = -EINVAL;
    goto out;
  }
  HW(snd_pcm_sw_params_malloc(&sw), "snd_pcm_sw_params_malloc");
  HW(snd_pcm_sw_params_current(c->pcm, sw), "snd_pcm_sw_params_current");
  HW(snd_pcm_sw_params_set_avail_min(c->pcm, sw, period), "snd_pcm_sw_params_set_avail_min");
  HW(snd_pcm_sw_params_set_start_threshold(c->pcm, sw, 1),
     "snd_pcm_sw_params_set_start_threshold");
  HW(snd_pcm_sw_params(c->pcm, sw), "snd_pcm_sw_params");
  HW(snd_pcm_nonblock(c->pcm, 1), "snd_pcm_nonblock");
  HW(snd_pcm_start(c->pcm), "snd_pcm_start");
  rc = 0;
out:
  snd_pcm_sw_params_free(sw);
  snd_pcm_hw_params_free(hw);
  if (rc < 0) {
    if (last_alsa_message[0]) {
      snprintf(err, err_len, "%s: %s: %s (%s)", c->spec.name, step, snd_strerror(rc),
               last_alsa_message);
    } else {
      snprintf(err, err_len, "%s: %s: %s", c->spec.name, step, snd_strerror(rc));
    }
    if (c->pcm) snd_pcm_close(c->pcm);
    c->pcm = NULL;
    return false;
  }
  c->have = 0;
  return true;
}

capture_result capture_alsa_frame(capture *c, int16_t *pcm, char *err, size_t err_len) {
  size_t want = (size_t)c->frame_samples;
  for (;;) {
    snd_pcm_sframes_t n = snd_pcm_readi(c->pcm, c->period + c->have, want - c->have);
    if (n > 0) {
      c->have += (size_t)n;
      if (c->have < want) continue;
      memcpy(pcm, c->period, want * 2);
      c->have = 0;
      return CAPTURE_FRAME;
    }
    if (n == 0 || n == -EAGAIN) return CAPTURE_NONE;
    if (n == -EINTR) continue;
    int rc = (int)n;
    if (n == -EPIPE) { /* an overrun: re-prepared, as native/alsa does */
      c->have = 0;
      rc = snd_pcm_prepare(c->pcm);
      if (rc >= 0) rc = snd_pcm_start(c->pcm);
      if (rc >= 0) continue;
    } else if (n == -ESTRPIPE) { /* suspended: resumed, or prepared again */
      c->have = 0;
      rc = snd_pcm_resume(c->pcm);
      if (rc == -EAGAIN) return CAPTURE_NONE;
      if (rc < 0) rc = snd_pcm_prepare(c->pcm);
      if (rc >= 0) continue;
    }
    /* ENODEV (unplugged), EIO, EBADFD...: the device is gone for this handle. */
    snprintf(err, err_len, "%s: snd_pcm_readi: %s", c->spec.name, snd_strerror(rc));
    return CAPTURE_ERROR;
  }
}

