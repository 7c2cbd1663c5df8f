{
  # One product build. Two targets share the netlink core (the pure codec
  # netlink.cc, whose reply loop both read ACKs through, and nlsocket.cc): the
  # Node addon and the guard executable that fences the VIP outside the JS
  # thread (see docs/architecture.md).
  "target_defaults": {
    "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter",
                   "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fno-strict-aliasing" ],
    "cflags_cc!": [ "-fno-exceptions", "-std=gnu++17" ],
    "ldflags": [ "-Wl,-z,relro", "-Wl,-z,now" ],
  },
  "targets": [
    {
      "target_name": "vip_announcer",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/netns.cc",
        "native/netlink.cc",
        "native/nlsocket.cc",
        "native/netlink_binding.cc",
        "native/request_fields.cc",
        "native/monitor.cc",
        "native/frames.cc",
        "native/frames_binding.cc",
        "native/capture_filter.cc",
        "native/fd_watch.cc",
        "native/packet.cc",
        "native/flock.cc",
        "native/lifeline.cc"
      ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: a worker terminated inside an addon call
      # makes napi calls fail while its environment shuts down; without it node-addon-api
      # throws a C++ exception it cannot turn into a JS one, and the process aborts.
      "defines": [ "NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS",
                   "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS" ],
      "cflags!": [ "-fno-exceptions" ]
    },
    {
      "target_name": "vip_guard",
      "type": "executable",
      "sources": [
        "native/guard/guard.cc",
        "native/guard/take.cc",
        "native/guard/lock_record.cc",
        "native/guard/lock_wait.cc",
        "native/netns.cc",
        "native/netlink.cc",
        "native/nlsocket.cc"
      ],
      "ldflags": [ "-pthread" ],
      "cflags!": [ "-fno-exceptions" ]
    }
  ]
}
