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
 *                  RIDE_ALONG_MS of a due tick plays it at once; each frame through
 *                  echo_playback() (volume, the far-end reference) to the sink ('null':
 *                  discarded; 'fd': a non-blocking write of the s16le frame to the
 *                  engine's own dup of the caller's descriptor, behind aplay's latency
 *                  guard; EAGAIN, EPIPE and the guard drop it and count it)
 *   echo control:  every captured frame goes through echo_capture() before the pipeline;
 *                  the echo state is the engine's, across legs (as the agent's EchoControl)
 *
 * A leg (engine_start_leg .. engine_stop_leg) runs both ways, 'send' (no playout) or
 * 'receive' (no capture, nothing sent) [G-2]: the microphone is open only during a leg
 * that sends. A microphone that fails to open or is lost is retried with backoff (500 ms
 * doubling to 10 s, jitter 0.3, as resilient.ts), each failure and recovery an event; the
 * leg goes on. A two-way leg with nothing valid in for 2 s while sending says 'silent'
 * once [G-3]. A socket error or a garbage datagram never ends the thread: counted, and
 * said once per leg as a warning.
 *
 * Threads: leg start/stop/stats/press, the sink and the echo settings run on the JS thread
 * under the engine's mutex (taking effect from the next frame); the
 * engine thread holds it while it handles what woke it. Events go out through `post`,
 * called on the engine thread (never under a lock the JS thread waits on for long).
 */
#ifndef BABEL_ENGINE_H
#define BABEL_ENGINE_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include "capture.h"
#include "echo.h"
#include "pipeline.h"

typedef enum { SINK_NULL, SINK_FD } sink_kind;

/* aplay's latency guard (device/audio/playback-aplay.ts): most audio ahead, by default. */
#define ENGINE_MAX_LATENCY_MS 200

/* Where played frames go. */
typedef struct {
  sink_kind kind;
  int fd;                /* SINK_FD: the caller's; the engine writes only to a dup of it */
  double max_latency_ms; /* SINK_FD: the latency guard */
} engine_playback;

typedef struct {
  struct sockaddr_in bind; /* host and port (0: any) */
  pipeline_config pipeline;
  capture_spec capture;
  engine_playback playback;
  /* Echo control on the engine thread (echo.h); false: none (frames pass untouched).
   * frame_samples and the event hook are set by the engine. */
  bool echo_on;
  echo_options echo;
  /* Test seam (-1: none): every frame played, as decoded (before echo control), written to
   * a dup of this descriptor, so a test can check what the speaker got against it. */
  int tap_fd;
} engine_config;

typedef enum { DIRECTION_BOTH, DIRECTION_SEND, DIRECTION_RECEIVE } engine_direction;

typedef enum {
  ENGINE_EV_DTMF,          /* key */
  ENGINE_EV_SILENT,        /* [G-3] */
  ENGINE_EV_CAPTURE_OPEN,  /* the microphone opened (again) */
  ENGINE_EV_CAPTURE_ERROR, /* message, retry_ms */
  ENGINE_EV_WARNING,       /* message */
  ENGINE_EV_ECHO,          /* echo (ECHO_EVENT_HEARD or _DELAY_MEASURED), delay_ms */
  ENGINE_EV_CLOSE
} engine_event_kind;

typedef struct {
  engine_event_kind kind;
  char key;
  double retry_ms;
  echo_event echo;
  double delay_ms;
  char message[300];
} engine_event;

typedef void (*engine_post_fn)(void *ctx, const engine_event *ev);

/* MediaStats plus the engine's own counters of the leg. */
typedef struct {
  pipeline_stats media;
  double send_errors;  /* sendto() failures */
  double sink_dropped; /* playout frames the sink did not take (latency guard, EAGAIN, EPIPE) */
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

/* Replaces the sink from the next frame (any thread): SINK_FD dup()s `p->fd`, and the copy
 * of the sink it replaces is closed before this returns, so nothing is written to it after.
 * False with a message in err and the errno in *err_no (the sink is then unchanged). */
bool engine_set_playback(engine *e, const engine_playback *p, char *err, size_t err_len,
                         int *err_no);
/* Speaker volume 0..100 from the next frame (rounded and clamped as control.ts does; NaN
 * is 0); returns the volume now in force. Any thread. */
double engine_set_speaker_volume(engine *e, double volume);
/* Microphone gain, dB, from the next frame. Any thread. */
void engine_set_mic_gain_db(engine *e, double db);

#endif
