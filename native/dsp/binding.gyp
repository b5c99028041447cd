{
  # Links the system's speexdsp, found with pkg-config (Debian: libspeexdsp-dev). No bundled
  # DSP source: the distribution builds libspeexdsp for each architecture. src/dsp_core.c is
  # also compiled into babel-media (native/media/binding.gyp).
  "targets": [
    {
      "target_name": "babel_dsp",
      "sources": ["src/dsp_addon.c", "src/dsp_core.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=c11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "include_dirs": ["../common", "<!@(pkg-config --cflags-only-I speexdsp | sed 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs speexdsp)"]
    }
  ]
}
