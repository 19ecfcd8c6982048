// tcx.cc: attaching a SEC("tc") program with a tcx link (kernel >= 6.6), detaching, link info.
//
// libbpf 1.1 predates tcx: it has no bpf_program__attach_tcx, and its linux/bpf.h has neither
// BPF_TCX_INGRESS/EGRESS (46/47) nor the `tcx` member of struct bpf_link_info. The raw
// bpf_link_create() passes the attach type through, so the numbers are used directly here.
// A tcx link lives as long as an fd or a bpffs pin refers to it: pin it to outlive the process.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "mapcache.h"

namespace bvs {

namespace {

// Values from the kernel's include/uapi/linux/bpf.h (6.6+), absent from libbpf 1.1's copy.
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;
constexpr uint32_t kBpfLinkTypeTcx = 11;
constexpr uint32_t kBpfLinkTypeNetkit = 13;

Napi::Value TcxAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd = ArgFd(info, 0, "tcxAttach", "progFd");
  int ifindex = static_cast<int>(ArgUint(info, 1, "tcxAttach", "ifindex", 1, INT32_MAX));
  bool egress = ArgBool(info, 2, "tcxAttach", "egress");
  int fd = bpf_link_create(progFd, ifindex,
                           static_cast<enum bpf_attach_type>(egress ? kBpfTcxEgress : kBpfTcxIngress),
                           nullptr);
  if (fd < 0) ThrowErrno(env, "bpf_link_create", errno);
  ForgetFd(fd);
  return Napi::Number::New(env, fd);
}

Napi::Value LinkDetach(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "linkDetach", "linkFd");
  if (bpf_link_detach(fd) != 0) ThrowErrno(info.Env(), "bpf_link_detach", errno);
  return info.Env().Undefined();
}

Napi::Value LinkInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "linkInfo", "linkFd");
  struct bpf_link_info li;
  memset(&li, 0, sizeof(li));
  uint32_t len = sizeof(li);
  if (bpf_obj_get_info_by_fd(fd, &li, &len) != 0) ThrowErrno(env, "bpf_obj_get_info_by_fd", errno);
  // The kernel's `tcx` (and `netkit`) member is { __u32 ifindex; __u32 attach_type; } at the
  // union's start: the same layout as `netns` { netns_ino; attach_type; }, which 1.1 has.
  uint32_t ifindex = 0, attachType = 0;
  switch (li.type) {
    case kBpfLinkTypeTcx:
    case kBpfLinkTypeNetkit:
      ifindex = li.netns.netns_ino;
      attachType = li.netns.attach_type;
      break;
    case BPF_LINK_TYPE_XDP:
      ifindex = li.xdp.ifindex;
      break;
    case BPF_LINK_TYPE_NETNS:
      attachType = li.netns.attach_type;
      break;
    case BPF_LINK_TYPE_CGROUP:
      attachType = li.cgroup.attach_type;
      break;
    default:
      break;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, li.id));
  o.Set("progId", Napi::Number::New(env, li.prog_id));
  o.Set("ifindex", Napi::Number::New(env, ifindex));
  o.Set("attachType", Napi::Number::New(env, attachType));
  o.Set("type", Napi::Number::New(env, li.type));
  return o;
}

}  // namespace

void InitTcx(Napi::Env env, Napi::Object exports) {
  exports.Set("tcxAttach", Napi::Function::New(env, TcxAttach, "tcxAttach"));
  exports.Set("linkDetach", Napi::Function::New(env, LinkDetach, "linkDetach"));
  exports.Set("linkInfo", Napi::Function::New(env, LinkInfo, "linkInfo"));
}

}  // namespace bvs
