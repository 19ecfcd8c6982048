// packet.cc: sending frames out of an interface through AF_PACKET.
//
// One SOCK_RAW socket per ifindex, opened on first use and kept: closing a packet socket
// costs an RCU grace period (about 12 ms), far too slow per frame. Protocol 0 means the
// socket receives nothing, so it never queues traffic nobody reads. Sockets belong to the
// network namespace the process is in when they are opened.
//
// Sends use MSG_DONTWAIT: a full socket buffer throws EAGAIN/ENOBUFS instead of blocking the
// loop (dropping or retrying is the caller's policy). On ENXIO/ENODEV (the interface is gone;
// its ifindex may be reused later) the cached socket is closed before rethrowing.
// The cache is process-wide (fds are), so packetCloseAll() closes every environment's sockets.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "mapcache.h"

namespace bvs {

namespace {

constexpr size_t kMinFrame = ETH_HLEN;  // 14: a frame shorter than its header is a caller bug
constexpr size_t kMaxFrame = 65535;

std::mutex mu;
std::unordered_map<int, int> sockets;  // ifindex -> fd

void DropSocket(int ifindex) {
  std::lock_guard<std::mutex> g(mu);
  auto it = sockets.find(ifindex);
  if (it == sockets.end()) return;
  close(it->second);
  sockets.erase(it);
}

Napi::Value PacketSend(const Napi::CallbackInfo& info) {
  const char* fn = "packetSend";
  Napi::Env env = info.Env();
  int ifindex = static_cast<int>(ArgUint(info, 0, fn, "ifindex", 1, INT32_MAX));
  Bytes frame = ArgBytes(info, 1, fn, "frame");
  if (frame.len < kMinFrame || frame.len > kMaxFrame) {
    ThrowRange(env, fn, "argument 2 (frame) must be " + std::to_string(kMinFrame) + ".." +
                            std::to_string(kMaxFrame) + " bytes, got " + std::to_string(frame.len));
  }
  int fd;
  {
    std::lock_guard<std::mutex> g(mu);
    auto it = sockets.find(ifindex);
    if (it != sockets.end()) {
      fd = it->second;
    } else {
      fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
      if (fd < 0) ThrowErrno(env, "socket", errno);
      ForgetFd(fd);
      sockets[ifindex] = fd;
    }
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  sll.sll_halen = ETH_ALEN;
  memcpy(sll.sll_addr, frame.data, ETH_ALEN);  // destination MAC (informational for SOCK_RAW)
  ssize_t n = sendto(fd, frame.data, frame.len, MSG_DONTWAIT,
                     reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll));
  if (n < 0) {
    int err = errno;
    if (err == ENXIO || err == ENODEV) DropSocket(ifindex);
    ThrowErrno(env, "sendto", err, "ifindex " + std::to_string(ifindex));
  }
  return env.Undefined();
}

Napi::Value PacketCloseAll(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(mu);
  for (auto& [ifindex, fd] : sockets) close(fd);
  sockets.clear();
  return info.Env().Undefined();
}

}  // namespace

size_t OpenPacketSockets() {
  std::lock_guard<std::mutex> g(mu);
  return sockets.size();
}

void InitPacket(Napi::Env env, Napi::Object exports) {
  exports.Set("packetSend", Napi::Function::New(env, PacketSend, "packetSend"));
  exports.Set("packetCloseAll", Napi::Function::New(env, PacketCloseAll, "packetCloseAll"));
}

}  // namespace bvs
