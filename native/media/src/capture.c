/* The engine's microphones: see capture.h. */
#include "capture_impl.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* capture-tone.ts: a quarter of full scale (-12 dBFS). */
#define TONE_AMPLITUDE 8192
/* capture-silence.ts: most frames made up at once after a stall. */
#define MAX_CATCH_UP 10
/* capture-file.ts: the most of a file read to find its audio; frames read at once. */
#define HEAD_BYTES (256 * 1024)
#define CHUNK_FRAMES 50





capture *capture_new(const capture_spec *spec, int frame_samples) {
  capture *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->spec = *spec;
  c->frame_samples = frame_samples;
  c->frame_ms = frame_samples * 1000.0 / SAMPLE_RATE;
  c->fd = -1;
  if (spec->kind == CAPTURE_FILE) {
    c->chunk_len = (size_t)frame_samples * 4 * CHUNK_FRAMES; /* room for stereo */
    c->chunk = malloc(c->chunk_len);
    if (!c->chunk) goto nomem;
  }
  if (spec->kind == CAPTURE_ALSA) {
    c->period = malloc((size_t)frame_samples * 2);
    if (!c->period) goto nomem;
  }
  return c;
nomem:
  capture_free(c);
  return NULL;
}

void capture_free(capture *c) {
  if (!c) return;
  capture_close(c);
  free(c->chunk);
  free(c->period);
  free(c);
}

bool capture_is_open(const capture *c) { return c->open; }

/* ---- file: wav.ts' parseWav + checkAgentFormat, capture-file.ts' readLayout ---------- */

static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The layout of the samples; false with wav.ts' message. */
static bool read_layout(capture *c, const uint8_t *buf, size_t len, uint64_t size, char *err,
                        size_t err_len) {
  if (len < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0) {
    snprintf(err, err_len, "not a WAV file (no RIFF/WAVE header)");
    return false;
  }
  bool have_fmt = false;
  unsigned format = 0, channels = 0, block_align = 0, bits = 0;
  uint32_t rate = 0;
  uint64_t offset = 12;
  while (offset + 8 <= len) {
    const uint8_t *id = buf + offset;
    uint32_t size32 = u32(buf + offset + 4);
    uint64_t body = offset + 8;
    if (memcmp(id, "fmt ", 4) == 0) {
      if (size32 < 16 || body + size32 > len) {
        snprintf(err, err_len, "truncated fmt chunk");
        return false;
      }
      const uint8_t *f = buf + body;
      format = u16(f);
      if (format == 0xfffe && size32 >= 26) format = u16(f + 24);
      channels = u16(f + 2);
      rate = u32(f + 4);
      block_align = u16(f + 12);
      bits = u16(f + 14);
      have_fmt = true;
    } else if (memcmp(id, "data", 4) == 0) {
      if (!have_fmt) {
        snprintf(err, err_len, "data chunk before fmt chunk");
        return false;
      }
      if (format != 1) {
        snprintf(err, err_len, "unsupported encoding (format tag %u); need 16-bit PCM", format);
      } else if (bits != 16) {
        snprintf(err, err_len, "%u-bit samples; need 16-bit PCM", bits);
      } else if (channels != 1 && channels != 2) {
        snprintf(err, err_len, "%u channels; need mono or stereo", channels);
      } else if (block_align != channels * 2) {
        snprintf(err, err_len, "block align %u does not match %u channels", block_align,
                 channels);
      } else if (rate != SAMPLE_RATE) {
        snprintf(err, err_len,
                 "%u Hz; need 48000 Hz (convert: sox IN.wav -r 48000 -c 1 -b 16 OUT.wav)",
                 (unsigned)rate);
      } else {
        /* The declared size, cut to what the file holds (a streamed WAV: 0xffffffff). */
        uint64_t available = size32 < size - body ? size32 : size - body;
        uint64_t bytes = available - available % block_align;
        if (bytes == 0) {
          snprintf(err, err_len, "the file holds no audio");
          return false;
        }
        c->channels = (int)channels;
        c->block_align = (int)block_align;
        c->offset = body;
        c->bytes = bytes;
        return true;
      }
      return false;
    }
    offset = body + size32 + (size32 % 2);
  }
  snprintf(err, err_len, have_fmt ? "no data chunk" : "no fmt chunk");
  return false;
}

