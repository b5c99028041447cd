/*
 * What both users of libasound's capture repeat (babel-alsa's Capture thread and
 * babel-media's ALSA microphone): the error handler that keeps alsa-lib's diagnostics out
 * of stderr, the message an ALSA failure is reported with, and the hw/sw params of 48 kHz
 * mono s16le capture. Compiled into each addon (binding.gyp sources ../common/alsa_util.c).
 */
#ifndef BABEL_ALSA_UTIL_H
#define BABEL_ALSA_UTIL_H
#include <alsa/asoundlib.h>
#include <stddef.h>

/*
 * alsa-lib prints its own diagnostics ("Unknown PCM nope") to stderr by default. Once this
 * is called (at module init), each thread keeps its last one instead, and
 * alsa_util_message appends it to the error it words.
 */
void alsa_util_quiet(void);

/* Forgets the thread's last diagnostic (before a call whose failure it must not explain). */
void alsa_util_forget(void);

/* "<pcm>: <step>: <ALSA's text for err> (<the last diagnostic>)" into out; without
 * "<pcm>: " when pcm is NULL, without the parenthesis when there was no diagnostic. */
void alsa_util_message(char *out, size_t len, const char *pcm, const char *step, int err);

/*
 * The hw params of capture or playback: interleaved, S16_LE, 1 channel, *rate asked for
 * with dir 0, periods near *period frames in a buffer near *buffer (at least two
 * periods). On success (0) *rate, *period and *buffer are what ALSA chose; on failure the
 * negative ALSA code, with *step naming the call that failed.
 */
int alsa_util_hw_params(snd_pcm_t *pcm, unsigned *rate, snd_pcm_uframes_t *period,
                        snd_pcm_uframes_t *buffer, const char **step);

/* The sw params of a capture read a period at a time (avail_min one period, started by the
 * first read), then non-blocking mode. 0, or as alsa_util_hw_params. */
int alsa_util_capture_sw_params(snd_pcm_t *pcm, snd_pcm_uframes_t period, const char **step);

#endif
