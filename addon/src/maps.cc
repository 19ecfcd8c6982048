// maps.cc: element and batch operations on BPF maps, one bpf(2) command each.
//
// Sizes: every buffer is checked against the map's key/value size (mapcache.h) before the
// kernel sees it. Inputs (a key, a value to write) must be exactly the size; outputs (a value
// to fill, a next key, batch arrays) must be at least the size. For per-CPU maps a value is
// round_up(valueSize, 8) * numPossibleCpus() bytes, one slot per possible CPU.
//
// "Absent" is not an error: lookup/delete/getNextKey return false on ENOENT.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "mapcache.h"

namespace bvs {

namespace {

constexpr uint64_t kMaxFlags = UINT32_MAX;

Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  const char* op = "bpf_map_lookup_elem";
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "mapLookup", "fd");
  Bytes key = ArgBytes(info, 1, "mapLookup", "key");
  Bytes value = ArgBytes(info, 2, "mapLookup", "value");
  MapSizes s = GetMapSizes(env, fd, op);
  RequireLenEq(env, key, s.keySize, "mapLookup", "key");
  RequireLenAtLeast(env, value, s.userValueSize, "mapLookup", "value");
  if (bpf_map_lookup_elem(fd, key.data, value.data) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, op, errno);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  const char* op = "bpf_map_update_elem";
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "mapUpdate", "fd");
  Bytes key = ArgBytes(info, 1, "mapUpdate", "key");
  Bytes value = ArgBytes(info, 2, "mapUpdate", "value");
  uint64_t flags = ArgUint(info, 3, "mapUpdate", "flags", 0, kMaxFlags);
  MapSizes s = GetMapSizes(env, fd, op);
  RequireLenEq(env, key, s.keySize, "mapUpdate", "key");
  RequireLenEq(env, value, s.userValueSize, "mapUpdate", "value");
  if (bpf_map_update_elem(fd, key.data, value.data, flags) != 0) ThrowErrno(env, op, errno);
  return env.Undefined();
}

Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  const char* op = "bpf_map_delete_elem";
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "mapDelete", "fd");
  Bytes key = ArgBytes(info, 1, "mapDelete", "key");
  MapSizes s = GetMapSizes(env, fd, op);
  RequireLenEq(env, key, s.keySize, "mapDelete", "key");
  if (bpf_map_delete_elem(fd, key.data) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, op, errno);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value MapGetNextKey(const Napi::CallbackInfo& info) {
  const char* op = "bpf_map_get_next_key";
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "mapGetNextKey", "fd");
  Bytes key = ArgBytesOrNull(info, 1, "mapGetNextKey", "key");
  Bytes next = ArgBytes(info, 2, "mapGetNextKey", "next");
  MapSizes s = GetMapSizes(env, fd, op);
  if (key.present) RequireLenEq(env, key, s.keySize, "mapGetNextKey", "key");
  RequireLenAtLeast(env, next, s.keySize, "mapGetNextKey", "next");
  if (bpf_map_get_next_key(fd, key.present ? key.data : nullptr, next.data) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, op, errno);
  }
  return Napi::Boolean::New(env, true);
}

// A failed update/delete batch: the error carries `count`, the entries done before the failure.
// The kernel writes count back only once it has started on the elements; a failure before that
// (bad flags, EFAULT) leaves our input value, which then means "none done".
Napi::Error BatchError(Napi::Env env, const char* op, int err, uint32_t n, uint32_t asked) {
  Napi::Error e = MakeErrnoError(env, op, err);
  e.Value().Set("count", Napi::Number::New(env, (err == EFAULT || n >= asked) ? 0 : n));
  return e;
}

// The batch position token: hash maps use a u32 bucket index, array-like maps a key.
uint32_t BatchTokenSize(const MapSizes& s) { return std::max<uint32_t>(s.keySize, 4); }

