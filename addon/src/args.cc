// args.cc: see args.h.
#include "args.h"

#include <climits>
#include <cmath>
#include <cstring>

#include "errors.h"

namespace bvs {

namespace {

std::string ArgName(size_t i, const char* name) {
  return std::string("argument ") + std::to_string(i + 1) + " (" + name + ")";
}

Bytes ToBytes(Napi::Env env, Napi::Value v, const char* op, const std::string& label) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(env, op, label + " must be a Uint8Array or Buffer");
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  Bytes b;
  b.data = a.Data();
  b.len = a.ByteLength();
  b.present = true;
  return b;
}

}  // namespace

uint64_t ValueUint(Napi::Env env, Napi::Value v, const char* op, const std::string& name,
                   uint64_t min, uint64_t max) {
  if (!v.IsNumber()) ThrowType(env, op, name + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) ThrowRange(env, op, name + " must be an integer");
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowRange(env, op, name + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                            "], got " + Napi::Number::New(env, d).ToString().Utf8Value());
  }
  return static_cast<uint64_t>(d);
}

std::string ValueString(Napi::Env env, Napi::Value v, const char* op, const std::string& name) {
  if (!v.IsString()) ThrowType(env, op, name + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  // A path or name with an embedded NUL would be silently truncated by the C call.
  if (s.find('\0') != std::string::npos) ThrowRange(env, op, name + " must not contain NUL");
  return s;
}

int ArgFd(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  return static_cast<int>(ValueUint(info.Env(), info[i], op, ArgName(i, name), 0, INT32_MAX));
}

uint64_t ArgUint(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                 uint64_t min, uint64_t max) {
  return ValueUint(info.Env(), info[i], op, ArgName(i, name), min, max);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (!info[i].IsBoolean()) ThrowType(info.Env(), op, ArgName(i, name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  return ValueString(info.Env(), info[i], op, ArgName(i, name));
}

Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (!info[i].IsFunction()) ThrowType(info.Env(), op, ArgName(i, name) + " must be a function");
  return info[i].As<Napi::Function>();
}

Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  return ToBytes(info.Env(), info[i], op, ArgName(i, name));
}

Bytes ArgBytesOrNull(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (info[i].IsNull() || info[i].IsUndefined()) return Bytes{};
  return ToBytes(info.Env(), info[i], op, ArgName(i, name) + " (or null)");
}

void RequireLenEq(Napi::Env env, const Bytes& b, size_t want, const char* op, const char* what) {
  if (b.len != want) {
    ThrowRange(env, op, std::string(what) + " must be " + std::to_string(want) + " bytes, got " +
                            std::to_string(b.len));
  }
}

void RequireLenAtLeast(Napi::Env env, const Bytes& b, size_t want, const char* op, const char* what) {
  if (b.len < want) {
    ThrowRange(env, op, std::string(what) + " must be at least " + std::to_string(want) +
                            " bytes, got " + std::to_string(b.len));
  }
}

}  // namespace bvs
