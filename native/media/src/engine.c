/* The engine's lifecycle and the JS thread's side: see engine.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "engine_impl.h"

double engine_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void engine_post_message(engine *e, engine_event_kind kind, const char *message,
                         double retry_ms) {
  engine_event ev = {.kind = kind, .retry_ms = retry_ms};
  if (message) snprintf(ev.message, sizeof ev.message, "%s", message);
  e->post(e->ctx, &ev);
}

engine *engine_new(const engine_config *c, engine_post_fn post, void *ctx, char *err,
                   size_t err_len, int *err_no) {
  *err_no = 0;
  engine *e = calloc(1, sizeof *e);
  if (!e) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  e->cfg = *c;
  e->post = post;
  e->ctx = ctx;
  e->sock = e->wake_fd = -1;
  atomic_init(&e->closing, false);
  pthread_mutex_init(&e->lock, NULL);
  if (getrandom(&e->rng, sizeof e->rng, 0) != sizeof e->rng || e->rng == 0) {
    e->rng = (uint64_t)engine_now_ms() | 1;
  }
  int frame_samples = PIPELINE_SAMPLE_RATE * c->pipeline.frame_ms / 1000;
  e->cap = capture_new(&c->capture, frame_samples);
  if (!e->cap) {
    snprintf(err, err_len, "out of memory");
    goto fail;
  }
  e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (e->wake_fd < 0) {
    *err_no = errno;
    snprintf(err, err_len, "eventfd: %s", strerror(errno));
    goto fail;
  }
  e->sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (e->sock < 0) {
    *err_no = errno;
    snprintf(err, err_len, "socket: %s", strerror(errno));
    goto fail;
  }
  if (bind(e->sock, (const struct sockaddr *)&c->bind, sizeof c->bind) != 0) {
    *err_no = errno;
    char host[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &c->bind.sin_addr, host, sizeof host);
    snprintf(err, err_len, "bind %s %s:%u", strerrorname_np(errno) ? strerrorname_np(errno) : "",
             host, (unsigned)ntohs(c->bind.sin_port));
    goto fail;
  }
  struct sockaddr_in bound;
  socklen_t bound_len = sizeof bound;
  getsockname(e->sock, (struct sockaddr *)&bound, &bound_len);
  e->port = ntohs(bound.sin_port);
  if (c->sink == SINK_FD) {
    /* Never block the media thread on a slow reader: EAGAIN drops the frame instead. */
    int flags = fcntl(c->sink_fd, F_GETFL);
    if (flags < 0 || fcntl(c->sink_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      *err_no = errno;
      snprintf(err, err_len, "playback fd %d: %s", c->sink_fd, strerror(errno));
      goto fail;
    }
  }
  return e;
fail:
  engine_free(e);
  return NULL;
}

void engine_free(engine *e) {
  if (!e) return;
  pipeline_free(e->leg);
  capture_free(e->cap);
  if (e->sock >= 0) close(e->sock);
  if (e->wake_fd >= 0) close(e->wake_fd);
  pthread_mutex_destroy(&e->lock);
  free(e);
}

int engine_port(const engine *e) { return e->port; }

static void wake(engine *e) {
  uint64_t one = 1;
  ssize_t n = write(e->wake_fd, &one, sizeof one);
  (void)n; /* EAGAIN: a wake-up is already pending */
}

void engine_close(engine *e) {
  atomic_store(&e->closing, true);
  wake(e);
}

/* ---- the JS thread's side ------------------------------------------------------------ */

static void take_stats(engine *e, engine_stats *out) {
  *out = e->extra;
  pipeline_get_stats(e->leg, &out->media);
}

bool engine_start_leg(engine *e, const pipeline_leg *leg, engine_direction dir, char *err,
                      size_t err_len) {
  pipeline *p = pipeline_new(&e->cfg.pipeline, leg, err, err_len);
  if (!p) return false;
  double now = engine_now_ms();
  pthread_mutex_lock(&e->lock);
  pipeline *old = e->leg;
  e->leg = p;
  e->dir = dir;
  e->remote = leg->remote;
  e->leg_id++;
  e->due = now + pipeline_frame_ms(p);
  e->quiet_since = now;
  e->last_sent = -INFINITY;
  e->silent_fired = false;
  e->warned_send = e->warned_invalid = e->warned_sink = false;
  e->last_invalid = 0;
  memset(&e->extra, 0, sizeof e->extra);
  pthread_mutex_unlock(&e->lock);
  pipeline_free(old);
  wake(e);
  return true;
}

bool engine_stop_leg(engine *e, engine_stats *out) {
  pthread_mutex_lock(&e->lock);
  pipeline *p = e->leg;
  if (p) {
    take_stats(e, out);
    e->leg = NULL;
    e->leg_id++;
  }
  pthread_mutex_unlock(&e->lock);
  if (!p) return false;
  pipeline_free(p);
  wake(e); /* the microphone closes */
  return true;
}

bool engine_get_stats(engine *e, engine_stats *out) {
  pthread_mutex_lock(&e->lock);
  bool has = e->leg != NULL;
  if (has) take_stats(e, out);
  pthread_mutex_unlock(&e->lock);
  return has;
}

int engine_direction_now(engine *e) {
  pthread_mutex_lock(&e->lock);
  int d = e->leg ? (int)e->dir : -1;
  pthread_mutex_unlock(&e->lock);
  return d;
}

bool engine_press_key(engine *e, char key) {
  if (dtmf_key_to_event(key) < 0) return false;
  pthread_mutex_lock(&e->lock);
  if (e->leg && e->dir != DIRECTION_RECEIVE) pipeline_press_key(e->leg, key);
  pthread_mutex_unlock(&e->lock);
  return true;
}
