# The bvs native addon: a thin node-addon-api layer over system libbpf (Debian libbpf-dev 1.1)
# and a few syscalls. Build with: node-gyp rebuild --directory=addon --nodedir=/usr
{
  "targets": [
    {
      "target_name": "bvs_addon",
      "sources": [
        "src/module.cc",
        "src/errors.cc",
        "src/args.cc",
        "src/mapcache.cc",
        "src/object.cc",
        "src/maps.cc",
        "src/tcx.cc",
        "src/ring.cc",
        "src/packet.cc",
        "src/netif.cc",
        "src/prog.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "include_dirs": ["../bpf/include"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc": ["-std=gnu++17"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
