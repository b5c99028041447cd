/*
 * Test-only bindings of srtp.c under `_test` (test/native/media/wire-srtp.test.ts runs them
 * beside the TypeScript they port): SrtpSender, SrtpReceiver, and the RFC 3711 B.2/B.3 hooks
 * srtpKeystream and srtpDerive. Bad arguments throw TypeError or RangeError. Registered by
 * test_wire.c's register_wire_test().
 */
#include <stdlib.h>

#include "test_exports.h"
#include "test_util.h"
#include "wire.h"

/* srtp.c's test hooks (not part of wire.h). */
bool srtp_test_keystream(const uint8_t key[16], const uint8_t iv[16], uint8_t *out, size_t len);
bool srtp_test_derive(const uint8_t master[SRTP_MASTER_BYTES], uint8_t label, uint8_t *out,
                      size_t len);
void srtp_test_stats(const srtp_receiver *r, double *ok, double *auth, double *replay,
                     double *malformed);

TEST_FINALIZER(srtp_sender_finalize, srtp_sender_free)
TEST_FINALIZER(srtp_receiver_finalize, srtp_receiver_free)

static bool get_master(napi_env env, napi_value v, uint8_t **master) {
  size_t len;
  if (!test_buffer(env, v, "master must be a Buffer", master, &len)) return false;
  if (len != SRTP_MASTER_BYTES) {
    napi_throw_range_error(env, NULL, "master must be 30 bytes (16 key, 14 salt)");
    return false;
  }
  return true;
}

/* new SrtpSender(master) / new SrtpReceiver(master): `this`, and the master key. */
static napi_value session_args(napi_env env, napi_callback_info info, uint8_t **master) {
  napi_value argv[1];
  napi_value self = test_new(env, info, 1, argv, NULL);
  return self && get_master(env, argv[0], master) ? self : NULL;
}

/* The session made from the master key (NULL: OpenSSL refused it) in `self`. */
static napi_value wrap_session(napi_env env, napi_value self, void *session,
                               napi_finalize finalize) {
  if (session == NULL) {
    napi_throw_error(env, NULL, "SRTP: OpenSSL failed to set up the session keys");
    return NULL;
  }
  return test_wrap(env, self, session, finalize);
}

static napi_value js_srtp_sender_new(napi_env env, napi_callback_info info) {
  uint8_t *master;
  napi_value self = session_args(env, info, &master);
  return self ? wrap_session(env, self, srtp_sender_new(master), srtp_sender_finalize) : NULL;
}

static napi_value js_srtp_receiver_new(napi_env env, napi_callback_info info) {
  uint8_t *master;
  napi_value self = session_args(env, info, &master);
  return self ? wrap_session(env, self, srtp_receiver_new(master), srtp_receiver_finalize) : NULL;
}

static napi_value js_srtp_protect(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  srtp_sender *s = test_this(env, info, 1, argv, NULL);
  uint8_t *rtp;
  size_t len;
  void *data;
  if (s == NULL || !test_buffer(env, argv[0], "rtp must be a Buffer", &rtp, &len)) return NULL;
  NAPI_CALL(env, napi_create_buffer(env, len + SRTP_TAG_BYTES, &data, &out));
  if (srtp_protect(s, rtp, len, data, len + SRTP_TAG_BYTES) == 0) {
    napi_throw_type_error(env, NULL, "SRTP protect: not an RTP version 2 packet");
    return NULL;
  }
  return out;
}

