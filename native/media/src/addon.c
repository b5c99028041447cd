/*
 * babel-media: the device's per-frame media loop on a native thread (engine.h), and the
 * `_test` bindings of its pure parts. The JS contract is index.d.ts.
 *
 * Lifetime (native/alsa's rules): the state is shared by the JS object, the engine thread
 * and the thread-safe function, each holding a reference; the last to let go frees it.
 * The JS object being collected stops the thread like close(). If the environment is torn
 * down first, the thread learns it from napi_closing under a lock the tsfn's finalizer
 * also takes, and never touches the tsfn again. The tsfn is referenced only while a leg
 * runs: an idle engine, or a closed one, never keeps the process alive.
 */
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "js_util.h"
#include "test_exports.h"

typedef struct {
  atomic_int refs;
  engine *eng;
  pthread_t thread;
  napi_threadsafe_function tsfn;
  /* Thread side: set once the thread must not touch the tsfn any more. */
  pthread_mutex_t lock;
  bool tsfn_gone;
  /* JS thread only. */
  bool js_tsfn_alive, tsfn_refd, closed;
  int port;
} handle;

static void handle_unref(handle *h) {
  if (atomic_fetch_sub(&h->refs, 1) != 1) return;
  engine_free(h->eng);
  pthread_mutex_destroy(&h->lock);
  free(h);
}

/* ---- the engine thread ---------------------------------------------------------------- */

/* Queues a copy of `ev` for the JS thread (dropped if the environment is going away). */
static void post(void *ctx, const engine_event *ev) {
  handle *h = ctx;
  engine_event *copy = malloc(sizeof *copy);
  if (!copy) return;
  *copy = *ev;
  bool queued = false;
  pthread_mutex_lock(&h->lock);
  if (!h->tsfn_gone) {
    napi_status s = napi_call_threadsafe_function(h->tsfn, copy, napi_tsfn_nonblocking);
    if (s == napi_ok) queued = true;
    else if (s == napi_closing) h->tsfn_gone = true;
  }
  pthread_mutex_unlock(&h->lock);
  if (!queued) free(copy);
}

static void *engine_thread(void *arg) {
  handle *h = arg;
  pthread_setname_np(pthread_self(), "babel-media");
  engine_run(h->eng);
  bool queued = false;
  engine_event *ev = calloc(1, sizeof *ev);
  if (ev) ev->kind = ENGINE_EV_CLOSE;
  pthread_mutex_lock(&h->lock);
  if (!h->tsfn_gone) {
    /* The JS side joins this thread when it receives 'close'. */
    if (ev && napi_call_threadsafe_function(h->tsfn, ev, napi_tsfn_nonblocking) == napi_ok) {
      queued = true;
    }
    napi_release_threadsafe_function(h->tsfn, napi_tsfn_release);
    h->tsfn_gone = true;
  }
  pthread_mutex_unlock(&h->lock);
  if (!queued) {
    free(ev);
    pthread_detach(pthread_self());
  }
  handle_unref(h);
  return NULL;
}

/* ---- the JS thread -------------------------------------------------------------------- */

static napi_value event_arg(napi_env env, const engine_event *ev) {
  napi_value arg = NULL, v;
  switch (ev->kind) {
    case ENGINE_EV_DTMF:
      napi_create_string_utf8(env, &ev->key, 1, &arg);
      return arg;
    case ENGINE_EV_CAPTURE_OPEN:
    case ENGINE_EV_CAPTURE_ERROR:
      if (napi_create_object(env, &arg) != napi_ok) return NULL;
      napi_create_string_utf8(env, ev->kind == ENGINE_EV_CAPTURE_OPEN ? "open" : "error",
                              NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, arg, "state", v);
      if (ev->kind == ENGINE_EV_CAPTURE_OPEN) return arg;
      napi_create_string_utf8(env, ev->message, NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, arg, "message", v);
      napi_create_double(env, ev->retry_ms, &v);
      napi_set_named_property(env, arg, "retryInMs", v);
      return arg;
    case ENGINE_EV_WARNING:
      if (napi_create_object(env, &arg) != napi_ok) return NULL;
      napi_create_string_utf8(env, ev->message, NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, arg, "message", v);
      return arg;
    default:
      napi_get_undefined(env, &arg);
      return arg;
  }
}

static const char *event_name(engine_event_kind kind) {
  switch (kind) {
    case ENGINE_EV_DTMF: return "dtmf";
    case ENGINE_EV_SILENT: return "silent";
    case ENGINE_EV_CAPTURE_OPEN:
    case ENGINE_EV_CAPTURE_ERROR: return "capture";
    case ENGINE_EV_WARNING: return "warning";
    case ENGINE_EV_CLOSE: return "close";
  }
  return "?";
}

