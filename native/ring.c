// blackbox ring addon: maps a file into memory with MAP_SHARED and hands it to
// JavaScript as an external ArrayBuffer. Pages of a MAP_SHARED file mapping belong to
// the page cache, not to the process, so bytes stored into them survive SIGKILL exactly
// as bytes passed to write(2) do (see mmap(2)); msync(2) is only needed against power
// loss, which this addon does not promise. Nothing else is exposed.
#include <node_api.h>
#include <stdint.h>
#include <sys/mman.h>

static void unmap_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value throw_error(napi_env env, const char* message) {
  napi_throw_error(env, "ERR_BLACKBOX_RING_MAP", message);
  return NULL;
}

// map(fd, length): an ArrayBuffer over bytes [0, length) of the open file `fd`, which must
// be at least `length` bytes long. The mapping stays valid after `fd` is closed and is
// unmapped when the ArrayBuffer is collected.
static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    return throw_error(env, "map(fd, length) takes two arguments");
  }
  int32_t fd;
  int64_t length;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    return throw_error(env, "map(fd, length): fd must be a non-negative integer");
  }
  if (napi_get_value_int64(env, argv[1], &length) != napi_ok || length <= 0) {
    return throw_error(env, "map(fd, length): length must be a positive integer");
  }
  void* address = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) return throw_error(env, "mmap(2) failed");
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, address, (size_t)length, unmap_finalize,
                                       (void*)(uintptr_t)length, &buffer) != napi_ok) {
    munmap(address, (size_t)length);
    return throw_error(env, "could not wrap the mapping in an ArrayBuffer");
  }
  return buffer;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "map", NAPI_AUTO_LENGTH, map, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "map", fn) != napi_ok) return NULL;
  return exports;
}
