// The takeover the guard performs on TAKE (issue 9, item 1): the footprint's
// netlink adds, all or nothing, then the first announcement burst, from this
// process rather than the host's JS thread, which may lose the CPU between
// the steps. The host decides everything beforehand (which requests, which
// frames, in which order) and hands the plan over once per footprint; TAKE
// only fills in the address lifetime, which depends on the lease of the day.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "../nlsocket.h"
#include "../owns_fd.h"

namespace vip {
namespace guard {

using Bytes = std::vector<uint8_t>;

// IFA_CACHEINFO's "no expiry": what TAKE's lifetime "inf" writes.
constexpr uint32_t kForever = 0xFFFFFFFFu;

// "inf" (kForever) or whole seconds, 1 to 2^32-2.
bool ParseLifetime(const std::string& text, uint32_t* lifetime);

struct TakeOutcome {
  bool ok = false;
  int err = 0;  // positive errno of the add that failed
  std::string message;
  double armed_at = 0;        // CLOCK_MONOTONIC ms
  double added_at = 0;        // every step done
  double first_frame_at = 0;  // 0: no frame went out
  std::string sent;           // '1' or '0' per frame, in plan order
};

class TakePlan : vip::OwnsFd {
 public:
  TakePlan() = default;
  ~TakePlan();

  void Clear();
  bool Empty() const { return steps_.empty(); }
  // An RTM_NEWADDR / RTM_NEWROUTE / RTM_NEWRULE request and the matching delete.
  bool AddStep(Bytes add, Bytes undo, std::string* why);
  // A complete Ethernet frame for `ifindex`; the first opens the packet socket
  // (in the namespace the guard entered at start).
  bool AddFrame(int ifindex, Bytes frame, std::string* why);

  // Adds every step in order; an existing address gets the lifetime through a
  // replace (IPv4; an existing IPv6 address fails with EEXIST: whose it is,
  // the host must judge), an existing route or rule is left as it is, and
  // neither is undone. A refused add undoes the steps this call added, in
  // reverse. Then sends every frame (a failed send is reported, not fatal:
  // the link may be down, the host's schedule repeats).
  TakeOutcome Run(NlSocket& netlink, uint32_t lifetime, double (*now)());

 private:
  struct Step {
    Bytes add;
    Bytes undo;
    bool address = false;
    uint8_t family = 0;
    size_t cacheinfo = 0;  // offset of struct ifa_cacheinfo in `add`; 0: none
  };
  struct Frame {
    int ifindex = 0;
    Bytes data;
  };
  std::vector<Step> steps_;
  std::vector<Frame> frames_;
  int packet_fd_ = -1;
};

}  // namespace guard
}  // namespace vip
