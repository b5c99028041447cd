/*
 * The engine: one call leg's media loop on a thread of its own, in place of
 * device/media/session.ts' socket and timers and of the capture backend.
 *
 * The engine owns a UDP socket (bound in engine_new(), so a bind failure is the caller's
 * error at once) and runs engine_run() on a thread the caller creates: it waits in ppoll()
 * on the socket, an eventfd the JS thread writes (engine_wake), the microphone's
 * descriptors (ALSA) and one deadline: the next paced capture frame (an absolute
 * CLOCK_MONOTONIC time one frame after the last: drift-free), the next playout tick, or
 * the next attempt to open a failed microphone.
 *
 *   per frame:     capture -> pipeline_capture_frame -> sendto(remote) from the bound
 *                  socket [M-2]
 *   per datagram:  recvfrom (all pending) -> pipeline_receive(arrival = CLOCK_MONOTONIC ms)
 *   playout:       as session.ts: ticks at pipeline_next_playout_at(), at most
 *                  MAX_CATCH_UP frames at once after a stall, a datagram arriving within
 *                  RIDE_ALONG_MS of a due tick plays it at once; each frame to the sink
 *                  ('null': discarded; 'fd': a non-blocking write of the s16le frame,
 *                  EAGAIN drops it and counts it)
 *
 * A leg (engine_start_leg .. engine_stop_leg) runs both ways, 'send' (no playout) or
 * 'receive' (no capture, nothing sent) [G-2]: the microphone is open only during a leg
 * that sends. A microphone that fails to open or is lost is retried with backoff (500 ms
 * doubling to 10 s, jitter 0.3, as resilient.ts), each failure and recovery an event; the
 * leg goes on. A two-way leg with nothing valid in for 2 s while sending says 'silent'
 * once [G-3]. A socket error or a garbage datagram never ends the thread: counted, and
 * said once per leg as a warning.
 *
 * Threads: leg start/stop/stats/press run on the JS thread under the engine's mutex; the
 * engine thread holds it while it handles what woke it. Events go out through `post`,
 * called on the engine thread (never under a lock the JS thread waits on for long).
 */
#ifndef BABEL_ENGINE_H
#define BABEL_ENGINE_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include "capture.h"
#include "pipeline.h"

typedef enum { SINK_NULL, SINK_FD } sink_kind;

typedef struct {
  struct sockaddr_in bind; /* host and port (0: any) */
  pipeline_config pipeline;
  capture_spec capture;
  sink_kind sink;
  int sink_fd; /* SINK_FD: owned by the caller, never closed here */
} engine_config;

typedef enum { DIRECTION_BOTH, DIRECTION_SEND, DIRECTION_RECEIVE } engine_direction;

typedef enum {
  ENGINE_EV_DTMF,          /* key */
  ENGINE_EV_SILENT,        /* [G-3] */
  ENGINE_EV_CAPTURE_OPEN,  /* the microphone opened (again) */
  ENGINE_EV_CAPTURE_ERROR, /* message, retry_ms */
  ENGINE_EV_WARNING,       /* message */
  ENGINE_EV_CLOSE
} engine_event_kind;

typedef struct {
  engine_event_kind kind;
  char key;
  double retry_ms;
  char message[300];
} engine_event;

typedef void (*engine_post_fn)(void *ctx, const engine_event *ev);

/* MediaStats plus the engine's own counters of the leg. */
typedef struct {
  pipeline_stats media;
  double send_errors;  /* sendto() failures */
  double sink_dropped; /* playout frames the sink could not take (EAGAIN) */
} engine_stats;

typedef struct engine engine;

/* Binds the socket. NULL with a message in err and the errno in *err_no (0: no memory). */
engine *engine_new(const engine_config *c, engine_post_fn post, void *ctx, char *err,
                   size_t err_len, int *err_no);
/* After engine_run() has returned (or never ran). Closes what is still open. */
void engine_free(engine *e);
int engine_port(const engine *e);

/* The thread's body: returns once engine_close() was called. */
void engine_run(engine *e);
/* Asks engine_run() to return; any thread, returns at once. */
void engine_close(engine *e);

/* Starts a leg (a running one is stopped first); false with a message in err. */
bool engine_start_leg(engine *e, const pipeline_leg *leg, engine_direction dir, char *err,
                      size_t err_len);
/* Ends the leg: its final stats into out (true), or false between legs. */
bool engine_stop_leg(engine *e, engine_stats *out);
bool engine_get_stats(engine *e, engine_stats *out);
/* The running leg's direction, or -1 between legs. */
int engine_direction_now(engine *e);
/* A key press; ignored between legs and on receive legs. False for a key that is not DTMF. */
bool engine_press_key(engine *e, char key);

#endif
