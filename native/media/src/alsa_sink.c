/* The engine's speaker over libasound; see alsa_sink.h. */
#include "alsa_sink.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define SAMPLE_RATE 48000

struct alsa_sink {
  snd_pcm_t *pcm;
  snd_pcm_uframes_t frame;
  alsa_sink_stats stats;
};

static void say(char *err, size_t len, const char *step, int code) {
  if (err && len) snprintf(err, len, "%s: %s", step, snd_strerror(code));
}

#define TRY(call, name)       \
  do {                        \
    err = (call);             \
    if (err < 0) {            \
      step = (name);          \
      goto fail;              \
    }                         \
  } while (0)

alsa_sink *alsa_sink_open(const char *pcm_name, unsigned frame_samples, unsigned buffer_ms,
                          char *msg, size_t msg_len) {
  alsa_sink *s = calloc(1, sizeof *s);
  snd_pcm_hw_params_t *hw = NULL;
  snd_pcm_sw_params_t *sw = NULL;
  const char *step = "calloc";
  int err = -ENOMEM;
  if (!s) goto fail;
  s->frame = frame_samples;
  TRY(snd_pcm_open(&s->pcm, pcm_name, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK), "snd_pcm_open");
  TRY(snd_pcm_hw_params_malloc(&hw), "snd_pcm_hw_params_malloc");
  TRY(snd_pcm_hw_params_any(s->pcm, hw), "snd_pcm_hw_params_any");
  TRY(snd_pcm_hw_params_set_access(s->pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED),
      "snd_pcm_hw_params_set_access RW_INTERLEAVED");
  TRY(snd_pcm_hw_params_set_format(s->pcm, hw, SND_PCM_FORMAT_S16_LE),
      "snd_pcm_hw_params_set_format S16_LE");
  TRY(snd_pcm_hw_params_set_channels(s->pcm, hw, 1), "snd_pcm_hw_params_set_channels 1");
  /* The exact rate (a `plug` PCM converts); a hw: PCM that cannot is refused here. */
  TRY(snd_pcm_hw_params_set_rate(s->pcm, hw, SAMPLE_RATE, 0), "snd_pcm_hw_params_set_rate 48000");
  snd_pcm_uframes_t period = frame_samples;
  int dir = 0;
  TRY(snd_pcm_hw_params_set_period_size_near(s->pcm, hw, &period, &dir),
      "snd_pcm_hw_params_set_period_size_near");
  snd_pcm_uframes_t buffer = (snd_pcm_uframes_t)SAMPLE_RATE * buffer_ms / 1000;
  if (buffer < 2 * period) buffer = 2 * period;
  TRY(snd_pcm_hw_params_set_buffer_size_near(s->pcm, hw, &buffer),
      "snd_pcm_hw_params_set_buffer_size_near");
  TRY(snd_pcm_hw_params(s->pcm, hw), "snd_pcm_hw_params");
  TRY(snd_pcm_hw_params_get_buffer_size(hw, &buffer), "snd_pcm_hw_params_get_buffer_size");
  TRY(snd_pcm_sw_params_malloc(&sw), "snd_pcm_sw_params_malloc");
  TRY(snd_pcm_sw_params_current(s->pcm, sw), "snd_pcm_sw_params_current");
  /* Like aplay: start once the buffer is full (the echo path's delay). */
  TRY(snd_pcm_sw_params_set_start_threshold(s->pcm, sw, buffer),
      "snd_pcm_sw_params_set_start_threshold");
  TRY(snd_pcm_sw_params(s->pcm, sw), "snd_pcm_sw_params");
  snd_pcm_sw_params_free(sw);
  snd_pcm_hw_params_free(hw);
  return s;
fail:
  say(msg, msg_len, step, err);
  if (sw) snd_pcm_sw_params_free(sw);
  if (hw) snd_pcm_hw_params_free(hw);
  if (s && s->pcm) snd_pcm_close(s->pcm);
  free(s);
  return NULL;
}

int alsa_sink_write(alsa_sink *s, const int16_t *frame, char *msg, size_t msg_len) {
  snd_pcm_uframes_t done = 0;
  /* Two rounds at most: a write after recovering from an underrun or a suspend. */
  for (int round = 0; round < 2 && done < s->frame; round++) {
    snd_pcm_sframes_t n = snd_pcm_writei(s->pcm, frame + done, s->frame - done);
    if (n >= 0) {
      done += (snd_pcm_uframes_t)n;
      continue;
    }
    if (n == -EAGAIN) break;
    if (n == -EPIPE) s->stats.underruns++;
    int err = snd_pcm_recover(s->pcm, (int)n, 1);
    if (err < 0) {
      say(msg, msg_len, "snd_pcm_writei", err);
      return err;
    }
  }
  if (done == 0) {
    s->stats.dropped++;
    return 1;
  }
  s->stats.frames++;
  return 0;
}

void alsa_sink_stats_get(const alsa_sink *s, alsa_sink_stats *out) { *out = s->stats; }

void alsa_sink_close(alsa_sink *s) {
  if (!s) return;
  snd_pcm_drop(s->pcm);
  snd_pcm_close(s->pcm);
  free(s);
}
