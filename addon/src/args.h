// args.h: checked access to JS arguments. Each helper throws TypeError/RangeError (see errors.h)
// naming the addon function (`op`) and the argument, so no JS value can reach a syscall unchecked.
#ifndef BVS_ADDON_ARGS_H
#define BVS_ADDON_ARGS_H

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace bvs {

// A view of a Uint8Array (or Buffer) argument. Valid only during the current call: JS may
// detach or resize nothing while we run, but must not be kept past it.
struct Bytes {
  uint8_t* data = nullptr;
  size_t len = 0;
  bool present = false;  // false for a null argument accepted by ArgBytesOrNull
};

// A file descriptor: an integer in [0, INT32_MAX].
int ArgFd(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
// An integer in [min, max] (max <= 2^53).
uint64_t ArgUint(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                 uint64_t min, uint64_t max);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
Bytes ArgBytesOrNull(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);

// Same checks for a value that is not a positional argument (an option's property).
uint64_t ValueUint(Napi::Env env, Napi::Value v, const char* op, const std::string& name,
                   uint64_t min, uint64_t max);
std::string ValueString(Napi::Env env, Napi::Value v, const char* op, const std::string& name);

// Size checks on a Bytes view; `what` names the argument in the message.
void RequireLenEq(Napi::Env env, const Bytes& b, size_t want, const char* op, const char* what);
void RequireLenAtLeast(Napi::Env env, const Bytes& b, size_t want, const char* op, const char* what);

}  // namespace bvs

#endif
