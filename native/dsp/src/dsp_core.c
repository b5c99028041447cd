/*
 * The speexdsp processing chain shared by babel-dsp and babel-media (dsp_core.h): resample
 * 48 kHz -> 16 kHz, echo cancellation, preprocessing, resample back up.
 */
#include "dsp_core.h"

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rate the echo canceller and preprocessor run at (wideband speech, 0-8 kHz): a third
 * of the work of 48 kHz for the same echo tail, and the band speech intelligibility lives
 * in. Resampled with speexdsp's own resampler, the same on the mic and the far end. */
#define DSP_RATE 16000
#define DSP_DIV (DSP_CORE_SAMPLE_RATE / DSP_RATE)
#define RESAMPLER_QUALITY 3

struct dsp_core {
  SpeexEchoState *echo; /* NULL without an echo canceller */
  SpeexPreprocessState *pre;
  SpeexResamplerState *mic_down;
  SpeexResamplerState *far_down;
  SpeexResamplerState *up;
  int frame;     /* samples at 48 kHz */
  int dsp_frame; /* samples at DSP_RATE */
  bool denoise;
  bool agc;
  int noise_db; /* the noise suppression asked for, applied while `denoise` */
};

static void set_err(char *err, size_t len, const char *msg) {
  if (err != NULL && len > 0) snprintf(err, len, "%s", msg);
}

void dsp_core_free(dsp_core *d) {
  if (d == NULL) return;
  if (d->pre) speex_preprocess_state_destroy(d->pre);
  if (d->mic_down) speex_resampler_destroy(d->mic_down);
  if (d->far_down) speex_resampler_destroy(d->far_down);
  if (d->up) speex_resampler_destroy(d->up);
  if (d->echo) speex_echo_state_destroy(d->echo);
  free(d);
}

/*
 * Applies the switches to the preprocessor; the echo state is given once at creation.
 * speexdsp suppresses residual echo only inside its denoiser, so with an echo canceller
 * the denoiser always runs, and "no noise suppression" is a noise floor of 0 dB (steady
 * sounds, a test tone among them, pass unchanged).
 */
static void configure(dsp_core *d) {
  int denoise = d->denoise || d->echo != NULL ? 1 : 0;
  spx_int32_t noise_db = d->denoise ? d->noise_db : 0;
  int agc = d->agc ? 1 : 0;
  speex_preprocess_ctl(d->pre, SPEEX_PREPROCESS_SET_DENOISE, &denoise);
  speex_preprocess_ctl(d->pre, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &noise_db);
  speex_preprocess_ctl(d->pre, SPEEX_PREPROCESS_SET_AGC, &agc);
}

