#include "lock_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <vector>

namespace vip {
namespace guard {

namespace {
constexpr char kMagic[] = "vip-announcer-lock/1";

// As isspace() in the C locale (what operator>> skipped), without the locale.
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
}

LockRecord DecodeLockRecord(const uint8_t* data, size_t size) {
  LockRecord none;
  // Whitespace-separated, as the TS side's trim().split(/ +/): the record is
  // space-padded and ends in a newline. Split by hand, not with an
  // istringstream: this runs right after the flock, on the takeover's path,
  // and a process's first iostream costs 60-170 us (locale set-up, page
  // faults), measured in the lock-wait bench (docs/benchmarks.md).
  std::vector<std::string> fields;
  const char* text = reinterpret_cast<const char*>(data);
  for (size_t i = 0; i < size;) {
    if (IsSpace(text[i])) {
      i++;
      continue;
    }
    size_t end = i;
    while (end < size && !IsSpace(text[end])) end++;
    fields.emplace_back(text + i, end - i);
    i = end;
  }
  if (fields.size() != 5 || fields[0] != kMagic) return none;
  const std::string& pid_text = fields[4];
  if (pid_text.empty() || pid_text.size() > 18 || !std::all_of(pid_text.begin(), pid_text.end(), [](char c) { return c >= '0' && c <= '9'; })) return none;
  LockRecord record;
  record.boot = fields[3];
  record.pid = strtol(pid_text.c_str(), nullptr, 10);
  if (fields[1] == "released") {
    record.state = LockRecord::kReleased;
    return record;
  }
  if (fields[1] != "held") return none;
  char* end = nullptr;
  double until = strtod(fields[2].c_str(), &end);
  if (end != fields[2].c_str() + fields[2].size() || !std::isfinite(until)) return none;
  record.state = LockRecord::kHeld;
  record.until = until;
  return record;
}

std::string EncodeHeldRecord(double until, const std::string& boot, long pid) {
  char text[kRecordBytes + 1];
  int n = snprintf(text, sizeof(text), "%s held %.3f %s %ld", kMagic, ceil(until * 1000) / 1000, boot.c_str(), pid);
  if (n < 0 || static_cast<size_t>(n) > kRecordBytes - 1) return "";
  std::string record(text, static_cast<size_t>(n));
  record.resize(kRecordBytes - 1, ' ');
  record.push_back('\n');
  return record;
}

double WaitBeforeTakeover(const LockRecord& record, const std::string& boot, double now) {
  if (record.state != LockRecord::kHeld || record.boot != boot) return 0;
  return std::max(0.0, record.until - now);
}

bool ValidBootId(const std::string& boot) {
  if (boot.empty() || boot.size() > 64) return false;
  return std::all_of(boot.begin(), boot.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace guard
}  // namespace vip