/* Runs on the JS thread for each queued event (env NULL: the environment is going away). */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  handle *h = context;
  engine_event *ev = data;
  if (ev->kind == ENGINE_EV_CLOSE) {
    /* The thread queued this as its last act: it is about to return. */
    if (env) {
      pthread_join(h->thread, NULL);
      /* The socket and the rest go now, not when the JS object is collected. */
      engine_free(h->eng);
      h->eng = NULL;
    } else {
      pthread_detach(h->thread);
    }
  }
  if (env && js_cb) {
    napi_value kind, arg, undefined;
    if (napi_create_string_utf8(env, event_name(ev->kind), NAPI_AUTO_LENGTH, &kind) == napi_ok &&
        (arg = event_arg(env, ev)) != NULL && napi_get_undefined(env, &undefined) == napi_ok) {
      napi_value argv[2] = {kind, arg};
      /* An exception thrown by onEvent is left pending: Node reports it as uncaught. */
      napi_call_function(env, undefined, js_cb, 2, argv, NULL);
    }
  }
  free(ev);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  handle *h = data;
  pthread_mutex_lock(&h->lock);
  h->tsfn_gone = true;
  pthread_mutex_unlock(&h->lock);
  h->js_tsfn_alive = false;
  handle_unref(h);
}

/* The JS object was collected (or the environment torn down): stop and let go. */
static void wrap_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  handle *h = data;
  if (!h->closed && h->eng) engine_close(h->eng);
  handle_unref(h);
}

/* Only a leg keeps the process alive. */
static void keep_alive(napi_env env, handle *h, bool on) {
  if (!h->js_tsfn_alive || h->tsfn_refd == on) return;
  if (on) napi_ref_threadsafe_function(env, h->tsfn);
  else napi_unref_threadsafe_function(env, h->tsfn);
  h->tsfn_refd = on;
}

static napi_value engine_new_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL}, self, target, resource;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  NAPI_CALL(env, napi_get_new_target(env, info, &target));
  if (!target) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "Engine must be called with new");
    return NULL;
  }
  napi_valuetype t = napi_undefined;
  if (argc > 1) napi_typeof(env, argv[1], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "onEvent must be a function");
    return NULL;
  }
  engine_config cfg;
  if (!js_engine_config(env, argc > 0 ? argv[0] : NULL, &cfg)) return NULL;

  handle *h = calloc(1, sizeof *h);
  if (!h) {
    napi_throw_error(env, "ENOMEM", "babel-media: out of memory");
    return NULL;
  }
  pthread_mutex_init(&h->lock, NULL);
  atomic_init(&h->refs, 1); /* the JS object's */
  char err[300];
  int err_no = 0;
  h->eng = engine_new(&cfg, post, h, err, sizeof err, &err_no);
  if (!h->eng) {
    handle_unref(h);
    napi_value msg, error, code;
    NAPI_CALL(env, napi_create_string_utf8(env, err, NAPI_AUTO_LENGTH, &msg));
    NAPI_CALL(env, napi_create_error(env, NULL, msg, &error));
    const char *name = err_no ? strerrorname_np(err_no) : "ENOMEM";
    if (name && napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) == napi_ok) {
      napi_set_named_property(env, error, "code", code);
    }
    napi_throw(env, error);
    return NULL;
  }
  h->port = engine_port(h->eng);
  if (napi_wrap(env, self, h, wrap_finalize, NULL, NULL) != napi_ok) {
    handle_unref(h);
    js_throw_last_error(env);
    return NULL;
  }
  NAPI_CALL(env, napi_create_string_utf8(env, "babel-media engine", NAPI_AUTO_LENGTH, &resource));
  atomic_fetch_add(&h->refs, 1); /* the tsfn's, dropped by tsfn_finalize */
  if (napi_create_threadsafe_function(env, argv[1], NULL, resource, 0, 1, h, tsfn_finalize, h,
                                      call_js, &h->tsfn) != napi_ok) {
    atomic_fetch_sub(&h->refs, 1);
    h->closed = true;
    js_throw_last_error(env);
    return NULL;
  }
  h->js_tsfn_alive = true;
  h->tsfn_refd = true;
  keep_alive(env, h, false);

  /* The thread takes no signals: Node's handlers stay on Node's threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  atomic_fetch_add(&h->refs, 1); /* the thread's */
  int rc = pthread_create(&h->thread, NULL, engine_thread, h);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    atomic_fetch_sub(&h->refs, 1);
    h->closed = true;
    h->tsfn_gone = true;
    napi_release_threadsafe_function(h->tsfn, napi_tsfn_abort);
    char msg[120];
    snprintf(msg, sizeof msg, "pthread_create: %s", strerror(rc));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  return self;
}

