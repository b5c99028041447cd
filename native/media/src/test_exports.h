/* Test-only bindings of the pure parts, under the addon's `_test` export: each module
 * registers its own (test_jitter.c, test_wire.c, ...; their shared glue: test_util.h). Not
 * part of the engine's API. */
#ifndef BABEL_TEST_EXPORTS_H
#define BABEL_TEST_EXPORTS_H
#include <node_api.h>

/* `_test.Jitter`, `_test.Transit`. */
napi_status register_jitter_test(napi_env env, napi_value test);
/* `_test.rtpParse`, `_test.RtpSender`, `_test.DtmfSender`, `_test.DtmfReceiver`,
 * `_test.parseTelephoneEvent`, and register_srtp_test()'s. */
napi_status register_wire_test(napi_env env, napi_value test);
/* `_test.SrtpSender`, `_test.SrtpReceiver`, `_test.srtpKeystream`, `_test.srtpDerive`
 * (test_srtp.c); register_wire_test() calls it. */
napi_status register_srtp_test(napi_env env, napi_value test);
/* `_test.Echo` (test_echo.c). */
napi_status register_echo_test(napi_env env, napi_value test);

#endif
