/* The engine thread: see engine.h (and device/media/session.ts, its specification). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "engine_impl.h"

/* xorshift64*: the backoff's jitter (each engine its own state). */
static double random01(engine *e) {
  e->rng ^= e->rng >> 12;
  e->rng ^= e->rng << 25;
  e->rng ^= e->rng >> 27;
  return (double)((e->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* shared/backoff.ts' next(). */
static double backoff_next(engine *e) {
  double base = fmin(RETRY_MAX_MS, RETRY_MIN_MS * pow(2, e->attempt));
  if (e->attempt < 30) e->attempt++;
  return floor(base * (1 - RETRY_JITTER * random01(e)) + 0.5);
}

/* ---- the engine thread: under the lock ----------------------------------------------- */

static void warn_once(engine *e, bool *flag, const char *fmt, const char *detail) {
  if (*flag) return;
  *flag = true;
  char msg[300];
  snprintf(msg, sizeof msg, fmt, detail);
  engine_post_message(e, ENGINE_EV_WARNING, msg, 0);
}

static void sink(engine *e, const int16_t *pcm, size_t bytes) {
  if (e->cfg.sink != SINK_FD) return;
  ssize_t n;
  do n = write(e->cfg.sink_fd, pcm, bytes);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)bytes) return;
  e->extra.sink_dropped++;
  warn_once(e, &e->warned_sink, "playback: frames dropped (%s)",
            n < 0 ? strerror(errno) : "short write");
}

/* session.ts' #play(): every frame due within `slack`, then the next tick (drift-free). */
static void play(engine *e, double now, double slack) {
  pipeline *p = e->leg;
  size_t bytes = (size_t)pipeline_frame_samples(p) * sizeof(int16_t);
  for (int n = 0; e->due <= now + slack; n++) {
    if (n == MAX_CATCH_UP) {
      e->due = pipeline_next_playout_at(p, now);
      break;
    }
    pipeline_playout_frame(p, now, e->pcm_out);
    sink(e, e->pcm_out, bytes);
    e->due = pipeline_next_playout_at(p, e->due);
  }
  /* [G-3] A two-way leg silent for 2 s while sending is said once. */
  if (e->dir == DIRECTION_BOTH && !e->silent_fired && now - e->quiet_since >= SILENCE_MS &&
      now - e->last_sent <= SENDING_WITHIN_MS) {
    e->silent_fired = true;
    engine_post_message(e, ENGINE_EV_SILENT, NULL, 0);
  }
}

static void receive_all(engine *e, double now) {
  for (;;) {
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(e->sock, e->recv_buf, sizeof e->recv_buf, MSG_DONTWAIT | MSG_TRUNC,
                         (struct sockaddr *)&from, &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      /* An ICMP error queued on the socket and the like: said once, never the end. */
      if (e->leg) warn_once(e, &e->warned_send, "media socket: %s", strerror(errno));
      return;
    }
    pipeline *p = e->leg;
    if (!p || from.sin_family != AF_INET) continue; /* between legs: drained, dropped */
    size_t len = (size_t)n > sizeof e->recv_buf ? sizeof e->recv_buf : (size_t)n;
    double before = pipeline_received(p);
    char key = 0;
    bool pressed = pipeline_receive(p, e->recv_buf, len, &from, now, &key);
    if (pipeline_received(p) != before) {
      e->quiet_since = now;
    } else if (!e->warned_invalid) {
      pipeline_stats s;
      pipeline_get_stats(p, &s);
      if (s.invalid > e->last_invalid) {
        char from_s[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &from.sin_addr, from_s, sizeof from_s);
        warn_once(e, &e->warned_invalid, "media: a datagram from %s that is not RTP, dropped",
                  from_s);
      }
      e->last_invalid = s.invalid;
    }
    if (pressed) {
      engine_event ev = {.kind = ENGINE_EV_DTMF, .key = key};
      e->post(e->ctx, &ev);
    }
    /* A playout tick due in a moment rides on this wake-up instead of taking its own. */
    if (e->dir != DIRECTION_SEND && e->due - now <= RIDE_ALONG_MS) play(e, now, RIDE_ALONG_MS);
  }
}

static void send_frame(engine *e, double now) {
  size_t len = pipeline_capture_frame(e->leg, e->pcm_in, now, e->datagram, sizeof e->datagram);
  if (len == 0) return;
  ssize_t n;
  do n = sendto(e->sock, e->datagram, len, MSG_DONTWAIT, (const struct sockaddr *)&e->remote,
                sizeof e->remote); /* from the bound port [M-2] */
  while (n < 0 && errno == EINTR);
  e->last_sent = now;
  if (n >= 0) return;
  e->extra.send_errors++;
  warn_once(e, &e->warned_send, "media socket: %s", strerror(errno));
}

/* ---- the engine thread: the microphone ------------------------------------------------ */

static void capture_failed(engine *e, double now, const char *why) {
  capture_close(e->cap);
  if (e->opened_at > 0 && now - e->opened_at >= STABLE_MS) e->attempt = 0;
  e->opened_at = 0;
  double delay = backoff_next(e);
  e->retry_at = now + delay;
  engine_post_message(e, ENGINE_EV_CAPTURE_ERROR, why, delay);
}

/* Opens or closes the microphone for the leg `leg_id` that wants it or not. */
static void manage_capture(engine *e, unsigned leg_id, bool want, double now) {
  if (e->cap_leg != leg_id) {
    capture_close(e->cap);
    e->cap_leg = leg_id;
    e->attempt = 0;
    e->opened_at = 0;
    e->retry_at = now;
  }
  if (!want) {
    capture_close(e->cap);
    return;
  }
  if (capture_is_open(e->cap) || now < e->retry_at) return;
  char err[300];
  if (!capture_open(e->cap, now, err, sizeof err)) {
    capture_failed(e, now, err);
    return;
  }
  e->opened_at = now;
  e->retry_at = INFINITY;
  engine_post_message(e, ENGINE_EV_CAPTURE_OPEN, NULL, 0);
}

/* ---- the loop ------------------------------------------------------------------------- */

void engine_run(engine *e) {
  struct pollfd fds[2 + CAPTURE_MAX_POLL_FDS];
  while (!atomic_load(&e->closing)) {
    double now = engine_now_ms();
    pthread_mutex_lock(&e->lock);
    unsigned leg_id = e->leg_id;
    bool has_leg = e->leg != NULL;
    bool sends = has_leg && e->dir != DIRECTION_RECEIVE;
    bool plays = has_leg && e->dir != DIRECTION_SEND;
    double due = e->due;
    pthread_mutex_unlock(&e->lock);

    manage_capture(e, leg_id, sends, now);

    double deadline = INFINITY;
    if (plays) deadline = due;
    deadline = fmin(deadline, capture_due(e->cap));
    if (sends && !capture_is_open(e->cap)) deadline = fmin(deadline, e->retry_at);
    fds[0] = (struct pollfd){.fd = e->wake_fd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = e->sock, .events = POLLIN};
    int alsa = capture_poll_fds(e->cap, fds + 2, CAPTURE_MAX_POLL_FDS);
    if (alsa > 0) deadline = fmin(deadline, now + ALSA_IDLE_MS);
    struct timespec timeout, *tp = NULL;
    if (deadline != INFINITY) {
      double wait = deadline - now;
      if (wait < 0) wait = 0;
      timeout.tv_sec = (time_t)(wait / 1000);
      timeout.tv_nsec = (long)((wait - (double)timeout.tv_sec * 1000) * 1e6);
      if (timeout.tv_nsec > 999999999) timeout.tv_nsec = 999999999;
      if (timeout.tv_nsec < 0) timeout.tv_nsec = 0;
      tp = &timeout;
    }
    int r = ppoll(fds, (nfds_t)(2 + alsa), tp, NULL);
    if (r < 0 && errno != EINTR) {
      struct timespec pause = {0, 1000000}; /* should never happen: no busy loop if it does */
      nanosleep(&pause, NULL);
    }
    if (fds[0].revents & POLLIN) {
      uint64_t value;
      ssize_t n = read(e->wake_fd, &value, sizeof value);
      (void)n;
    }
    if (atomic_load(&e->closing)) break;
    now = engine_now_ms();

    pthread_mutex_lock(&e->lock);
    receive_all(e, now);
    /* The frames the microphone has: sent during a leg that sends, else dropped. At most
     * MAX_CATCH_UP a wake-up, so a source faster than real time cannot hold the lock. */
    for (int n = 0; n < MAX_CATCH_UP; n++) {
      char err[300];
      capture_result got = capture_read(e->cap, now, e->pcm_in, err, sizeof err);
      if (got == CAPTURE_NONE) break;
      if (got == CAPTURE_ERROR) {
        capture_failed(e, now, err);
        break;
      }
      if (e->leg && e->dir != DIRECTION_RECEIVE && e->leg_id == e->cap_leg) {
        send_frame(e, now);
      }
    }
    if (e->leg && e->dir != DIRECTION_SEND && e->due <= now + TICK_SLACK_MS) {
      play(e, now, TICK_SLACK_MS);
    }
    pthread_mutex_unlock(&e->lock);
  }
  capture_close(e->cap);
}