static bool open_file(capture *c, char *err, size_t err_len) {
  char why[200] = "";
  uint8_t *head = NULL;
  c->fd = open(c->spec.name, O_RDONLY | O_CLOEXEC);
  if (c->fd < 0) {
    snprintf(why, sizeof why, "%s, open", strerror(errno));
    goto fail;
  }
  struct stat st;
  if (fstat(c->fd, &st) != 0) {
    snprintf(why, sizeof why, "%s, fstat", strerror(errno));
    goto fail;
  }
  uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
  size_t want = size < HEAD_BYTES ? (size_t)size : HEAD_BYTES;
  head = malloc(want ? want : 1);
  if (!head) {
    snprintf(why, sizeof why, "out of memory");
    goto fail;
  }
  size_t got = 0;
  while (got < want) {
    ssize_t n = pread(c->fd, head + got, want - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(why, sizeof why, "%s, read", strerror(errno));
      goto fail;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  if (!read_layout(c, head, got, size, why, sizeof why)) goto fail;
  free(head);
  c->held = c->used = 0;
  c->pos = 0;
  return true;
fail:
  free(head);
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  snprintf(err, err_len, "%s: %s", c->spec.name, why);
  return false;
}

/* capture-file.ts' refill(): the chunk filled from the file, in a circle. */
static bool refill(capture *c, size_t frame_in, char *err, size_t err_len) {
  size_t len = frame_in * CHUNK_FRAMES;
  c->held = c->used = 0;
  while (c->held < len) {
    uint64_t left = c->bytes - c->pos;
    size_t want = len - c->held < left ? len - c->held : (size_t)left;
    ssize_t n = pread(c->fd, c->chunk + c->held, want, (off_t)(c->offset + c->pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      snprintf(err, err_len, "%s: %s", c->spec.name,
               n < 0 ? strerror(errno) : "the file is shorter than its header says");
      return false;
    }
    c->held += (size_t)n;
    c->pos = (c->pos + (uint64_t)n) % c->bytes;
  }
  return true;
}

static bool file_frame(capture *c, int16_t *pcm, char *err, size_t err_len) {
  size_t frame_in = (size_t)c->frame_samples * (size_t)c->block_align;
  if (c->used + frame_in > c->held && !refill(c, frame_in, err, err_len)) return false;
  const uint8_t *src = c->chunk + c->used;
  c->used += frame_in;
  if (c->channels == 1) {
    memcpy(pcm, src, frame_in);
  } else {
    /* wav.ts' stereoToMono: the average, rounding toward negative infinity. */
    for (int i = 0; i < c->frame_samples; i++) {
      int l = (int16_t)u16(src + 4 * i), r = (int16_t)u16(src + 4 * i + 2);
      int sum = l + r;
      pcm[i] = (int16_t)(sum >= 0 ? sum / 2 : -((-sum + 1) / 2));
    }
  }
  return true;
}

/* ---- tone: capture-tone.ts' toneFrames + tone.ts' generateTone ----------------------- */

static void tone_frame(capture *c, int16_t *pcm) {
  double hz = c->spec.hz;
  double step = (2 * M_PI * hz) / SAMPLE_RATE;
  for (int i = 0; i < c->frame_samples; i++) {
    double v = floor(TONE_AMPLITUDE * sin(c->phase + step * i) + 0.5);
    pcm[i] = (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
  }
  double frame_step = (2 * M_PI * hz * c->frame_samples) / SAMPLE_RATE;
  c->phase = fmod(c->phase + frame_step, 2 * M_PI);
}

/* ---- the interface ------------------------------------------------------------------ */

bool capture_open(capture *c, double now, char *err, size_t err_len) {
  capture_close(c);
  if (c->spec.kind == CAPTURE_FILE && !open_file(c, err, err_len)) return false;
  if (c->spec.kind == CAPTURE_ALSA && !capture_alsa_open(c, err, err_len)) return false;
  c->phase = 0;
  c->started_at = now;
  c->emitted = 0;
  c->open = true;
  return true;
}

void capture_close(capture *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  capture_alsa_close(c);
  c->open = false;
}

double capture_due(const capture *c) {
  if (!c->open || c->spec.kind == CAPTURE_ALSA) return INFINITY;
  return c->started_at + (c->emitted + 1) * c->frame_ms;
}

int capture_poll_fds(capture *c, struct pollfd *fds, int max) {
  if (!c->open || !c->pcm) return 0;
  return capture_alsa_poll_fds(c, fds, max);
}

capture_result capture_read(capture *c, double now, int16_t *pcm, char *err, size_t err_len) {
  if (!c->open) return CAPTURE_NONE;
  if (c->spec.kind == CAPTURE_ALSA) return capture_alsa_frame(c, pcm, err, err_len);
  /* PacedCapture: frame n once n + 1 intervals have passed; a long stall skips ahead. */
  /* (The epsilon: woken at capture_due(), the division must not fall just short.) */
  double due = floor((now - c->started_at) / c->frame_ms + 1e-9);
  if (due - c->emitted > MAX_CATCH_UP) c->emitted = due - 1;
  if (c->emitted >= due) return CAPTURE_NONE;
  switch (c->spec.kind) {
    case CAPTURE_TONE: tone_frame(c, pcm); break;
    case CAPTURE_FILE:
      if (!file_frame(c, pcm, err, err_len)) return CAPTURE_ERROR;
      break;
    default: memset(pcm, 0, (size_t)c->frame_samples * 2); break;
  }
  c->emitted++;
  return CAPTURE_FRAME;
}
