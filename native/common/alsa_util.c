/* See alsa_util.h. */
#include "alsa_util.h"

#include <stdarg.h>
#include <stdio.h>

/* The only state: alsa-lib's error handler takes no context, so its text goes here, one
 * per thread (each PCM is used by one thread). */
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

void alsa_util_quiet(void) { snd_lib_error_set_handler(alsa_error_handler); }

void alsa_util_forget(void) { last_alsa_message[0] = 0; }

void alsa_util_message(char *out, size_t len, const char *pcm, const char *step, int err) {
  const char *sep = pcm ? ": " : "";
  if (!pcm) pcm = "";
  if (last_alsa_message[0]) {
    snprintf(out, len, "%s%s%s: %s (%s)", pcm, sep, step, snd_strerror(err), last_alsa_message);
  } else {
    snprintf(out, len, "%s%s%s: %s", pcm, sep, step, snd_strerror(err));
  }
}

/* Every call checked; on failure *step names it and its code is returned. */
#define TRY(call, name)   \
  do {                    \
    err = (call);         \
    if (err < 0) {        \
      *step = (name);     \
      goto out;           \
    }                     \
  } while (0)

int alsa_util_hw_params(snd_pcm_t *pcm, unsigned *rate, snd_pcm_uframes_t *period,
                        snd_pcm_uframes_t *buffer, const char **step) {
  snd_pcm_hw_params_t *hw = NULL;
  int dir = 0;
  int err;
  TRY(snd_pcm_hw_params_malloc(&hw), "snd_pcm_hw_params_malloc");
  TRY(snd_pcm_hw_params_any(pcm, hw), "snd_pcm_hw_params_any");
  TRY(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED),
      "snd_pcm_hw_params_set_access RW_INTERLEAVED");
  TRY(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE),
      "snd_pcm_hw_params_set_format S16_LE");
  TRY(snd_pcm_hw_params_set_channels(pcm, hw, 1), "snd_pcm_hw_params_set_channels 1");
  dir = 0;
  TRY(snd_pcm_hw_params_set_rate_near(pcm, hw, rate, &dir), "snd_pcm_hw_params_set_rate_near");
  dir = 0;
  TRY(snd_pcm_hw_params_set_period_size_near(pcm, hw, period, &dir),
      "snd_pcm_hw_params_set_period_size_near");
  if (*buffer < *period * 2) *buffer = *period * 2;
  TRY(snd_pcm_hw_params_set_buffer_size_near(pcm, hw, buffer),
      "snd_pcm_hw_params_set_buffer_size_near");
  TRY(snd_pcm_hw_params(pcm, hw), "snd_pcm_hw_params");
  /* What ALSA actually chose. */
  dir = 0;
  TRY(snd_pcm_hw_params_get_rate(hw, rate, &dir), "snd_pcm_hw_params_get_rate");
  dir = 0;
  TRY(snd_pcm_hw_params_get_period_size(hw, period, &dir), "snd_pcm_hw_params_get_period_size");
  TRY(snd_pcm_hw_params_get_buffer_size(hw, buffer), "snd_pcm_hw_params_get_buffer_size");
  err = 0;
out:
  snd_pcm_hw_params_free(hw);
  return err;
}

int alsa_util_capture_sw_params(snd_pcm_t *pcm, snd_pcm_uframes_t period, const char **step) {
  snd_pcm_sw_params_t *sw = NULL;
  int err;
  TRY(snd_pcm_sw_params_malloc(&sw), "snd_pcm_sw_params_malloc");
  TRY(snd_pcm_sw_params_current(pcm, sw), "snd_pcm_sw_params_current");
  TRY(snd_pcm_sw_params_set_avail_min(pcm, sw, period), "snd_pcm_sw_params_set_avail_min");
  TRY(snd_pcm_sw_params_set_start_threshold(pcm, sw, 1), "snd_pcm_sw_params_set_start_threshold");
  TRY(snd_pcm_sw_params(pcm, sw), "snd_pcm_sw_params");
  TRY(snd_pcm_nonblock(pcm, 1), "snd_pcm_nonblock");
  err = 0;
out:
  snd_pcm_sw_params_free(sw);
  return err;
}
