{
  # The device's media loop: libopus and libasound from the system (pkg-config; Debian
  # libopus-dev, libasound2-dev), OpenSSL's libcrypto from Node itself (its headers come
  # with Node's; SRTP's AES-CM and HMAC-SHA1). ../common holds the Node-API and ALSA helpers
  # the four addons share.
  "targets": [
    {
      "target_name": "babel_media",
      "sources": [
        "src/addon.c",
        "src/engine.c",
        "src/engine_loop.c",
        "src/pipeline.c",
        "src/capture.c",
        "src/capture_alsa.c",
        "src/js_options.c",
        "src/js_args.c",
        "src/js_leg.c",
        "src/js_events.c",
        "src/jitter.c",
        "src/jitter_sequence.c",
        "src/jitter_slots.c",
        "src/jitter_target.c",
        "src/jitter_level.c",
        "src/transit.c",
        "src/wire.c",
        "src/srtp.c",
        "src/test_jitter.c",
        "src/test_wire.c",
        "src/test_srtp.c",
        "src/test_pipeline.c",
        "src/echo.c",
        "src/echo_delay.c",
        "src/test_echo.c",
        "src/test_util.c",
        "../dsp/src/dsp_core.c",
        "../common/alsa_util.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration", "-pthread"],
      "include_dirs": [
        "../common",
        "<!@(pkg-config --cflags-only-I opus alsa speexdsp | sed 's/-I//g')"
      ],
      "libraries": ["<!@(pkg-config --libs opus alsa speexdsp)", "-pthread"]
    }
  ]
}
