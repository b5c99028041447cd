/*
 * babel-alsa: ALSA capture for Babel Intercom over the system's libasound, through Node-API.
 *
 * One format: 48 kHz, mono, signed 16-bit little-endian. One class:
 *
 *   new Capture(pcm, { periodSize, periods = 4 }, onEvent)
 *     starts a thread of its own (not libuv's pool) that opens `pcm`, sets the hw params
 *     (every call's return checked; the rate asked for with dir = 0) and reads period after
 *     period. What it does is reported through onEvent(kind, arg) on the JS thread, in order:
 *       'open'  { rate, periodSize, bufferSize }  what ALSA actually chose (read back)
 *       'data'  Buffer                            one period, periodSize * 2 bytes
 *       'xrun'  { cause, periods }                'overrun': EPIPE, re-prepared;
 *                                                 'suspend': ESTRPIPE, resumed;
 *                                                 'backlog': JS did not take `periods`
 *                                                 periods in time, they were dropped
 *       'error' Error                             open failure, or the device lost (any
 *                                                 other read error): the thread ends
 *       'close' undefined                         always last, exactly once: the PCM is
 *                                                 closed and the thread has exited
 *     .close()  asks the thread to stop; returns at once; 'close' follows.
 *
 * Stopping: the PCM is put in non-blocking mode and the thread waits in poll() on ALSA's
 * descriptors plus an eventfd that close() writes, so a thread waiting for audio leaves at
 * once (no snd_pcm_drop from another thread: alsa-lib's PCM calls are not safe to make
 * concurrently on one handle, and a poll wake-up is). A plugin that blocks inside its own
 * read (the `file` plugin reading a FIFO, a blocking open) cannot be interrupted from
 * outside; such a thread ends when that call returns, and the 'close' is reported then.
 * close() never waits for it on the JS thread.
 *
 * Lifetime: the rules of ../../common/napi_thread.h (the JS object, the thread and the
 * thread-safe function each hold a reference; the JS object being collected stops the
 * capture like close()). Errors are JS exceptions or 'error' events with ALSA's message.
 */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alsa_util.h"
#define NAPI_UTIL_ERROR_CODE "ERR_BABEL_ALSA_NAPI"
#include "napi_util.h"
#include "napi_thread.h"

#define SAMPLE_RATE 48000
#define CHANNELS 1
#define BYTES_PER_FRAME 2
#define MIN_PERIOD 16
#define MAX_PERIOD SAMPLE_RATE
#define MAX_PERIODS 64
/* Periods waiting for the JS thread beyond which new ones are dropped ('xrun' 'backlog'). */
#define MAX_BACKLOG 64
/* Poll descriptors of one PCM we handle (plugins chain a few at most). */
#define MAX_POLL_FDS 16
/* A wake-up now and then even if nothing happens: re-checks the stop flag. */
#define POLL_TIMEOUT_MS 500

typedef enum { EV_OPEN, EV_DATA, EV_XRUN, EV_ERROR, EV_CLOSE } event_kind;

typedef struct {
  event_kind kind;
  unsigned rate;                /* EV_OPEN */
  unsigned long period, buffer; /* EV_OPEN */
  const char *cause;            /* EV_XRUN */
  unsigned long periods;        /* EV_XRUN */
  int err;                      /* EV_ERROR: negative ALSA/errno code */
  char message[256];            /* EV_ERROR */
  size_t bytes;                 /* EV_DATA */
  unsigned char data[];         /* EV_DATA */
} event_t;

typedef struct {
  nt_link link; /* first: the JS object's, the thread's and the tsfn's references */
  atomic_bool stop;
  atomic_int backlog; /* EV_DATA queued and not yet delivered */
  int wake_fd;
  char *pcm_name;
  snd_pcm_uframes_t want_period;
  unsigned want_periods;
  unsigned long dropped; /* thread only: periods dropped since the last 'backlog' report */
} capture_t;

/* The last reference let go (nt_unref). */
static void capture_destroy(nt_link *link) {
  capture_t *c = (capture_t *)link;
  if (c->wake_fd >= 0) close(c->wake_fd);
  free(c->pcm_name);
  free(c);
}

/* Asks the thread to stop and wakes it from poll(). JS thread (the only one that writes). */
static void capture_stop(capture_t *c) {
  atomic_store(&c->stop, true);
  if (c->wake_fd < 0) return; /* the thread has been joined */
  uint64_t one = 1;
  ssize_t n = write(c->wake_fd, &one, sizeof one);
  (void)n; /* EAGAIN: the counter is already non-zero, a wake-up is pending */
}

