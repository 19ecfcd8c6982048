// mapcache.h: key/value sizes of map fds, so buffers from JS are checked before the kernel
// reads or writes through them (a too-short value buffer would otherwise be overrun by
// bpf_map_lookup_elem: heap corruption, not an error).
//
// Invariant: an entry describes what the fd number refers to *now*. The addon keeps it so by
// forgetting a number whenever it closes it (close()) and whenever it hands out a new fd
// (load, objGet, tcxAttach, ringOpen, packet sockets), since the kernel reuses numbers.
// Callers must close map fds with addon.close(), not fs.closeSync(); if they do not, a stale
// entry can only make a later call fail with EBADF/EINVAL (the fd is no longer that map),
// never make the kernel overrun a buffer, because every fd a new map can get goes through here.
#ifndef BVS_ADDON_MAPCACHE_H
#define BVS_ADDON_MAPCACHE_H

#include <napi.h>

#include <cstdint>
#include <string>

namespace bvs {

struct MapSizes {
  uint32_t type = 0;
  uint32_t keySize = 0;
  uint32_t valueSize = 0;      // as declared
  uint32_t userValueSize = 0;  // bytes per entry in userspace buffers (per-CPU: round8 * ncpus)
  uint32_t maxEntries = 0;
};

// Sizes of the map behind fd; queries the kernel on a miss. Throws (EBADF, or EINVAL with op
// `op` when the fd is not a BPF map).
MapSizes GetMapSizes(Napi::Env env, int fd, const char* op);
// Drop what is known about fd (it was closed, or its number was just handed out again).
void ForgetFd(int fd);
// Entries in the cache (for leak checks, see _internals).
size_t CachedMapFds();
// Number of possible CPUs (libbpf_num_possible_cpus), cached. Throws on failure.
int PossibleCpus(Napi::Env env, const char* op);

}  // namespace bvs

#endif
