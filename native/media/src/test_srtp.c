/*
 * Test-only bindings of srtp.c under `_test` (test/native/media/wire-srtp.test.ts runs them
 * beside the TypeScript they port): SrtpSender, SrtpReceiver, and the RFC 3711 B.2/B.3 hooks
 * srtpKeystream and srtpDerive. Bad arguments throw TypeError or RangeError. Registered by
 * test_wire.c's register_wire_test().
 */
#include <stdlib.h>

#include "test_wire_util.h"
#include "wire.h"

/* srtp.c's test hooks (not part of wire.h). */
bool srtp_test_keystream(const uint8_t key[16], const uint8_t iv[16], uint8_t *out, size_t len);
bool srtp_test_derive(const uint8_t master[SRTP_MASTER_BYTES], uint8_t label, uint8_t *out,
                      size_t len);
void srtp_test_stats(const srtp_receiver *r, double *ok, double *auth, double *replay,
                     double *malformed);

static bool get_master(napi_env env, napi_value v, uint8_t **master) {
  size_t len;
  if (!get_buffer(env, v, "master", master, &len)) return false;
  if (len != SRTP_MASTER_BYTES) {
    napi_throw_range_error(env, NULL, "master must be 30 bytes (16 key, 14 salt)");
    return false;
  }
  return true;
}

static void srtp_sender_finalizer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  srtp_sender_free(data);
}
static void srtp_receiver_finalizer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  srtp_receiver_free(data);
}

static napi_value js_srtp_sender_new(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  uint8_t *master;
  if (self == NULL || !get_master(env, argv[0], &master)) return NULL;
  srtp_sender *s = srtp_sender_new(master);
  if (s == NULL) {
    napi_throw_error(env, NULL, "SRTP: OpenSSL failed to set up the session keys");
    return NULL;
  }
  if (napi_wrap(env, self, s, srtp_sender_finalizer, NULL, NULL) != napi_ok) {
    srtp_sender_free(s);
    napi_throw_error(env, NULL, "napi_wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_srtp_protect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  srtp_sender *s = self ? unwrap(env, self) : NULL;
  uint8_t *rtp;
  size_t len;
  if (s == NULL || !get_buffer(env, argv[0], "rtp", &rtp, &len)) return NULL;
  napi_value out;
  void *data;
  CALL(env, napi_create_buffer(env, len + SRTP_TAG_BYTES, &data, &out));
  if (srtp_protect(s, rtp, len, data, len + SRTP_TAG_BYTES) == 0) {
    napi_throw_type_error(env, NULL, "SRTP protect: not an RTP version 2 packet");
    return NULL;
  }
  return out;
}

static napi_value js_srtp_receiver_new(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  uint8_t *master;
  if (self == NULL || !get_master(env, argv[0], &master)) return NULL;
  srtp_receiver *r = srtp_receiver_new(master);
  if (r == NULL) {
    napi_throw_error(env, NULL, "SRTP: OpenSSL failed to set up the session keys");
    return NULL;
  }
  if (napi_wrap(env, self, r, srtp_receiver_finalizer, NULL, NULL) != napi_ok) {
    srtp_receiver_free(r);
    napi_throw_error(env, NULL, "napi_wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_srtp_unprotect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_value self = args(env, info, 1, argv);
  srtp_receiver *r = self ? unwrap(env, self) : NULL;
  uint8_t *in;
  size_t len;
  if (r == NULL || !get_buffer(env, argv[0], "srtp", &in, &len)) return NULL;
  uint8_t *out = malloc(len > 0 ? len : 1); /* test binding: per call is fine */
  if (out == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  size_t n = 0;
  srtp_result res = srtp_unprotect(r, in, len, out, len, &n);
  napi_value v;
  if (res == SRTP_OK) {
    v = buffer_copy(env, out, n);
  } else {
    const char *why = res == SRTP_AUTH ? "auth" : res == SRTP_REPLAY ? "replay" : "malformed";
    if (napi_create_string_utf8(env, why, NAPI_AUTO_LENGTH, &v) != napi_ok) v = NULL;
  }
  free(out);
  return v;
}

static napi_value js_srtp_receiver_stats(napi_env env, napi_callback_info info) {
  napi_value self = args(env, info, 0, NULL);
  srtp_receiver *r = self ? unwrap(env, self) : NULL;
  if (r == NULL) return NULL;
  double ok, auth, replay, malformed, auth2, replay2;
  srtp_test_stats(r, &ok, &auth, &replay, &malformed);
  srtp_receiver_counts(r, &auth2, &replay2); /* the engine's view: the same two counts */
  if (auth2 != auth || replay2 != replay) {
    napi_throw_error(env, NULL, "srtp_receiver_counts disagrees with the stats");
    return NULL;
  }
  napi_value o;
  CALL(env, napi_create_object(env, &o));
  set(env, o, "ok", number(env, ok));
  set(env, o, "auth", number(env, auth));
  set(env, o, "replay", number(env, replay));
  set(env, o, "malformed", number(env, malformed));
  return o;
}

/* srtpKeystream(key: Buffer(16), iv: Buffer(16), length): the AES-CM keystream (B.2). */
static napi_value js_srtp_keystream(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  args(env, info, 3, argv);
  uint8_t *key, *iv;
  size_t klen, ivlen;
  double len;
  if (!get_buffer(env, argv[0], "key", &key, &klen) || !get_buffer(env, argv[1], "iv", &iv, &ivlen) ||
      !get_uint(env, argv[2], "length", 16.0 * 65536, -1, &len))
    return NULL;
  if (klen != 16 || ivlen != 16) {
    napi_throw_range_error(env, NULL, "key and iv must be 16 bytes");
    return NULL;
  }
  napi_value out;
  void *data;
  CALL(env, napi_create_buffer(env, (size_t)len, &data, &out));
  if (!srtp_test_keystream(key, iv, data, (size_t)len)) {
    napi_throw_error(env, NULL, "AES-CM failed");
    return NULL;
  }
  return out;
}

/* srtpDerive(master: Buffer(30), label, length): one session key (B.3). */
static napi_value js_srtp_derive(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  args(env, info, 3, argv);
  uint8_t *master;
  double label, len;
  if (!get_master(env, argv[0], &master) || !get_uint(env, argv[1], "label", 255, -1, &label) ||
      !get_uint(env, argv[2], "length", 4096, -1, &len))
    return NULL;
  napi_value out;
  void *data;
  CALL(env, napi_create_buffer(env, (size_t)len, &data, &out));
  if (!srtp_test_derive(master, (uint8_t)label, data, (size_t)len)) {
    napi_throw_error(env, NULL, "key derivation failed");
    return NULL;
  }
  return out;
}

/* ---- registration ---- */

napi_status register_srtp_test(napi_env env, napi_value test) {
  static const napi_property_descriptor srtp_sender_props[] = {
      METHOD("protect", js_srtp_protect),
  };
  static const napi_property_descriptor srtp_receiver_props[] = {
      METHOD("unprotect", js_srtp_unprotect),
      GETTER("stats", js_srtp_receiver_stats),
  };
  napi_status st;
  if ((st = add_function(env, test, "srtpKeystream", js_srtp_keystream)) != napi_ok ||
      (st = add_function(env, test, "srtpDerive", js_srtp_derive)) != napi_ok ||
      (st = add_class(env, test, "SrtpSender", js_srtp_sender_new, 1, srtp_sender_props)) != napi_ok ||
      (st = add_class(env, test, "SrtpReceiver", js_srtp_receiver_new, 2, srtp_receiver_props)) != napi_ok)
    return st;
  return napi_ok;
}