/* The JS object was collected (nt_wrap_finalize). */
static void capture_collected(nt_link *link) { capture_stop((capture_t *)link); }

/* ---- the capture thread ------------------------------------------------------------- */

/* Queues `ev` for the JS thread; frees it if it cannot be queued. */
static bool post(capture_t *c, event_t *ev) {
  bool queued = nt_post(&c->link, ev);
  if (!queued) free(ev);
  return queued;
}

static event_t *new_event(event_kind kind, size_t bytes) {
  event_t *ev = calloc(1, sizeof(event_t) + bytes);
  if (ev) {
    ev->kind = kind;
    ev->bytes = bytes;
  }
  return ev;
}

static void post_error(capture_t *c, const char *step, int err) {
  event_t *ev = new_event(EV_ERROR, 0);
  if (!ev) return;
  ev->err = err;
  alsa_util_message(ev->message, sizeof ev->message, NULL, step, err);
  post(c, ev);
}

static void post_xrun(capture_t *c, const char *cause, unsigned long periods) {
  event_t *ev = new_event(EV_XRUN, 0);
  if (!ev) return;
  ev->cause = cause;
  ev->periods = periods;
  post(c, ev);
}

static void post_data(capture_t *c, const void *data, size_t bytes) {
  if (atomic_load(&c->backlog) >= MAX_BACKLOG) {
    c->dropped++;
    return;
  }
  if (c->dropped > 0) {
    post_xrun(c, "backlog", c->dropped);
    c->dropped = 0;
  }
  event_t *ev = new_event(EV_DATA, bytes);
  if (!ev) {
    c->dropped++;
    return;
  }
  memcpy(ev->data, data, bytes);
  atomic_fetch_add(&c->backlog, 1);
  if (!post(c, ev)) atomic_fetch_sub(&c->backlog, 1);
}

static int set_params(capture_t *c, snd_pcm_t *pcm, event_t *open_ev, const char **step) {
  unsigned rate = SAMPLE_RATE;
  snd_pcm_uframes_t period = c->want_period;
  snd_pcm_uframes_t buffer = c->want_period * c->want_periods;
  int err = alsa_util_hw_params(pcm, &rate, &period, &buffer, step);
  if (err < 0) return err;
  if (period < 1 || period > MAX_PERIOD) {
    *step = "snd_pcm_hw_params_get_period_size (out of range)";
    return -EINVAL;
  }
  err = alsa_util_capture_sw_params(pcm, period, step);
  if (err < 0) return err;
  open_ev->rate = rate;
  open_ev->period = period;
  open_ev->buffer = buffer;
  return 0;
}

/* Waits until the PCM may have frames, close() wakes us, or the timeout. <0: poll failed. */
static int wait_ready(capture_t *c, snd_pcm_t *pcm) {
  struct pollfd fds[MAX_POLL_FDS + 1];
  fds[0].fd = c->wake_fd;
  fds[0].events = POLLIN;
  fds[0].revents = 0;
  int count = snd_pcm_poll_descriptors(pcm, fds + 1, MAX_POLL_FDS);
  if (count < 0) return count;
  int r = poll(fds, (nfds_t)count + 1, POLL_TIMEOUT_MS);
  if (r < 0) return errno == EINTR ? 0 : -errno;
  if (fds[0].revents & POLLIN) {
    uint64_t value;
    ssize_t n = read(c->wake_fd, &value, sizeof value);
    (void)n;
  }
  return 0;
}

static void read_loop(capture_t *c, snd_pcm_t *pcm, snd_pcm_uframes_t period) {
  int16_t *buf = malloc(period * BYTES_PER_FRAME);
  if (!buf) {
    post_error(c, "capture buffer", -ENOMEM);
    return;
  }
  snd_pcm_uframes_t have = 0;
  while (!atomic_load(&c->stop)) {
    snd_pcm_sframes_t n = snd_pcm_readi(pcm, buf + have, period - have);
    if (n > 0) {
      have += (snd_pcm_uframes_t)n;
      if (have == period) {
        post_data(c, buf, period * BYTES_PER_FRAME);
        have = 0;
      }
      continue;
    }
    if (n == 0 || n == -EAGAIN) {
      int err = wait_ready(c, pcm);
      if (err < 0) {
        post_error(c, "poll", err);
        break;
      }
      continue;
    }
    if (n == -EINTR) continue;
    if (n == -EPIPE) {
      have = 0;
      post_xrun(c, "overrun", 0);
      int err = snd_pcm_prepare(pcm);
      if (err < 0) {
        post_error(c, "snd_pcm_prepare after an overrun", err);
        break;
      }
      continue;
    }
    if (n == -ESTRPIPE) {
      have = 0;
      post_xrun(c, "suspend", 0);
      int err;
      while ((err = snd_pcm_resume(pcm)) == -EAGAIN && !atomic_load(&c->stop)) {
        struct pollfd wake = {.fd = c->wake_fd, .events = POLLIN};
        poll(&wake, 1, 100);
      }
      if (err < 0 && err != -EAGAIN) err = snd_pcm_prepare(pcm);
      if (err < 0 && err != -EAGAIN) {
        post_error(c, "snd_pcm_prepare after a suspend", err);
        break;
      }
      continue;
    }
    /* ENODEV (unplugged), EIO, EBADFD...: the device is gone for this handle. */
    alsa_util_forget();
    post_error(c, "snd_pcm_readi", (int)n);
    break;
  }
  free(buf);
}

