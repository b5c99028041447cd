/*
 * The device's echo control in C (a port of device/media/echo/control.ts, with delay.ts,
 * reference.ts, duck.ts and gain.ts): every frame handed to the speaker goes through
 * echo_playback() (speaker volume, then recorded as the far-end reference or fed to the
 * ducker) and every captured frame through echo_capture() (microphone gain, then echo
 * control, noise suppression and automatic gain, with speexdsp through
 * native/dsp/src/dsp_core.c, the same code babel-dsp runs).
 *
 *   ECHO_AEC   speexdsp's echo canceller with the reference aligned: the frame that played
 *              `bulk` ms before the microphone frame; `bulk` starts from the playback
 *              path's delay less a 20 ms margin and is then measured from the call's own
 *              audio. Its output is used once an echo has been heard (echo_cancelling).
 *   ECHO_DUCK  the microphone attenuated by 24 dB while the far end speaks (above -45 dBFS,
 *              held 300 ms).
 *   ECHO_OFF   neither.
 * Noise suppression and automatic gain run in every mode when asked for. Unlike the
 * TypeScript there is no 'aec' -> 'duck' fallback: this file is only built with speexdsp.
 *
 * Time is passed in: `now_ms` on one monotonic clock, the same for both directions (a
 * captured frame is complete at `now_ms`). Frames are `frame_samples` of 48 kHz mono s16
 * in native order. Every output equals what EchoControl gives for the same inputs and
 * times (test/native/media/echo.test.ts checks it frame by frame).
 *
 * One echo_control is used by one thread at a time; instances share nothing. Nothing
 * allocates after echo_new.
 */
#ifndef BABEL_ECHO_H
#define BABEL_ECHO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { ECHO_AEC = 0, ECHO_DUCK = 1, ECHO_OFF = 2 } echo_mode;

/* What control.ts logs, for the engine to pass on to JS as events. */
typedef enum {
  /* 'echo heard: cancelling' (info): the first believed delay measurement; the value is
   * the echo's measured delay, ms. From then on echo_cancelling() is true. */
  ECHO_EVENT_HEARD = 1,
  /* 'echo delay measured' (debug): the reference moved; the value is the echo's measured
   * delay, ms (echo_delay_ms() gives the reference's new delay, 20 ms less). Comes before
   * ECHO_EVENT_HEARD when both are due on one frame, as the TypeScript logs them. */
  ECHO_EVENT_DELAY_MEASURED = 2,
} echo_event;

/* Called synchronously from inside echo_capture(), on its thread; it must not call back
 * into the same echo_control. */
typedef void (*echo_event_fn)(void *user, echo_event event, double value);

typedef struct {
  echo_mode mode;
  /* 480 or 960 (10 or 20 ms). */
  int frame_samples;
  /* Microphone gain, dB (finite). */
  double mic_gain_db;
  /* Speaker volume 0..100 (clamped, as given: not rounded here, as in the TypeScript). */
  double speaker_volume;
  bool noise_suppression;
  bool auto_gain;
  /* The playback path's delay as configured (aplay's buffer), ms, finite: the first bulk. */
  double playback_delay_ms;
  /* Optional (NULL: no events). */
  echo_event_fn on_event;
  void *event_user;
} echo_options;

typedef struct echo_control echo_control;

/* NULL, with a message in `err` (when given), on a bad option or out of memory. */
echo_control *echo_new(const echo_options *o, char *err, size_t err_len);
/* NULL is fine. */
void echo_free(echo_control *e);

/* One frame for the speaker at `now_ms`: scaled by the volume into `out` (which may be
 * `in`), and recorded as the reference (aec) or fed to the ducker (duck). */
void echo_playback(echo_control *e, const int16_t *in, int16_t *out, double now_ms);
/* One captured frame, complete at `now_ms`: gain and echo control applied into `out`
 * (which may be `in`). */
void echo_capture(echo_control *e, const int16_t *in, int16_t *out, double now_ms);

/* Speaker volume 0..100, rounded and clamped as setSpeakerVolume does, from the next frame
 * on (NaN gives 0: silence, as the TypeScript's NaN volume writes zeros). */
void echo_set_speaker_volume(echo_control *e, double volume);
/* Microphone gain, dB, from the next frame on. */
void echo_set_mic_gain_db(echo_control *e, double db);

echo_mode echo_get_mode(const echo_control *e);
/* The reference's delay behind the speaker in use, ms (aec). */
double echo_delay_ms(const echo_control *e);
/* Whether an echo has been heard and is being cancelled (aec). */
bool echo_cancelling(const echo_control *e);
/* The speaker volume in force (0..100). */
double echo_speaker_volume(const echo_control *e);

#endif
