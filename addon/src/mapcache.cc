// mapcache.cc: see mapcache.h.
#include "mapcache.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "errors.h"

namespace bvs {

namespace {

std::mutex mu;
std::unordered_map<int, MapSizes> cache;

bool IsPerCpu(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
      return true;
    default:
      return false;
  }
}

// bpf_obj_get_info_by_fd accepts any BPF fd and fills whatever info the object has, so a prog
// fd would yield garbage "sizes". The anon inode's name tells what the fd is.
// Returns 1 (a map), 0 (something else), -1 (cannot tell: /proc missing).
int FdIsMap(int fd) {
  char path[64], target[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof(target) - 1);
  if (n < 0) return errno == ENOENT ? 0 : -1;
  target[n] = '\0';
  return strcmp(target, "anon_inode:bpf-map") == 0 ? 1 : 0;
}

}  // namespace

int PossibleCpus(Napi::Env env, const char* op) {
  static int ncpus = 0;
  if (ncpus > 0) return ncpus;
  int n = libbpf_num_possible_cpus();
  if (n <= 0) ThrowErrno(env, "libbpf_num_possible_cpus", n < 0 ? n : EINVAL);
  ncpus = n;
  return n;
}

MapSizes GetMapSizes(Napi::Env env, int fd, const char* op) {
  {
    std::lock_guard<std::mutex> g(mu);
    auto it = cache.find(fd);
    if (it != cache.end()) return it->second;
  }
  struct bpf_map_info mi;
  memset(&mi, 0, sizeof(mi));
  uint32_t len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) {
    // BPF_OBJ_GET_INFO_BY_FD says EBADFD for a closed fd; the map command `op` (which is what
    // the caller asked for) would say EBADF, so report that.
    ThrowErrno(env, op, errno == EBADFD ? EBADF : errno);
  }
  if (FdIsMap(fd) == 0) ThrowErrno(env, op, EINVAL, "fd " + std::to_string(fd) + " is not a BPF map");
  MapSizes s;
  s.type = mi.type;
  s.keySize = mi.key_size;
  s.valueSize = mi.value_size;
  s.maxEntries = mi.max_entries;
  s.userValueSize = mi.value_size;
  if (IsPerCpu(mi.type)) {
    uint64_t per = (static_cast<uint64_t>(mi.value_size) + 7) / 8 * 8;
    s.userValueSize = static_cast<uint32_t>(per * PossibleCpus(env, op));
  }
  std::lock_guard<std::mutex> g(mu);
  cache[fd] = s;
  return s;
}

size_t CachedMapFds() {
  std::lock_guard<std::mutex> g(mu);
  return cache.size();
}

void ForgetFd(int fd) {
  std::lock_guard<std::mutex> g(mu);
  cache.erase(fd);
}

}  // namespace bvs
