/*
 * The speexdsp processing of babel-dsp, in plain C (no Node-API), so that both addons run
 * the same code: babel-dsp's Processor (dsp_addon.c) and babel-media's echo control
 * (native/media/src/echo.c, which compiles this file in).
 *
 * One format only: 48 kHz, mono, signed 16-bit PCM in native order, frames of 480 or 960
 * samples, processed at 16 kHz (speexdsp's resampler down and back up): an optional echo
 * canceller (speex_echo_*), then the preprocessor (speex_preprocess_*: noise suppression,
 * residual echo suppression, automatic gain).
 *
 * Every function takes a valid state; nothing allocates after dsp_core_new, and nothing
 * aborts the process. Not thread-safe: one thread uses a state at a time.
 */
#ifndef BABEL_DSP_CORE_H
#define BABEL_DSP_CORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DSP_CORE_SAMPLE_RATE 48000
#define DSP_CORE_MAX_FRAME 960
#define DSP_CORE_MAX_TAIL_MS 1000

typedef struct dsp_core dsp_core;

/*
 * A processing chain for frames of `frame_samples` (480 or 960). `tail_ms` 0: no echo
 * canceller (noise suppression and gain only); otherwise the echo path the adaptive filter
 * models, 20..1000 ms. Starts with noise suppression on (-15 dB) and automatic gain off.
 * NULL, with a message in `err` (when given), on a bad argument or out of memory.
 */
dsp_core *dsp_core_new(int frame_samples, int tail_ms, char *err, size_t err_len);
void dsp_core_free(dsp_core *d);

/* Samples per frame, as created. */
int dsp_core_frame(const dsp_core *d);

/*
 * One microphone frame and the far-end frame that reached the speaker while it was
 * recorded (NULL: silence), each `frame_samples` long; the processed frame into `out`
 * (which may be `mic` or `far`).
 */
void dsp_core_process(dsp_core *d, const int16_t *mic, const int16_t *far, int16_t *out);

/* Forgets the learned echo path (the reference moved); everything else continues. */
void dsp_core_reset(dsp_core *d);

/* Noise suppression on or off. */
bool dsp_core_denoise(const dsp_core *d);
void dsp_core_set_denoise(dsp_core *d, bool on);
/* Automatic gain on or off. */
bool dsp_core_agc(const dsp_core *d);
void dsp_core_set_agc(dsp_core *d, bool on);
/* Most noise attenuation while denoising, dB (-100..0; not checked here). */
int dsp_core_noise_suppress_db(const dsp_core *d);
void dsp_core_set_noise_suppress_db(dsp_core *d, int db);
/* Most residual echo attenuation, dB (-100..0). */
int dsp_core_echo_suppress_db(const dsp_core *d);
void dsp_core_set_echo_suppress_db(dsp_core *d, int db);
/* Most residual echo attenuation while the near end speaks, dB (-100..0). */
int dsp_core_echo_suppress_active_db(const dsp_core *d);
void dsp_core_set_echo_suppress_active_db(dsp_core *d, int db);
/* The AGC's target level (1..32768). */
float dsp_core_agc_level(const dsp_core *d);
void dsp_core_set_agc_level(dsp_core *d, float level);

#endif
