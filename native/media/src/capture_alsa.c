/* The ALSA microphone (capture.h): native/alsa's hw params with one frame per period
 * (native/common/alsa_util.c), non-blocking and polled by the engine thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "alsa_util.h"
#include "capture_impl.h"

/* ALSA periods in the buffer (capture-alsa.ts). */
#define ALSA_PERIODS 4

void capture_quiet_alsa(void) { alsa_util_quiet(); }

void capture_alsa_close(capture *c) {
  if (c->pcm) snd_pcm_close(c->pcm);
  c->pcm = NULL;
}

int capture_alsa_poll_fds(capture *c, struct pollfd *fds, int max) {
  int n = snd_pcm_poll_descriptors(c->pcm, fds, (unsigned)max);
  return n < 0 ? 0 : n;
}

bool capture_alsa_open(capture *c, char *err, size_t err_len) {
  const char *step = "snd_pcm_open";
  alsa_util_forget();
  /* Non-blocking: a busy hw device is EBUSY at once instead of a wait. */
  int rc = snd_pcm_open(&c->pcm, c->spec.name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
  if (rc < 0) {
    c->pcm = NULL;
    goto out;
  }
  unsigned rate = SAMPLE_RATE;
  snd_pcm_uframes_t period = (snd_pcm_uframes_t)c->frame_samples;
  snd_pcm_uframes_t buffer = period * ALSA_PERIODS;
  rc = alsa_util_hw_params(c->pcm, &rate, &period, &buffer, &step);
  if (rc < 0) goto out;
  if (rate != SAMPLE_RATE) {
    step = "snd_pcm_hw_params_get_rate (not 48000 Hz)";
    rc = -EINVAL;
    goto out;
  }
  rc = alsa_util_capture_sw_params(c->pcm, period, &step);
  if (rc < 0) goto out;
  step = "snd_pcm_start";
  rc = snd_pcm_start(c->pcm);
out:
  if (rc < 0) {
    alsa_util_message(err, err_len, c->spec.name, step, rc);
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

