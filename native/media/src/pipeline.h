/*
 * The media path of one call leg in C: a faithful port of device/media/pipeline.ts
 * (MediaPipeline) with its RateMeter (rate-meter.ts), over libopus, jitter.h and wire.h.
 * Synchronous, time passed in (CLOCK_MONOTONIC ms, doubles), no sockets, no timers:
 *
 *   capture:  pipeline_capture_frame(pcm, now) -> Opus -> RTP [M-1] (or RFC 4733 while a
 *             key press goes out) -> SRTP [S-4]
 *   network:  pipeline_receive(datagram, from, now) -> source check [M-2] -> SRTP [S-5]
 *             -> RTP parse -> PT 111 jitter buffer / PT 101 DTMF (+ placeholders) / counted
 *   playout:  pipeline_playout_frame(now) -> jitter pop -> decode / conceal / silence
 *
 * pipeline_next_playout_at() places the playout ticks as pipeline.ts' nextPlayoutAt().
 * Everything is allocated in pipeline_new(); nothing after it. One instance is one leg.
 */
#ifndef BABEL_PIPELINE_H
#define BABEL_PIPELINE_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jitter.h"
#include "wire.h"

#define PIPELINE_SAMPLE_RATE 48000
/* Most samples of one frame (20 ms) and of one decoded packet (120 ms, RFC 6716 3.2.5). */
#define PIPELINE_MAX_FRAME_SAMPLES 960
#define PIPELINE_MAX_DECODE_SAMPLES 5760
/* Largest datagram the pipeline makes (RTP header + the largest Opus frame + SRTP tag). */
#define PIPELINE_MAX_DATAGRAM 1500

/* The codec, jitter buffer and DTMF settings of every leg (MediaPipelineOptions). */
typedef struct {
  int frame_ms;              /* 10 or 20 */
  int bitrate;               /* 6000..510000, default 24000 */
  int complexity;            /* 0..10, default 5 */
  bool fec;                  /* default true */
  int packet_loss_percent;   /* 0..100, default 10 */
  jitter_options jitter;     /* frame_ms and clock_rate are set from the above */
  uint32_t dtmf_duration_ms; /* default 100 */
  double playout_guard_ms;   /* default 1 */
} pipeline_config;

/* Fills `c` with pipeline.ts' defaults for `frame_ms` (jitter start: two frames). */
void pipeline_config_default(pipeline_config *c, int frame_ms);

/* One leg: the peer's address [T-9, M-2], SRTP keys [S-4] and the RTP start values [M-1]. */
typedef struct {
  struct sockaddr_in remote;
  bool srtp;
  uint8_t srtp_send[SRTP_MASTER_BYTES], srtp_recv[SRTP_MASTER_BYTES];
  uint32_t ssrc;
  uint16_t sequence;
  uint32_t timestamp;
} pipeline_leg;

typedef struct pipeline pipeline;

/* NULL with a message in err (bad options, no memory, a codec or OpenSSL failure). */
pipeline *pipeline_new(const pipeline_config *c, const pipeline_leg *leg, char *err,
                       size_t err_len);
void pipeline_free(pipeline *p);

int pipeline_frame_samples(const pipeline *p);
double pipeline_frame_ms(const pipeline *p);
/* Valid RTP packets received so far (MediaStats.received). */
double pipeline_received(const pipeline *p);

/* pressKey(): false for a key that is not DTMF (or a full queue). */
bool pipeline_press_key(pipeline *p, char key);

/* captureFrame(): one frame of s16 mono PCM in, the datagram to send into out (its
 * length), or 0 if the encoder failed (nothing to send). */
size_t pipeline_capture_frame(pipeline *p, const int16_t *pcm, double now, uint8_t *out,
                              size_t cap);

/* receive(): a new key press from the peer into *key (true), else false. */
bool pipeline_receive(pipeline *p, const uint8_t *datagram, size_t len,
                      const struct sockaddr_in *from, double now, char *key);

typedef enum { PLAYOUT_FRAME, PLAYOUT_CONCEAL, PLAYOUT_SILENCE } playout_kind;

/* playoutFrame(): exactly one frame into pcm; what it is (lastPlayout). */
playout_kind pipeline_playout_frame(pipeline *p, double now, int16_t *pcm);

/* nextPlayoutAt(). */
double pipeline_next_playout_at(const pipeline *p, double previous);

/* MediaStats (device/media/pipeline-types.ts), same meanings. */
typedef struct {
  double packets_sent, bytes_sent, received, lost, late, concealed, duplicates, wrong_source,
      invalid;
  bool srtp;
  double srtp_auth_failed, srtp_replayed, unknown_payload, decode_errors, dtmf_sent,
      dtmf_received, jitter_ms, depth_ms, target_ms, bitrate, send_bitrate;
} pipeline_stats;

void pipeline_get_stats(const pipeline *p, pipeline_stats *out);

#endif