Napi::Value MapLookupBatch(const Napi::CallbackInfo& info) {
  const char* op = "bpf_map_lookup_batch";
  const char* fn = "mapLookupBatch";
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, fn, "fd");
  Bytes inBatch = ArgBytesOrNull(info, 1, fn, "inBatch");
  Bytes outBatch = ArgBytes(info, 2, fn, "outBatch");
  Bytes keys = ArgBytes(info, 3, fn, "keys");
  Bytes values = ArgBytes(info, 4, fn, "values");
  uint32_t count = static_cast<uint32_t>(ArgUint(info, 5, fn, "count", 0, UINT32_MAX));
  MapSizes s = GetMapSizes(env, fd, op);
  uint32_t tok = BatchTokenSize(s);
  if (inBatch.present) RequireLenAtLeast(env, inBatch, tok, fn, "inBatch");
  RequireLenAtLeast(env, outBatch, tok, fn, "outBatch");
  RequireLenAtLeast(env, keys, static_cast<uint64_t>(count) * s.keySize, fn, "keys");
  RequireLenAtLeast(env, values, static_cast<uint64_t>(count) * s.userValueSize, fn, "values");

  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t n = count;
  bool done = false;
  if (bpf_map_lookup_batch(fd, inBatch.present ? inBatch.data : nullptr, outBatch.data,
                           keys.data, values.data, &n, &opts) != 0) {
    // ENOENT: the walk reached the end; n holds what this call read.
    if (errno != ENOENT) ThrowErrno(env, op, errno);
    done = true;
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("count", Napi::Number::New(env, n));
  r.Set("done", Napi::Boolean::New(env, done));
  return r;
}

Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  const char* op = "bpf_map_update_batch";
  const char* fn = "mapUpdateBatch";
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, fn, "fd");
  Bytes keys = ArgBytes(info, 1, fn, "keys");
  Bytes values = ArgBytes(info, 2, fn, "values");
  uint32_t count = static_cast<uint32_t>(ArgUint(info, 3, fn, "count", 0, UINT32_MAX));
  uint64_t flags = ArgUint(info, 4, fn, "flags", 0, kMaxFlags);
  MapSizes s = GetMapSizes(env, fd, op);
  RequireLenAtLeast(env, keys, static_cast<uint64_t>(count) * s.keySize, fn, "keys");
  RequireLenAtLeast(env, values, static_cast<uint64_t>(count) * s.userValueSize, fn, "values");
  if (count == 0) return Napi::Number::New(env, 0);
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
  uint32_t n = count;
  if (bpf_map_update_batch(fd, keys.data, values.data, &n, &opts) != 0) {
    throw BatchError(env, op, errno, n, count);
  }
  return Napi::Number::New(env, n);
}

Napi::Value MapDeleteBatch(const Napi::CallbackInfo& info) {
  const char* op = "bpf_map_delete_batch";
  const char* fn = "mapDeleteBatch";
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, fn, "fd");
  Bytes keys = ArgBytes(info, 1, fn, "keys");
  uint32_t count = static_cast<uint32_t>(ArgUint(info, 2, fn, "count", 0, UINT32_MAX));
  MapSizes s = GetMapSizes(env, fd, op);
  RequireLenAtLeast(env, keys, static_cast<uint64_t>(count) * s.keySize, fn, "keys");
  if (count == 0) return Napi::Number::New(env, 0);
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t n = count;
  if (bpf_map_delete_batch(fd, keys.data, &n, &opts) != 0) {
    throw BatchError(env, op, errno, n, count);
  }
  return Napi::Number::New(env, n);
}

}  // namespace

void InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup, "mapLookup"));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete, "mapDelete"));
  exports.Set("mapGetNextKey", Napi::Function::New(env, MapGetNextKey, "mapGetNextKey"));
  exports.Set("mapLookupBatch", Napi::Function::New(env, MapLookupBatch, "mapLookupBatch"));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch, "mapUpdateBatch"));
  exports.Set("mapDeleteBatch", Napi::Function::New(env, MapDeleteBatch, "mapDeleteBatch"));
}

}  // namespace bvs