dsp_core *dsp_core_new(int frame_samples, int tail_ms, char *err, size_t err_len) {
  if (frame_samples != 480 && frame_samples != 960) {
    set_err(err, err_len, "dsp: frameSamples must be 480 or 960 (10 or 20 ms at 48 kHz)");
    return NULL;
  }
  if (tail_ms != 0 && (tail_ms < 20 || tail_ms > DSP_CORE_MAX_TAIL_MS)) {
    set_err(err, err_len, "dsp: tailMs must be 0 or 20..1000");
    return NULL;
  }
  dsp_core *d = calloc(1, sizeof *d);
  if (d == NULL) {
    set_err(err, err_len, "dsp: out of memory");
    return NULL;
  }
  d->frame = frame_samples;
  d->dsp_frame = frame_samples / DSP_DIV;
  d->denoise = true;
  d->agc = false;
  d->noise_db = -15; /* speexdsp's default */
  if (tail_ms > 0) {
    d->echo = speex_echo_state_init(d->dsp_frame, DSP_RATE / 1000 * tail_ms);
    int rate = DSP_RATE;
    if (d->echo) speex_echo_ctl(d->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
  }
  d->pre = speex_preprocess_state_init(d->dsp_frame, DSP_RATE);
  int rerr = 0;
  d->mic_down = speex_resampler_init(1, DSP_CORE_SAMPLE_RATE, DSP_RATE, RESAMPLER_QUALITY, &rerr);
  d->far_down = speex_resampler_init(1, DSP_CORE_SAMPLE_RATE, DSP_RATE, RESAMPLER_QUALITY, &rerr);
  d->up = speex_resampler_init(1, DSP_RATE, DSP_CORE_SAMPLE_RATE, RESAMPLER_QUALITY, &rerr);
  if (d->pre == NULL || (tail_ms > 0 && d->echo == NULL) || !d->mic_down || !d->far_down ||
      !d->up) {
    dsp_core_free(d);
    set_err(err, err_len, "dsp: speexdsp could not create its state");
    return NULL;
  }
  if (d->echo) speex_preprocess_ctl(d->pre, SPEEX_PREPROCESS_SET_ECHO_STATE, d->echo);
  configure(d);
  return d;
}

int dsp_core_frame(const dsp_core *d) { return d->frame; }

/*
 * Exactly `out_len` samples from exactly `in_len`: a fixed-ratio resampler (3:1 or 1:3)
 * fed whole frames takes and gives whole frames once its zeros are skipped; any shortfall
 * (none expected) is padded with the last sample so the frame keeps its length.
 */
static void resample(SpeexResamplerState *r, const spx_int16_t *in, spx_uint32_t in_len,
                     spx_int16_t *out, spx_uint32_t out_len) {
  spx_uint32_t got_in = in_len;
  spx_uint32_t got_out = out_len;
  speex_resampler_process_int(r, 0, in, &got_in, out, &got_out);
  for (spx_uint32_t i = got_out; i < out_len; i++) out[i] = i > 0 ? out[i - 1] : 0;
}

void dsp_core_process(dsp_core *d, const int16_t *mic, const int16_t *far, int16_t *out) {
  /* Without the canceller and with both switches off there is nothing to do. */
  if (!d->echo && !d->denoise && !d->agc) {
    if (out != mic) memmove(out, mic, (size_t)d->frame * sizeof *out);
    return;
  }
  spx_int16_t mic16[DSP_CORE_MAX_FRAME / DSP_DIV];
  spx_int16_t far16[DSP_CORE_MAX_FRAME / DSP_DIV];
  spx_int16_t out16[DSP_CORE_MAX_FRAME / DSP_DIV];
  spx_uint32_t n = (spx_uint32_t)d->frame;
  spx_uint32_t n16 = (spx_uint32_t)d->dsp_frame;
  resample(d->mic_down, mic, n, mic16, n16);
  if (d->echo) {
    if (far != NULL) {
      resample(d->far_down, far, n, far16, n16);
    } else {
      /* Silence through the resampler, as a frame of zeros from the caller would go. */
      spx_int16_t zeros[DSP_CORE_MAX_FRAME];
      memset(zeros, 0, n * sizeof zeros[0]);
      resample(d->far_down, zeros, n, far16, n16);
    }
    speex_echo_cancellation(d->echo, mic16, far16, out16);
  } else {
    memcpy(out16, mic16, n16 * sizeof out16[0]);
  }
  speex_preprocess_run(d->pre, out16);
  resample(d->up, out16, n16, out, n);
}

void dsp_core_reset(dsp_core *d) {
  /* The preprocessor and the resamplers keep their state: their history is still the
   * signal's, and starting them again would put a step into the output. */
  if (d->echo) speex_echo_state_reset(d->echo);
}

bool dsp_core_denoise(const dsp_core *d) { return d->denoise; }

void dsp_core_set_denoise(dsp_core *d, bool on) {
  d->denoise = on;
  configure(d);
}

bool dsp_core_agc(const dsp_core *d) { return d->agc; }

void dsp_core_set_agc(dsp_core *d, bool on) {
  d->agc = on;
  configure(d);
}

int dsp_core_noise_suppress_db(const dsp_core *d) { return d->noise_db; }

void dsp_core_set_noise_suppress_db(dsp_core *d, int db) {
  d->noise_db = db;
  configure(d);
}

static int get_level(const dsp_core *d, int request) {
  spx_int32_t v = 0;
  speex_preprocess_ctl(d->pre, request, &v);
  return (int)v;
}

static void set_level(dsp_core *d, int request, int db) {
  spx_int32_t v = db;
  speex_preprocess_ctl(d->pre, request, &v);
}

int dsp_core_echo_suppress_db(const dsp_core *d) {
  return get_level(d, SPEEX_PREPROCESS_GET_ECHO_SUPPRESS);
}

void dsp_core_set_echo_suppress_db(dsp_core *d, int db) {
  set_level(d, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, db);
}

int dsp_core_echo_suppress_active_db(const dsp_core *d) {
  return get_level(d, SPEEX_PREPROCESS_GET_ECHO_SUPPRESS_ACTIVE);
}

void dsp_core_set_echo_suppress_active_db(dsp_core *d, int db) {
  set_level(d, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, db);
}

float dsp_core_agc_level(const dsp_core *d) {
  float level = 0;
  speex_preprocess_ctl(d->pre, SPEEX_PREPROCESS_GET_AGC_LEVEL, &level);
  return level;
}

void dsp_core_set_agc_level(dsp_core *d, float level) {
  speex_preprocess_ctl(d->pre, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
}
