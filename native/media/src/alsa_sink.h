/*
 * The speaker on the engine thread: libasound playback of one PCM, 48 kHz mono s16le, in
 * frames, non-blocking. It plays what aplay played for the JavaScript loop
 * (device/audio/playback-aplay.ts), with the same ALSA buffer: playback starts once the
 * buffer is full, so the echo path's delay (docs/audio.md) is the one echo control expects.
 * A frame that finds the buffer full is dropped and counted: a sender running fast cannot
 * build up delay. Not thread-safe: one thread opens, writes and closes.
 */
#ifndef BABEL_ALSA_SINK_H
#define BABEL_ALSA_SINK_H
#include <stddef.h>
#include <stdint.h>

typedef struct alsa_sink alsa_sink;

typedef struct {
  double frames, dropped, underruns;
} alsa_sink_stats;

/* Opens `pcm` for playback with a buffer of `buffer_ms` (periods of one frame). NULL with
 * the failing call and ALSA's message in `err`. */
alsa_sink *alsa_sink_open(const char *pcm, unsigned frame_samples, unsigned buffer_ms, char *err,
                          size_t err_len);

/* One frame (frame_samples samples). 0: queued; 1: dropped (the buffer is full); <0: the
 * device is lost (a negative ALSA code, message in err): close it and open it again later. */
int alsa_sink_write(alsa_sink *s, const int16_t *frame, char *err, size_t err_len);

void alsa_sink_stats_get(const alsa_sink *s, alsa_sink_stats *out);

/* Drops what is queued and closes the PCM. NULL is harmless. */
void alsa_sink_close(alsa_sink *s);

#endif