static void *capture_thread(void *arg) {
  capture_t *c = arg;
  snd_pcm_t *pcm = NULL;
  /* Named, so that `ps -L`, top and the tests can tell it from Node's own threads. */
  pthread_setname_np(pthread_self(), "babel-alsa");
  alsa_util_forget();
  /* Non-blocking open: a busy hw device is EBUSY at once instead of a wait. */
  int err = snd_pcm_open(&pcm, c->pcm_name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
  if (err < 0) {
    pcm = NULL;
    post_error(c, "snd_pcm_open", err);
  } else if (!atomic_load(&c->stop)) {
    event_t *ev = new_event(EV_OPEN, 0);
    const char *step = "";
    err = ev ? set_params(c, pcm, ev, &step) : -ENOMEM;
    if (err < 0) {
      post_error(c, ev ? step : "open event", err);
      free(ev);
    } else {
      snd_pcm_uframes_t period = ev->period;
      post(c, ev);
      read_loop(c, pcm, period);
    }
  }
  if (pcm) snd_pcm_close(pcm);

  /* The JS side joins this thread when it receives 'close'. */
  event_t *ev = new_event(EV_CLOSE, 0);
  if (!nt_exit(&c->link, ev)) free(ev);
  nt_unref(&c->link);
  return NULL;
}

/* ---- the JS thread ------------------------------------------------------------------ */

static napi_value make_error(napi_env env, const event_t *ev) {
  napi_value message, error, code;
  if (napi_create_string_utf8(env, ev->message, NAPI_AUTO_LENGTH, &message) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, message, &error) != napi_ok) return NULL;
  if (napi_create_int32(env, ev->err, &code) == napi_ok) {
    napi_set_named_property(env, error, "errno", code);
  }
  return error;
}

static napi_value make_arg(napi_env env, const event_t *ev) {
  napi_value arg = NULL;
  switch (ev->kind) {
    case EV_OPEN:
      if (napi_create_object(env, &arg) != napi_ok) return NULL;
      nu_set_num(env, arg, "rate", ev->rate);
      nu_set_num(env, arg, "periodSize", (double)ev->period);
      nu_set_num(env, arg, "bufferSize", (double)ev->buffer);
      return arg;
    case EV_DATA:
      if (napi_create_buffer_copy(env, ev->bytes, ev->data, NULL, &arg) != napi_ok) return NULL;
      return arg;
    case EV_XRUN:
      if (napi_create_object(env, &arg) != napi_ok) return NULL;
      nu_set_str(env, arg, "cause", ev->cause);
      nu_set_num(env, arg, "periods", (double)ev->periods);
      return arg;
    case EV_ERROR:
      return make_error(env, ev);
    case EV_CLOSE:
      napi_get_undefined(env, &arg);
      return arg;
  }
  return NULL;
}

static const char *kind_name(event_kind kind) {
  switch (kind) {
    case EV_OPEN: return "open";
    case EV_DATA: return "data";
    case EV_XRUN: return "xrun";
    case EV_ERROR: return "error";
    case EV_CLOSE: return "close";
  }
  return "?";
}

/* Runs on the JS thread for each queued event (env NULL: the environment is going away). */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  capture_t *c = context;
  event_t *ev = data;
  if (ev->kind == EV_DATA) atomic_fetch_sub(&c->backlog, 1);
  /* The thread queued 'close' as its last act. Once it is joined, nobody reads the
     descriptor any more: give it back now, not when the JS object is collected. */
  if (ev->kind == EV_CLOSE && nt_join(env, &c->link)) {
    close(c->wake_fd);
    c->wake_fd = -1;
  }
  if (env && js_cb) nt_emit(env, js_cb, kind_name(ev->kind), make_arg(env, ev));
  free(ev);
}


