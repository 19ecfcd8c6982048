// addon.h: each source file registers its functions on the module's exports.
// module.cc calls these once per environment (main thread or worker).
#ifndef BVS_ADDON_ADDON_H
#define BVS_ADDON_ADDON_H

#include <napi.h>

namespace bvs {

void InitObject(Napi::Env env, Napi::Object exports);  // load, objGet, objPin, close, mapInfo
void InitMaps(Napi::Env env, Napi::Object exports);    // mapLookup ... mapDeleteBatch
void InitTcx(Napi::Env env, Napi::Object exports);     // tcxAttach, linkDetach, linkInfo
void InitRing(Napi::Env env, Napi::Object exports);    // ringOpen
void InitPacket(Napi::Env env, Napi::Object exports);  // packetSend, packetCloseAll
void InitNetif(Napi::Env env, Napi::Object exports);   // ifNameToIndex, ..., monotonicNs
void InitProg(Napi::Env env, Napi::Object exports);    // progTestRun

// Counters of native state, exported as _internals() for leak checks in tests.
int LiveRingStates();        // ring.cc: allocated (freed once closed and garbage collected)
int OpenRings();             // ring.cc: not yet closed
size_t OpenPacketSockets();  // packet.cc
size_t CachedMapFds();       // mapcache.cc

}  // namespace bvs

#endif