/* unprotect(srtp): the RTP packet, or why not: 'auth' | 'replay' | 'malformed'. */
static napi_value js_srtp_unprotect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  srtp_receiver *r = test_this(env, info, 1, argv, NULL);
  uint8_t *in;
  size_t len;
  if (r == NULL || !test_buffer(env, argv[0], "srtp must be a Buffer", &in, &len)) return NULL;
  uint8_t *out = test_alloc(env, len > 0 ? len : 1); /* test binding: per call is fine */
  if (out == NULL) return NULL;
  size_t n = 0;
  srtp_result res = srtp_unprotect(r, in, len, out, len, &n);
  napi_value v = res == SRTP_OK       ? test_copy(env, out, n)
                 : res == SRTP_AUTH   ? test_str(env, "auth")
                 : res == SRTP_REPLAY ? test_str(env, "replay")
                                      : test_str(env, "malformed");
  free(out);
  return v;
}

static napi_value js_srtp_receiver_stats(napi_env env, napi_callback_info info) {
  srtp_receiver *r = test_this(env, info, 0, NULL, NULL);
  if (r == NULL) return NULL;
  double ok, auth, replay, malformed, auth2, replay2;
  srtp_test_stats(r, &ok, &auth, &replay, &malformed);
  srtp_receiver_counts(r, &auth2, &replay2); /* the engine's view: the same two counts */
  if (auth2 != auth || replay2 != replay) {
    napi_throw_error(env, NULL, "srtp_receiver_counts disagrees with the stats");
    return NULL;
  }
  const test_field stats[] = {TEST_NUM("ok", ok), TEST_NUM("auth", auth),
                              TEST_NUM("replay", replay), TEST_NUM("malformed", malformed)};
  return TEST_OBJECT(env, stats);
}

/* srtpKeystream(key: Buffer(16), iv: Buffer(16), length): the AES-CM keystream (B.2). */
static napi_value js_srtp_keystream(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  uint8_t *key, *iv;
  size_t klen, ivlen;
  double len;
  void *data;
  if (!test_args(env, info, 3, argv) ||
      !test_buffer(env, argv[0], "key must be a Buffer", &key, &klen) ||
      !test_buffer(env, argv[1], "iv must be a Buffer", &iv, &ivlen) ||
      !test_uint(env, argv[2], "length", 16.0 * 65536, -1, &len))
    return NULL;
  if (klen != 16 || ivlen != 16) {
    napi_throw_range_error(env, NULL, "key and iv must be 16 bytes");
    return NULL;
  }
  NAPI_CALL(env, napi_create_buffer(env, (size_t)len, &data, &out));
  if (!srtp_test_keystream(key, iv, data, (size_t)len)) {
    napi_throw_error(env, NULL, "AES-CM failed");
    return NULL;
  }
  return out;
}

/* srtpDerive(master: Buffer(30), label, length): one session key (B.3). */
static napi_value js_srtp_derive(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  uint8_t *master;
  double label, len;
  void *data;
  if (!test_args(env, info, 3, argv) || !get_master(env, argv[0], &master) ||
      !test_uint(env, argv[1], "label", 255, -1, &label) ||
      !test_uint(env, argv[2], "length", 4096, -1, &len))
    return NULL;
  NAPI_CALL(env, napi_create_buffer(env, (size_t)len, &data, &out));
  if (!srtp_test_derive(master, (uint8_t)label, data, (size_t)len)) {
    napi_throw_error(env, NULL, "key derivation failed");
    return NULL;
  }
  return out;
}

/* ---- registration ---- */

napi_status register_srtp_test(napi_env env, napi_value test) {
  static const napi_property_descriptor sender[] = {TEST_METHOD("protect", js_srtp_protect)};
  static const napi_property_descriptor receiver[] = {
      TEST_METHOD("unprotect", js_srtp_unprotect), TEST_GETTER("stats", js_srtp_receiver_stats),
  };
  static const test_export exports[] = {
      TEST_FUNCTION("srtpKeystream", js_srtp_keystream),
      TEST_FUNCTION("srtpDerive", js_srtp_derive),
      TEST_CLASS("SrtpSender", js_srtp_sender_new, sender),
      TEST_CLASS("SrtpReceiver", js_srtp_receiver_new, receiver),
  };
  return TEST_REGISTER(env, test, exports);
}
