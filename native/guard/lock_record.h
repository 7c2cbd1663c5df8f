// The lock record at offset 0 of the file-lock elector's lock file, the C++
// side of src/electors/lock-record.ts (the format and the rule are defined
// there; this file mirrors them for the guard's lock wait, and
// test/guard-lock-wait.test.ts checks each side reads what the other writes).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>

namespace vip {
namespace guard {

constexpr size_t kRecordBytes = 128;

struct LockRecord {
  enum State { kNone, kHeld, kReleased };
  State state = kNone;  // kNone: no record (an empty file) or not ours
  double until = 0;     // kHeld: CLOCK_MONOTONIC ms
  std::string boot;
  long pid = 0;
};

LockRecord DecodeLockRecord(const uint8_t* data, size_t size);

// "held until <until>" (rounded up to the microsecond, as encodeRecord), padded to kRecordBytes.
std::string EncodeHeldRecord(double until, const std::string& boot, long pid);

// waitBeforeTakeover: 0 for no record, a release, another boot or a deadline
// already past; otherwise how long the holder's VIP may still be configured.
double WaitBeforeTakeover(const LockRecord& record, const std::string& boot, double now);

// A boot id as the host passes it: 1-64 printable non-space ASCII bytes.
bool ValidBootId(const std::string& boot);

}  // namespace guard
}  // namespace vip
