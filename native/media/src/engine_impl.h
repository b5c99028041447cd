/* The inside of an engine, shared by engine.c (lifecycle, the JS thread's side) and
 * engine_loop.c (the engine thread). See engine.h. */
#ifndef BABEL_ENGINE_IMPL_H
#define BABEL_ENGINE_IMPL_H
#include <stdatomic.h>
#include <pthread.h>
#include "engine.h"

/* session.ts: playout ticks made up at once after a stall; beyond that the grid restarts. */
#define MAX_CATCH_UP 10
/* session.ts: a packet arriving this close before a playout tick plays it out at once. */
#define RIDE_ALONG_MS 4
/* session.ts' timer tick: what is due within this plays. */
#define TICK_SLACK_MS 1
/* silence-watch.ts [G-3]: silence that counts, and how recent a send means sending. */
#define SILENCE_MS 2000
#define SENDING_WITHIN_MS 500
/* resilient.ts: the microphone's retry backoff, and a run that starts it over. */
#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 10000
#define RETRY_JITTER 0.3
#define STABLE_MS 10000
/* With ALSA open, a wake-up this often anyway (a suspended PCM does not poll ready). */
#define ALSA_IDLE_MS 500
/* Receive buffer: any UDP datagram fits, so a long one is read whole and refused. */
#define RECV_BYTES 65536

struct engine {
  engine_config cfg;
  int sock;
  int port;
  int wake_fd;
  atomic_bool closing;
  engine_post_fn post;
  void *ctx;

  pthread_mutex_t lock;
  /* Under the lock: the leg. */
  pipeline *leg;
  engine_direction dir;
  struct sockaddr_in remote;
  unsigned leg_id;
  double due;                    /* the next playout tick */
  double quiet_since, last_sent; /* [G-3] SilenceWatch */
  bool silent_fired;
  bool warned_send, warned_invalid, warned_sink;
  double last_invalid;
  engine_stats extra;

  /* The engine thread's own. */
  capture *cap;
  unsigned cap_leg;
  double retry_at, opened_at;
  int attempt;
  uint64_t rng;
  int16_t pcm_in[PIPELINE_MAX_FRAME_SAMPLES];
  int16_t pcm_out[PIPELINE_MAX_FRAME_SAMPLES];
  uint8_t datagram[PIPELINE_MAX_DATAGRAM];
  uint8_t recv_buf[RECV_BYTES];
};

/* CLOCK_MONOTONIC in ms. */
double engine_now_ms(void);
/* An event with a message (or none) to the JS thread. */
void engine_post_message(engine *e, engine_event_kind kind, const char *message,
                         double retry_ms);

#endif
