/*
 * A JS object whose C state runs on a native thread of its own (not libuv's pool) and
 * reports to a JS callback through a thread-safe function: babel-alsa's Capture and
 * babel-media's Engine. Header only (static inline); include napi_util.h first.
 *
 * Lifetime: the state is shared by the JS object, the thread and the tsfn, each holding a
 * reference (nt_link.refs); the last one to let go frees it. The JS object being collected
 * stops the thread like close(). If the environment is torn down first (process exit), the
 * thread learns it from napi_closing under a lock the tsfn's finalizer also takes, and
 * never touches the tsfn again. The thread's last act is to queue its last event
 * (nt_exit); the JS thread joins it when that event is delivered (nt_join), or the thread
 * detaches itself when it cannot be delivered.
 *
 * The owner embeds an nt_link as its FIRST member, so that the link's address is the
 * owner's, and hands it to nt_init with the function that stops its thread when the JS
 * object is collected and the one that frees it. The constructor then calls nt_wrap and
 * nt_start.
 */
#ifndef BABEL_NAPI_THREAD_H
#define BABEL_NAPI_THREAD_H
#ifndef BABEL_NAPI_UTIL_H
#error "include napi_util.h before napi_thread.h"
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

typedef struct nt_link nt_link;

struct nt_link {
  atomic_int refs;
  pthread_t thread;
  napi_threadsafe_function tsfn;
  /* Thread side: tsfn_gone is set once the thread must not touch the tsfn any more. */
  pthread_mutex_t lock;
  bool tsfn_gone;
  /* JS thread only: the tsfn is not finalized yet; close() was called (or start failed). */
  bool js_tsfn_alive;
  bool closed;
  /* The JS object was collected (or the environment torn down): asks the thread to stop. */
  void (*stop)(nt_link *link);
  /* Frees the owner: called once, by whoever lets go of the last reference. */
  void (*destroy)(nt_link *link);
};

/* One reference, the JS object's. */
static inline void nt_init(nt_link *l, void (*stop)(nt_link *link),
                           void (*destroy)(nt_link *link)) {
  pthread_mutex_init(&l->lock, NULL);
  atomic_init(&l->refs, 1);
  l->stop = stop;
  l->destroy = destroy;
}

static inline void nt_unref(nt_link *l) {
  if (atomic_fetch_sub(&l->refs, 1) != 1) return;
  pthread_mutex_destroy(&l->lock);
  l->destroy(l);
}

/* ---- the thread ----------------------------------------------------------------------- */

/* Queues `data` for call_js; false if it was not queued (the caller frees it). */
static inline bool nt_post(nt_link *l, void *data) {
  bool queued = false;
  pthread_mutex_lock(&l->lock);
  if (!l->tsfn_gone) {
    napi_status s = napi_call_threadsafe_function(l->tsfn, data, napi_tsfn_nonblocking);
    if (s == napi_ok) queued = true;
    else if (s == napi_closing) l->tsfn_gone = true;
  }
  pthread_mutex_unlock(&l->lock);
  return queued;
}

/*
 * The thread's last act before its nt_unref: queues `last` (NULL: nothing), on whose
 * delivery the JS side joins the thread, and lets go of the tsfn. False if `last` was not
 * queued (the caller frees it): then the thread has detached itself.
 */
static inline bool nt_exit(nt_link *l, void *last) {
  bool queued = false;
  pthread_mutex_lock(&l->lock);
  if (!l->tsfn_gone) {
    if (last && napi_call_threadsafe_function(l->tsfn, last, napi_tsfn_nonblocking) == napi_ok) {
      queued = true;
    }
    napi_release_threadsafe_function(l->tsfn, napi_tsfn_release);
    l->tsfn_gone = true;
  }
  pthread_mutex_unlock(&l->lock);
  if (!queued) pthread_detach(pthread_self());
  return queued;
}

/* ---- the JS thread -------------------------------------------------------------------- */

/*
 * In call_js, on the thread's last event (it is about to return): joins it and returns
 * true, so that the caller gives back what only the thread used; with env NULL (the
 * environment is going away) detaches it and returns false.
 */
static inline bool nt_join(napi_env env, nt_link *l) {
  if (!env) {
    pthread_detach(l->thread);
    return false;
  }
  pthread_join(l->thread, NULL);
  return true;
}

/* In call_js: onEvent(kind, arg); nothing when env or js_cb is NULL (the environment is
 * going away) or arg is NULL (making it failed). An exception thrown by onEvent is left
 * pending: Node reports it as uncaught. */
static inline void nt_emit(napi_env env, napi_value js_cb, const char *kind, napi_value arg) {
  napi_value name, undefined;
  if (!env || !js_cb || !arg) return;
  if (napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_get_undefined(env, &undefined) != napi_ok) {
    return;
  }
  napi_value argv[2] = {name, arg};
  napi_call_function(env, undefined, js_cb, 2, argv, NULL);
}

/* The tsfn is destroyed (released by the thread, or the environment torn down). */
static inline void nt_tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  nt_link *l = data;
  pthread_mutex_lock(&l->lock);
  l->tsfn_gone = true;
  pthread_mutex_unlock(&l->lock);
  l->js_tsfn_alive = false;
  nt_unref(l);
}

/* The JS object was collected (or the environment torn down): stop and let go. */
static inline void nt_wrap_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  nt_link *l = data;
  l->stop(l);
  nt_unref(l);
}

/* In the constructor: `self` holds the JS object's reference from here. On failure that
 * reference is let go (the owner freed) and the error thrown: false. */
static inline bool nt_wrap(napi_env env, napi_value self, nt_link *l) {
  if (napi_wrap(env, self, l, nt_wrap_finalize, NULL, NULL) == napi_ok) return true;
  nt_unref(l);
  nu_throw_last_error(env);
  return false;
}

/*
 * From the constructor, once the JS object holds the owner (nt_wrap): the tsfn calling
 * `call_js` with `on_event` and the link as context, then the thread running `run(link)`
 * with every signal blocked (Node's handlers stay on Node's threads); the link is the
 * owner's first member, so both may take it as the owner. Each takes a reference.
 * False with an exception thrown (and `closed` set) if either cannot be made.
 */
static inline bool nt_start(napi_env env, nt_link *l, napi_value on_event, const char *resource,
                            napi_threadsafe_function_call_js call_js, void *(*run)(void *)) {
  napi_value name;
  if (napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name) != napi_ok) {
    nu_throw_last_error(env);
    return false;
  }
  atomic_fetch_add(&l->refs, 1); /* the tsfn's, dropped by nt_tsfn_finalize */
  if (napi_create_threadsafe_function(env, on_event, NULL, name, 0, 1, l, nt_tsfn_finalize, l,
                                      call_js, &l->tsfn) != napi_ok) {
    atomic_fetch_sub(&l->refs, 1);
    l->closed = true;
    nu_throw_last_error(env);
    return false;
  }
  l->js_tsfn_alive = true;

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  atomic_fetch_add(&l->refs, 1); /* the thread's */
  int err = pthread_create(&l->thread, NULL, run, l);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (err != 0) {
    atomic_fetch_sub(&l->refs, 1);
    l->closed = true;
    l->tsfn_gone = true;
    napi_release_threadsafe_function(l->tsfn, napi_tsfn_abort);
    char msg[120];
    snprintf(msg, sizeof msg, "pthread_create: %s", strerror(err));
    napi_throw_error(env, NULL, msg);
    return false;
  }
  return true;
}

#endif
