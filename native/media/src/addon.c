/*
 * babel-media: the device's per-frame media loop on a native thread (engine.h), and the
 * `_test` bindings of its pure parts. The JS contract is index.d.ts.
 *
 * Lifetime: the rules of ../../common/napi_thread.h, which babel-alsa's Capture follows too
 * (the JS object, the engine thread and the thread-safe function each hold a reference;
 * the JS object being collected stops the thread like close()). The tsfn is referenced
 * only while a leg runs, and from close() until its 'close' is delivered: an idle engine
 * never keeps the process alive.
 */
#include <errno.h>
#include <math.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "js_util.h"
#include "napi_thread.h"
#include "test_exports.h"

typedef struct {
  nt_link link; /* first: the JS object's, the thread's and the tsfn's references */
  engine *eng;
  /* JS thread only. */
  bool tsfn_refd;
  int port;
} handle;

/* The JS object was collected (nt_wrap_finalize). */
static void handle_collected(nt_link *link) {
  handle *h = (handle *)link;
  if (!link->closed && h->eng) engine_close(h->eng);
}

/* The last reference let go (nt_unref). */
static void handle_destroy(nt_link *link) {
  handle *h = (handle *)link;
  engine_free(h->eng);
  free(h);
}

/* ---- the engine thread ---------------------------------------------------------------- */

/* Queues a copy of `ev` for the JS thread (dropped if the environment is going away). */
static void post(void *ctx, const engine_event *ev) {
  handle *h = ctx;
  engine_event *copy = malloc(sizeof *copy);
  if (!copy) return;
  *copy = *ev;
  if (!nt_post(&h->link, copy)) free(copy);
}

static void *engine_thread(void *arg) {
  handle *h = arg;
  pthread_setname_np(pthread_self(), "babel-media");
  engine_run(h->eng);
  /* The JS side joins this thread when it receives 'close'. */
  engine_event *ev = calloc(1, sizeof *ev);
  if (ev) ev->kind = ENGINE_EV_CLOSE;
  if (!nt_exit(&h->link, ev)) free(ev);
  nt_unref(&h->link);
  return NULL;
}

/* ---- the JS thread -------------------------------------------------------------------- */

/* Runs on the JS thread for each queued event (env NULL: the environment is going away). */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  handle *h = context;
  engine_event *ev = data;
  /* The thread queued 'close' as its last act. Once it is joined, the socket and the rest
     go now, not when the JS object is collected. */
  if (ev->kind == ENGINE_EV_CLOSE && nt_join(env, &h->link)) {
    engine_free(h->eng);
    h->eng = NULL;
  }
  if (env && js_cb) nt_emit(env, js_cb, js_event_name(ev->kind), js_event_arg(env, ev));
  free(ev);
}


/* Only a leg (or a close under way) keeps the process alive. */
static void keep_alive(napi_env env, handle *h, bool on) {
  if (!h->link.js_tsfn_alive || h->tsfn_refd == on) return;
  if (on) napi_ref_threadsafe_function(env, h->link.tsfn);
  else napi_unref_threadsafe_function(env, h->link.tsfn);
  h->tsfn_refd = on;
}

static napi_value engine_new_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL}, self;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (!nu_require_construct_call(env, info, "Engine")) return NULL;
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
  nt_init(&h->link, handle_collected, handle_destroy); /* the JS object's reference */
  char err[300];
  int err_no = 0;
  h->eng = engine_new(&cfg, post, h, err, sizeof err, &err_no);
  if (!h->eng) {
    nt_unref(&h->link);
    js_throw_errno(env, err, err_no);
    return NULL;
  }
  h->port = engine_port(h->eng);
  if (!nt_wrap(env, self, &h->link)) return NULL;
  if (!nt_start(env, &h->link, argv[1], "babel-media engine", call_js, engine_thread)) {
    return NULL;
  }
  /* Created referenced: an idle engine lets go of the event loop. */
  h->tsfn_refd = true;
  keep_alive(env, h, false);
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

