/*
 * The engine's microphones: ports of the capture backends the engine replaces, each giving
 * one frame of 48 kHz mono s16 PCM at a time.
 *
 *   tone     device/audio/capture-tone.ts: a sine at -12 dBFS (amplitude 8192), continuous
 *            in phase from frame to frame, the same samples as generateTone().
 *   file     device/audio/capture-file.ts + wav.ts: a 48 kHz 16-bit mono or stereo
 *            (averaged, rounding down) WAV, read as it plays (50 frames at a time), looping
 *            seamlessly; the same errors, prefixed with the path.
 *   silence  device/audio/capture-silence.ts: zeros.
 *   alsa     device/audio/capture-alsa.ts + native/alsa: libasound capture of a PCM name,
 *            48 kHz mono S16_LE, period one frame, four periods, non-blocking and polled;
 *            an overrun is re-prepared, a suspend resumed, any other error loses the device.
 *
 * tone/file/silence are paced by an absolute CLOCK_MONOTONIC deadline one frame apart
 * (drift-free): frame n is due n + 1 frames after the open, as PacedCapture; more than 10
 * frames behind skips ahead. Only the engine thread touches a capture. Everything is
 * allocated in capture_new(); open/read allocate nothing (ALSA's own open aside).
 */
#ifndef BABEL_CAPTURE_H
#define BABEL_CAPTURE_H
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { CAPTURE_TONE, CAPTURE_FILE, CAPTURE_SILENCE, CAPTURE_ALSA } capture_kind;

#define CAPTURE_NAME_MAX 4096
#define CAPTURE_MAX_POLL_FDS 16

typedef struct {
  capture_kind kind;
  double hz;                    /* tone */
  char name[CAPTURE_NAME_MAX];  /* file: the path; alsa: the PCM name */
} capture_spec;

typedef struct capture capture;

/* NULL if no memory. */
capture *capture_new(const capture_spec *spec, int frame_samples);
void capture_free(capture *c);

/* Opens the device (now: the pacing's origin); false with the reason in err. */
bool capture_open(capture *c, double now, char *err, size_t err_len);
void capture_close(capture *c);
bool capture_is_open(const capture *c);

/* The absolute time the next paced frame is due (INFINITY for alsa or when closed). */
double capture_due(const capture *c);
/* ALSA's poll descriptors (0 for paced captures). */
int capture_poll_fds(capture *c, struct pollfd *fds, int max);
/* alsa-lib's diagnostics kept (thread-local) instead of printed to stderr: call once. */
void capture_quiet_alsa(void);

typedef enum { CAPTURE_NONE = 0, CAPTURE_FRAME = 1, CAPTURE_ERROR = -1 } capture_result;

/* The next frame into pcm if one is ready at `now`; CAPTURE_ERROR: the device is lost (the
 * reason in err; close it). Call until CAPTURE_NONE. */
capture_result capture_read(capture *c, double now, int16_t *pcm, char *err, size_t err_len);

#endif
