/*
 * The Opus floor of bench/device.ts: what libopus alone costs for a call's audio, in C,
 * with the device's encoder settings (mono 48 kHz, 20 ms frames, OPUS_APPLICATION_VOIP,
 * the bitrate and complexity given, 10 % expected loss, no FEC: pipeline.c's settings),
 * paced three ways:
 *
 *   tight   every frame encoded and decoded back to back: Opus with warm caches, no
 *           sleeping (what the bench's Node floor, floor_pct, measures through babel-opus);
 *   one     one wake-up a frame: sleep to the next 20 ms tick, then encode and decode;
 *   two     two wake-ups a frame: encode at the tick, decode half a frame later, as a call
 *           does (the microphone's tick and the peer's packet arrive at different phases).
 *
 * `two` is the least any media loop pays for Opus with a call's two wake-ups a frame and
 * no sockets, no jitter buffer, no logic: a floor for the device's native loop and for
 * baresip alike. No sockets, so the wake-ups' own cost (bench/lib/native-floor.c) is not
 * in it.
 *
 *   cc -O2 -o opus-floor opus-floor.c -lopus
 *   ./opus-floor SOURCE SECONDS [COMPLEXITY=5] [BITRATE=24000]
 *     SOURCE: a WAV file (48 kHz mono 16-bit PCM: the capture of `file:`) or tone:HZ
 *
 * Prints `opus_tight_pct=A opus_one_wake_pct=B opus_two_wake_pct=C`, each the CPU it used
 * as a percentage of one core over the frames' real time.
 */
#define _GNU_SOURCE
#include <math.h>
#include <opus/opus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { RATE = 48000, FRAME = 960, FRAME_NS = 20000000, TONE_AMPLITUDE = 8000 };

static double cpu_ms(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e3 + u.ru_utime.tv_usec / 1e3 + u.ru_stime.tv_sec * 1e3 +
         u.ru_stime.tv_usec / 1e3;
}

static uint32_t le32(const unsigned char *p) {
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The samples of a 48 kHz mono 16-bit WAV (its `data` chunk), or NULL with a message. */
static int16_t *read_wav(const char *path, long *count) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return NULL;
  }
  unsigned char head[12], chunk[8], fmt[16] = {0};
  int16_t *pcm = NULL;
  if (fread(head, 1, 12, f) != 12 || memcmp(head, "RIFF", 4) || memcmp(head + 8, "WAVE", 4)) {
    fprintf(stderr, "%s: not a WAV file\n", path);
    goto out;
  }
  while (fread(chunk, 1, 8, f) == 8) {
    uint32_t len = le32(chunk + 4);
    if (!memcmp(chunk, "fmt ", 4)) {
      if (len < 16 || fread(fmt, 1, 16, f) != 16 || fseek(f, (long)(len - 16 + (len & 1)), SEEK_CUR)) break;
    } else if (!memcmp(chunk, "data", 4)) {
      if (le32(fmt + 4) != RATE || (fmt[2] | fmt[3] << 8) != 1 || (fmt[14] | fmt[15] << 8) != 16) {
        fprintf(stderr, "%s: want 48000 Hz mono 16-bit PCM\n", path);
        goto out;
      }
      pcm = malloc(len);
      *count = pcm ? (long)fread(pcm, 2, len / 2, f) : 0;
      if (*count < FRAME) {
        fprintf(stderr, "%s: shorter than a frame\n", path);
        free(pcm);
        pcm = NULL;
      }
      goto out;
    } else if (fseek(f, (long)(len + (len & 1)), SEEK_CUR)) {
      break;
    }
  }
  fprintf(stderr, "%s: no fmt/data chunk\n", path);
out:
  fclose(f);
  return pcm;
}

static int16_t *make_tone(double hz, long *count) {
  *count = RATE; /* one second, looped */
  int16_t *pcm = malloc(sizeof *pcm * (size_t)*count);
  for (long i = 0; pcm && i < *count; i++)
    pcm[i] = (int16_t)lround(TONE_AMPLITUDE * sin(2 * M_PI * hz * (double)i / RATE));
  return pcm;
}

static void add_ns(struct timespec *t, long ns) {
  t->tv_nsec += ns;
  while (t->tv_nsec >= 1000000000L) {
    t->tv_nsec -= 1000000000L;
    t->tv_sec++;
  }
}

/* Encodes and decodes `frames` frames paced by `wakes` (0, 1 or 2) wake-ups a frame. */
static double run(const int16_t *pcm, long count, long frames, int wakes, int complexity,
                  int bitrate) {
  int err;
  OpusEncoder *enc = opus_encoder_create(RATE, 1, OPUS_APPLICATION_VOIP, &err);
  OpusDecoder *dec = opus_decoder_create(RATE, 1, &err);
  if (!enc || !dec) {
    fprintf(stderr, "opus: %s\n", opus_strerror(err));
    exit(1);
  }
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate));
  opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity));
  opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(0));
  opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(10));
  unsigned char packet[1500];
  int16_t out[FRAME];
  struct timespec tick;
  clock_gettime(CLOCK_MONOTONIC, &tick);
  double cpu0 = cpu_ms();
  long at = 0;
  for (long i = 0; i < frames; i++) {
    if (at + FRAME > count) at = 0;
    if (wakes > 0) {
      add_ns(&tick, wakes == 2 ? FRAME_NS / 2 : FRAME_NS);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
    }
    opus_int32 n = opus_encode(enc, pcm + at, FRAME, packet, sizeof packet);
    at += FRAME;
    if (wakes == 2) {
      add_ns(&tick, FRAME_NS / 2);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
    }
    if (n < 0 || opus_decode(dec, packet, n, out, FRAME, 0) != FRAME) {
      fprintf(stderr, "opus: a frame failed\n");
      exit(1);
    }
  }
  double used = cpu_ms() - cpu0;
  opus_encoder_destroy(enc);
  opus_decoder_destroy(dec);
  return 100.0 * used / ((double)frames * 20.0);
}

int main(int argc, char **argv) {
  if (argc < 3 || atof(argv[2]) <= 0) {
    fprintf(stderr, "usage: opus-floor WAV|tone:HZ SECONDS [COMPLEXITY] [BITRATE]\n");
    return 2;
  }
  long count = 0;
  int16_t *pcm = strncmp(argv[1], "tone:", 5) == 0 ? make_tone(atof(argv[1] + 5), &count)
                                                   : read_wav(argv[1], &count);
  if (!pcm) return 1;
  long frames = (long)(atof(argv[2]) * 50);
  int complexity = argc > 3 ? atoi(argv[3]) : 5;
  int bitrate = argc > 4 ? atoi(argv[4]) : 24000;
  double tight = run(pcm, count, frames, 0, complexity, bitrate);
  double one = run(pcm, count, frames, 1, complexity, bitrate);
  double two = run(pcm, count, frames, 2, complexity, bitrate);
  printf("opus_tight_pct=%.3f opus_one_wake_pct=%.3f opus_two_wake_pct=%.3f\n", tight, one, two);
  free(pcm);
  return 0;
}