static bool get_uint_option(napi_env env, napi_value options, const char *name, uint32_t def,
                            uint32_t min, uint32_t max, uint32_t *out) {
  bool has = false;
  napi_value v;
  napi_valuetype type;
  if (napi_has_named_property(env, options, name, &has) != napi_ok) return false;
  if (!has) {
    *out = def;
    return true;
  }
  if (napi_get_named_property(env, options, name, &v) != napi_ok) return false;
  napi_typeof(env, v, &type);
  if (type == napi_undefined) {
    *out = def;
    return true;
  }
  double d = 0;
  /* Range first: converting a negative or huge double to an integer is undefined. */
  if (type != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= min) ||
      !(d <= max) || d != (double)(uint32_t)d) {
    char msg[120];
    snprintf(msg, sizeof msg, "options.%s must be an integer from %u to %u", name, min, max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = (uint32_t)d;
  return true;
}

static napi_value capture_new(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (!nu_require_construct_call(env, info, "Capture")) return NULL;
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined, t2 = napi_undefined;
  if (argc > 0) napi_typeof(env, argv[0], &t0);
  if (argc > 1) napi_typeof(env, argv[1], &t1);
  if (argc > 2) napi_typeof(env, argv[2], &t2);
  if (t0 != napi_string || t1 != napi_object || t2 != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "usage: new Capture(pcm: string, { periodSize, periods? }, onEvent)");
    return NULL;
  }
  char name[256];
  size_t len = 0;
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  if (len == 0 || len >= sizeof name - 1 || strlen(name) != len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "pcm must be a PCM name of 1 to 254 bytes");
    return NULL;
  }
  uint32_t period = 0, periods = 0;
  if (!get_uint_option(env, argv[1], "periodSize", 0, MIN_PERIOD, MAX_PERIOD, &period)) return NULL;
  if (period == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "options.periodSize is required");
    return NULL;
  }
  if (!get_uint_option(env, argv[1], "periods", 4, 2, MAX_PERIODS, &periods)) return NULL;

  capture_t *c = calloc(1, sizeof *c);
  if (!c || !(c->pcm_name = strdup(name))) {
    free(c);
    napi_throw_error(env, "ENOMEM", "babel-alsa: out of memory");
    return NULL;
  }
  c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (c->wake_fd < 0) {
    char msg[120];
    snprintf(msg, sizeof msg, "eventfd: %s", strerror(errno));
    free(c->pcm_name);
    free(c);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  nt_init(&c->link, capture_collected, capture_destroy); /* the JS object's reference */
  c->want_period = period;
  c->want_periods = periods;
  atomic_init(&c->stop, false);
  atomic_init(&c->backlog, 0);

  if (!nt_wrap(env, self, &c->link)) return NULL;
  if (!nt_start(env, &c->link, argv[2], "babel-alsa capture", call_js, capture_thread)) {
    return NULL;
  }
  return self;
}

static napi_value capture_close(napi_env env, napi_callback_info info) {
  napi_value self, undefined;
  capture_t *c = NULL;
  NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  NAPI_CALL(env, napi_unwrap(env, self, (void **)&c));
  NAPI_CALL(env, napi_get_undefined(env, &undefined));
  if (c->link.closed) return undefined;
  c->link.closed = true;
  capture_stop(c);
  /* A thread stuck in a plugin's blocking read must not keep the process alive. */
  if (c->link.js_tsfn_alive) napi_unref_threadsafe_function(env, c->link.tsfn);
  return undefined;
}

static napi_value init(napi_env env, napi_value exports) {
  alsa_util_quiet();
  napi_property_descriptor methods[] = {
      {"close", NULL, capture_close, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls, rate, version;
  NAPI_CALL(env, napi_define_class(env, "Capture", NAPI_AUTO_LENGTH, capture_new, NULL, 1,
                                   methods, &cls));
  NAPI_CALL(env, napi_create_uint32(env, SAMPLE_RATE, &rate));
  NAPI_CALL(env, napi_create_string_utf8(env, snd_asoundlib_version(), NAPI_AUTO_LENGTH, &version));
  napi_property_descriptor props[] = {
      {"Capture", NULL, NULL, NULL, NULL, cls, napi_enumerable, NULL},
      {"SAMPLE_RATE", NULL, NULL, NULL, NULL, rate, napi_enumerable, NULL},
      {"libasoundVersion", NULL, NULL, NULL, NULL, version, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, 3, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
