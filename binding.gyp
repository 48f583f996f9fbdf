{
  "targets": [
    {
      "target_name": "blackbox_ring",
      "sources": ["native/ring.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS=='win'", { "type": "none", "sources!": ["native/ring.c"] }]]
    }
  ]
}
