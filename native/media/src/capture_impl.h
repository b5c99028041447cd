/* The inside of a capture, shared by capture.c (paced sources) and capture_alsa.c. */
#ifndef BABEL_CAPTURE_IMPL_H
#define BABEL_CAPTURE_IMPL_H
#include <alsa/asoundlib.h>
#include "capture.h"

#define SAMPLE_RATE 48000

struct capture {
  capture_spec spec;
  int frame_samples;
  double frame_ms;
  bool open;
  /* paced: the origin and the frames emitted since */
  double started_at;
  double emitted;
  /* tone */
  double phase;
  /* file */
  int fd;
  int channels, block_align;
  uint64_t offset, bytes, pos;
  uint8_t *chunk;
  size_t chunk_len, held, used;
  /* alsa */
  snd_pcm_t *pcm;
  size_t have;
  int16_t *period;
};

bool capture_alsa_open(capture *c, char *err, size_t err_len);
void capture_alsa_close(capture *c);
int capture_alsa_poll_fds(capture *c, struct pollfd *fds, int max);
capture_result capture_alsa_frame(capture *c, int16_t *pcm, char *err, size_t err_len);

#endif