static napi_value engine_start_js(napi_env env, napi_callback_info info) {
  napi_value arg;
  handle *h = unwrap(env, info, &arg);
  if (!h) return NULL;
  if (h->link.closed) {
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
  return nu_undefined(env);
}

static napi_value engine_stop_js(napi_env env, napi_callback_info info) {
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  engine_stats s;
  if (h->link.closed || !engine_stop_leg(h->eng, &s)) return nu_null(env);
  keep_alive(env, h, false);
  return js_stats(env, &s);
}

static napi_value engine_stats_js(napi_env env, napi_callback_info info) {
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  engine_stats s;
  if (h->link.closed || !engine_get_stats(h->eng, &s)) return nu_null(env);
  return js_stats(env, &s);
}

static napi_value engine_press_js(napi_env env, napi_callback_info info) {
  napi_value arg;
  handle *h = unwrap(env, info, &arg);
  if (!h) return NULL;
  char key[4] = "";
  size_t len = 0;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, arg, &t);
  if (t == napi_string) napi_get_value_string_utf8(env, arg, key, sizeof key, &len);
  if (len != 1 || dtmf_key_to_event(key[0]) < 0) {
    return nu_throw_range(env, "dtmf: not a DTMF key (0-9, *, #, A-D)");
  }
  if (!h->link.closed) engine_press_key(h->eng, key[0]);
  return nu_undefined(env);
}

static napi_value engine_set_playback_js(napi_env env, napi_callback_info info) {
  napi_value arg;
  handle *h = unwrap(env, info, &arg);
  if (!h) return NULL;
  engine_playback p;
  if (!js_playback(env, arg, "playback.", &p)) return NULL;
  if (h->link.closed || !h->eng) return nu_undefined(env); /* a closed engine writes nowhere */
  char err[200];
  int err_no = 0;
  if (!engine_set_playback(h->eng, &p, err, sizeof err, &err_no)) {
    js_throw_errno(env, err, err_no);
    return NULL;
  }
  return nu_undefined(env);
}

static napi_value engine_set_volume_js(napi_env env, napi_callback_info info) {
  napi_value arg, v;
  handle *h = unwrap(env, info, &arg);
  double volume;
  if (!h || !js_number_arg(env, arg, "volume", &volume)) return NULL;
  double now = h->link.closed || !h->eng ? 0 : engine_set_speaker_volume(h->eng, volume);
  NAPI_CALL(env, napi_create_double(env, now, &v));
  return v;
}

static napi_value engine_set_mic_gain_js(napi_env env, napi_callback_info info) {
  napi_value arg;
  handle *h = unwrap(env, info, &arg);
  double db;
  if (!h || !js_number_arg(env, arg, "micGainDb", &db)) return NULL;
  if (!isfinite(db)) {
    return nu_throw_range(env, "micGainDb must be a finite number");
  }
  if (!h->link.closed && h->eng) engine_set_mic_gain_db(h->eng, db);
  return nu_undefined(env);
}

static napi_value engine_close_js(napi_env env, napi_callback_info info) {
  handle *h = unwrap(env, info, NULL);
  if (!h) return NULL;
  if (h->link.closed) return nu_undefined(env);
  engine_stats s;
  engine_stop_leg(h->eng, &s);
  h->link.closed = true;
  engine_close(h->eng);
  /* Alive until 'close' is delivered (the thread ends at once; its release of the tsfn then
   * lets go), so that a caller awaiting it is never left with an event loop that ran dry. */
  keep_alive(env, h, true);
  return nu_undefined(env);
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
  int d = h->link.closed || !h->eng ? -1 : engine_direction_now(h->eng);
  if (d < 0) return nu_null(env);
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
      {"setPlayback", NULL, engine_set_playback_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"setSpeakerVolume", NULL, engine_set_volume_js, NULL, NULL, NULL, napi_default_method,
       NULL},
      {"setMicGainDb", NULL, engine_set_mic_gain_js, NULL, NULL, NULL, napi_default_method,
       NULL},
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
