{
  # Links the system's libopus, found with pkg-config (Debian: libopus-dev). No bundled
  # codec source: the distribution builds and patches libopus for each architecture.
  "targets": [
    {
      "target_name": "babel_opus",
      "sources": ["src/opus_addon.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=c11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "include_dirs": ["../common", "<!@(pkg-config --cflags-only-I opus | sed 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs opus)"]
    }
  ]
}
