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
#include <sys/stat.h>
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

/* The echo control's word, on the engine thread, to JS. */
static void echo_hook(void *user, echo_event event, double value) {
  engine *e = user;
  engine_event ev = {.kind = ENGINE_EV_ECHO, .echo = event, .delay_ms = value};
  e->post(e->ctx, &ev);
}

/* The engine's own sink for `p`: a dup of the caller's descriptor, non-blocking. */
static bool sink_make(const engine_playback *p, engine_sink *out, char *err, size_t err_len,
                      int *err_no) {
  *out = (engine_sink){.fd = -1, .max_latency_ms = p->max_latency_ms};
  if (p->kind != SINK_FD) return true;
  int fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 3);
  struct stat st;
  /* Never block the media thread on a slow reader: EAGAIN drops the frame instead. (The
   * flag is the open file's, so the caller's descriptor is non-blocking too, as Node's
   * pipes are anyway.) */
  int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || fstat(fd, &st) != 0) {
    *err_no = errno;
    snprintf(err, err_len, "playback fd %d: %s", p->fd, strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  out->fd = fd;
  out->fifo = S_ISFIFO(st.st_mode);
  out->file = S_ISREG(st.st_mode);
  return true;
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
  e->sock = e->wake_fd = e->sink.fd = e->tap_fd = -1;
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
  if (c->echo_on) {
    echo_options eo = c->echo;
    eo.frame_samples = frame_samples;
    eo.on_event = echo_hook;
    eo.event_user = e;
    e->echo = echo_new(&eo, err, err_len);
    if (!e->echo) goto fail;
  }
  if (!sink_make(&c->playback, &e->sink, err, err_len, err_no)) goto fail;
  if (c->tap_fd >= 0 && (e->tap_fd = fcntl(c->tap_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
    *err_no = errno;
    snprintf(err, err_len, "tapFd %d: %s", c->tap_fd, strerror(errno));
    goto fail;
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
  echo_free(e->echo);
  if (e->sink.fd >= 0) close(e->sink.fd);
  if (e->tap_fd >= 0) close(e->tap_fd);
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
  /* Nothing is written to the speaker once close() has returned. */
  engine_playback none = {.kind = SINK_NULL, .max_latency_ms = ENGINE_MAX_LATENCY_MS};
  char err[8];
  int err_no;
  engine_set_playback(e, &none, err, sizeof err, &err_no);
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
    engine_sink_flush(&e->sink);
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

bool engine_set_playback(engine *e, const engine_playback *p, char *err, size_t err_len,
                         int *err_no) {
  *err_no = 0;
  engine_sink next;
  if (!sink_make(p, &next, err, err_len, err_no)) return false;
  pthread_mutex_lock(&e->lock);
  int old = e->sink.fd;
  e->sink = next; /* a new speaker: nothing written to it yet (played_by 0) */
  pthread_mutex_unlock(&e->lock);
  if (old >= 0) close(old);
  return true;
}

/* The echo control, made (mode off, no DSP) the first time a setting asks for one. */
static echo_control *echo_of(engine *e) {
  pthread_mutex_lock(&e->lock);
  echo_control *have = e->echo;
  pthread_mutex_unlock(&e->lock);
  if (have) return have;
  echo_options o = {
      .mode = ECHO_OFF,
      .frame_samples = PIPELINE_SAMPLE_RATE * e->cfg.pipeline.frame_ms / 1000,
      .speaker_volume = 100,
      .on_event = echo_hook,
      .event_user = e,
  };
  echo_control *made = echo_new(&o, NULL, 0);
  if (!made) return NULL;
  pthread_mutex_lock(&e->lock);
  if (!e->echo) e->echo = made, made = NULL;
  have = e->echo;
  pthread_mutex_unlock(&e->lock);
  echo_free(made);
  return have;
}

double engine_set_speaker_volume(engine *e, double volume) {
  echo_control *echo = echo_of(e);
  if (!echo) return 100; /* no memory: unchanged */
  pthread_mutex_lock(&e->lock);
  echo_set_speaker_volume(echo, volume);
  double now = echo_speaker_volume(echo);
  pthread_mutex_unlock(&e->lock);
  return now;
}

void engine_set_mic_gain_db(engine *e, double db) {
  echo_control *echo = echo_of(e);
  if (!echo) return;
  pthread_mutex_lock(&e->lock);
  echo_set_mic_gain_db(echo, db);
  pthread_mutex_unlock(&e->lock);
}
