#include "frames_binding.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

namespace vip {

namespace {

template <size_t N>
std::array<uint8_t, N> BufferArgument(const Napi::CallbackInfo& info, size_t index, const char* field) {
  if (info.Length() <= index || !info[index].IsBuffer()) {
    ThrowTypeError(info.Env(), field, "must be a Buffer");
  }
  Napi::Buffer<uint8_t> buffer = info[index].As<Napi::Buffer<uint8_t>>();
  if (buffer.Length() != N) {
    ThrowRangeError(info.Env(), field,
                    "must be " + std::to_string(N) + " bytes, got " + std::to_string(buffer.Length()));
  }
  std::array<uint8_t, N> out;
  memcpy(out.data(), buffer.Data(), N);
  return out;
}

Napi::Value ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

Napi::Value BuildGratuitousArp(const Napi::CallbackInfo& info) {
  const std::string kind = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (kind != "request" && kind != "reply") ThrowTypeError(info.Env(), "kind", "must be 'request' or 'reply'");
  auto mac = BufferArgument<6>(info, 1, "mac");
  auto ip = BufferArgument<4>(info, 2, "ip");
  return ToBuffer(info.Env(), frames::GratuitousArp(
      kind == "request" ? frames::ArpOperation::kRequest : frames::ArpOperation::kReply, mac, ip));
}

Napi::Value BuildArpProbe(const Napi::CallbackInfo& info) {
  return ToBuffer(info.Env(), frames::ArpProbe(BufferArgument<6>(info, 0, "mac"), BufferArgument<4>(info, 1, "ip")));
}

Napi::Value BuildNeighbourAdvertisement(const Napi::CallbackInfo& info) {
  return ToBuffer(info.Env(), frames::NeighbourAdvertisement(BufferArgument<6>(info, 0, "mac"),
                                                             BufferArgument<16>(info, 1, "ip")));
}

Napi::Value BuildNeighbourSolicitation(const Napi::CallbackInfo& info) {
  return ToBuffer(info.Env(), frames::DadNeighbourSolicitation(BufferArgument<6>(info, 0, "mac"),
                                                               BufferArgument<16>(info, 1, "ip")));
}

Napi::Value ParseFrame(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBuffer()) ThrowTypeError(info.Env(), "frame", "must be a Buffer");
  Napi::Buffer<uint8_t> buffer = info[0].As<Napi::Buffer<uint8_t>>();
  return ParsedFrameToObject(info.Env(), frames::Parse(buffer.Data(), buffer.Length()), buffer.Length());
}

std::string FormatIp(int family, const uint8_t* address) {
  char text[INET6_ADDRSTRLEN];
  return inet_ntop(family, address, text, sizeof(text)) != nullptr ? text : "";
}

const char* KindName(frames::FrameKind kind) {
  switch (kind) {
    case frames::FrameKind::kArpRequest: return "arp-request";
    case frames::FrameKind::kArpReply: return "arp-reply";
    case frames::FrameKind::kNeighbourSolicitation: return "neighbour-solicitation";
    case frames::FrameKind::kNeighbourAdvertisement: return "neighbour-advertisement";
    default: return "other";
  }
}

}  // namespace

std::string FormatMac(const frames::Mac& mac) {
  char text[18];
  snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

Napi::Object ParsedFrameToObject(Napi::Env env, const frames::ParsedFrame& frame, size_t length) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", KindName(frame.kind));
  out.Set("length", static_cast<double>(length));
  if (!frame.has_ethernet) return out;
  out.Set("destination", FormatMac(frame.destination));
  out.Set("source", FormatMac(frame.source));
  out.Set("ethertype", frame.ethertype);
  if (frame.vlan != 0) out.Set("vlan", frame.vlan);
  switch (frame.kind) {
    case frames::FrameKind::kArpRequest:
    case frames::FrameKind::kArpReply:
      out.Set("senderMac", FormatMac(frame.sender_mac));
      out.Set("senderIp", FormatIp(AF_INET, frame.sender_ip.data()));
      out.Set("targetMac", FormatMac(frame.target_mac));
      out.Set("targetIp", FormatIp(AF_INET, frame.target_ip.data()));
      break;
    case frames::FrameKind::kNeighbourSolicitation:
    case frames::FrameKind::kNeighbourAdvertisement:
      out.Set("sourceIp", FormatIp(AF_INET6, frame.ip_source.data()));
      out.Set("destinationIp", FormatIp(AF_INET6, frame.ip_destination.data()));
      out.Set("hopLimit", frame.hop_limit);
      out.Set("target", FormatIp(AF_INET6, frame.target.data()));
      out.Set("router", frame.router);
      out.Set("solicited", frame.solicited);
      out.Set("override", frame.override_flag);
      if (frame.has_link_layer_option) out.Set("linkLayerAddress", FormatMac(frame.link_layer_address));
      out.Set("checksumValid", frame.checksum_valid);
      out.Set("optionsValid", frame.options_valid);
      break;
    default:
      break;
  }
  return out;
}

void InitFrames(Napi::Env env, Napi::Object exports) {
  exports.Set("buildGratuitousArp", Napi::Function::New(env, BuildGratuitousArp, "buildGratuitousArp"));
  exports.Set("buildArpProbe", Napi::Function::New(env, BuildArpProbe, "buildArpProbe"));
  exports.Set("buildNeighbourAdvertisement",
              Napi::Function::New(env, BuildNeighbourAdvertisement, "buildNeighbourAdvertisement"));
  exports.Set("buildNeighbourSolicitation",
              Napi::Function::New(env, BuildNeighbourSolicitation, "buildNeighbourSolicitation"));
  exports.Set("parseFrame", Napi::Function::New(env, ParseFrame, "parseFrame"));
}

}  // namespace vip
