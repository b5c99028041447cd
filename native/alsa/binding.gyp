{
  # Links the system's libasound, found with pkg-config (Debian: libasound2-dev).
  "targets": [
    {
      "target_name": "babel_alsa",
      "sources": ["src/alsa_addon.c", "../common/alsa_util.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=c11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration", "-pthread"],
      "include_dirs": ["../common", "<!@(pkg-config --cflags-only-I alsa | sed 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs alsa)", "-pthread"]
    }
  ]
}