/* The handle behind `this`, with up to one argument. */
static handle *unwrap(napi_env env, napi_callback_info info, napi_value *arg) {
  size_t argc = 1;
  napi_value argv[1] = {NULL}, self;
  handle *h = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok ||
      napi_unwrap(env, self, (void **)&h) != napi_ok || !h) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not an Engine");
    return NULL;
  }
  if (arg) {
    if (argc > 0) *arg = argv[0];
    else napi_get_undefined(env, arg);
  }
  return h;
}

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

static napi_value engine_start_js(napi_env env, napi_callback_info info) {
  napi_value arg;
  handle *h = unwrap(env, info, &arg);
  if (!h) return NULL;
  if (h->closed) {
    napi_throw_error(env, "ERR_ENGINE_CLOSED", "engine: closed");
    return NULL;
  }
  pipeline_leg leg;
  engine_direction dir;
  if (!js_leg(env, arg, &leg, &dir)) return NULL;
  char err[200];
  if (!engine_start_leg(h->eng, &leg, dir, err, sizeof err)) {
    napi_throw_error(env, NULL, err);
    return NULL;
  }
  keep_alive(env, h, true);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

static napi_value engine_stop_js(napi_env env, napi_callback_info info) {
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  engine_stats s;
  if (h->closed || !engine_stop_leg(h->eng, &s)) return null_value(env);
  keep_alive(env, h, false);
  return js_stats(env, &s);
}

static napi_value engine_stats_js(napi_env env, napi_callback_info info) {
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  engine_stats s;
  if (h->closed || !engine_get_stats(h->eng, &s)) return null_value(env);
  return js_stats(env, &s);
}

static napi_value engine_press_js(napi_env env, napi_callback_info info) {
  napi_value arg, undefined;
  handle *h = unwrap(env, info, &arg);
  if (!h) return NULL;
  char key[4] = "";
  size_t len = 0;
  napi_valuetype t;
  napi_typeof(env, arg, &t);
  if (t == napi_string) napi_get_value_string_utf8(env, arg, key, sizeof key, &len);
  if (len != 1 || dtmf_key_to_event(key[0]) < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "dtmf: not a DTMF key (0-9, *, #, A-D)");
    return NULL;
  }
  if (!h->closed) engine_press_key(h->eng, key[0]);
  napi_get_undefined(env, &undefined);
  return undefined;
}

static napi_value engine_close_js(napi_env env, napi_callback_info info) {
  napi_value undefined;
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  napi_get_undefined(env, &undefined);
  if (h->closed) return undefined;
  engine_stats s;
  engine_stop_leg(h->eng, &s);
  h->closed = true;
  engine_close(h->eng);
  keep_alive(env, h, false);
  return undefined;
}

static napi_value engine_port_js(napi_env env, napi_callback_info info) {
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  napi_value v;
  NAPI_CALL(env, napi_create_int32(env, h->port, &v));
  return v;
}

static napi_value engine_direction_js(napi_env env, napi_callback_info info) {
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  int d = h->closed || !h->eng ? -1 : engine_direction_now(h->eng);
  if (d < 0) return null_value(env);
  static const char *names[] = {"both", "send", "receive"};
  napi_value v;
  NAPI_CALL(env, napi_create_string_utf8(env, names[d], NAPI_AUTO_LENGTH, &v));
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  capture_quiet_alsa();
  napi_property_descriptor methods[] = {
      {"start", NULL, engine_start_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"stop", NULL, engine_stop_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, engine_stats_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"pressKey", NULL, engine_press_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, engine_close_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"port", NULL, NULL, engine_port_js, NULL, NULL, napi_default, NULL},
      {"direction", NULL, NULL, engine_direction_js, NULL, NULL, napi_default, NULL},
  };
  napi_value cls, test;
  NAPI_CALL(env, napi_define_class(env, "Engine", NAPI_AUTO_LENGTH, engine_new_js, NULL,
                                   sizeof methods / sizeof methods[0], methods, &cls));
  NAPI_CALL(env, napi_set_named_property(env, exports, "Engine", cls));
  NAPI_CALL(env, napi_create_object(env, &test));
  if (register_jitter_test(env, test) != napi_ok) return NULL;
  if (register_wire_test(env, test) != napi_ok) return NULL;
  if (register_echo_test(env, test) != napi_ok) return NULL;
  if (register_pipeline_test(env, test) != napi_ok) return NULL;
  NAPI_CALL(env, napi_set_named_property(env, exports, "_test", test));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
