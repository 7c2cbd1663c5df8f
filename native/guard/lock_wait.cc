#include "lock_wait.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>

namespace vip {
namespace guard {

namespace {

// As the elector's RETRY_AFTER_EVENT_MS (src/electors/file-lock.ts).
constexpr double kRetryAfterEventMs[] = {1, 2, 4, 8, 16, 32};
constexpr int kRetrySteps = sizeof(kRetryAfterEventMs) / sizeof(kRetryAfterEventMs[0]);

// Closes (a holder's death, an unlock's poke) and attribute changes (a delete
// or rename). Not IN_MODIFY: record writes are not releases, and the release
// record is written before the unlock.
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

LockWait::~LockWait() {
  if (inotify_ >= 0) close(inotify_);
}

bool LockWait::Start(int lock_fd, double poll_ms, double now, std::string* why) {
  if (inotify_ < 0) {
    inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_ < 0) {
      *why = std::string("inotify_init1: ") + strerror(errno);
      return false;
    }
    const std::string self = "/proc/self/fd/" + std::to_string(lock_fd);
    if (inotify_add_watch(inotify_, self.c_str(), kMask) < 0) {
      *why = std::string("inotify_add_watch: ") + strerror(errno);
      close(inotify_);
      inotify_ = -1;
      return false;
    }
  }
  lock_fd_ = lock_fd;
  poll_ms_ = poll_ms;
  active_ = true;
  // A try at once: the lock may have been let go between the elector's last
  // try and this command.
  next_retry_ = now;
  retry_step_ = kRetrySteps;  // the immediate try is not an event's: no retries after it
  next_poll_ = now + poll_ms_;
  return true;
}

void LockWait::Cancel() {
  active_ = false;
  next_retry_ = 0;
  // Events queued meanwhile are stale: drain them so the next wait starts clean.
  if (inotify_ >= 0) {
    char buffer[4096];
    while (read(inotify_, buffer, sizeof(buffer)) > 0) {
    }
  }
}

int LockWait::TimeoutMs(double now) const {
  if (!active_) return -1;
  double due = next_poll_;
  if (next_retry_ > 0) due = std::min(due, next_retry_);
  double left = due - now;
  return left <= 0 ? 0 : static_cast<int>(ceil(left));
}

bool LockWait::TryNow(int* err, Result* result) {
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) == 0) {
    active_ = false;
    *result = kAcquired;
    return true;
  }
  if (errno == EWOULDBLOCK || errno == EINTR) return false;
  *err = errno;
  active_ = false;
  *result = kFailed;
  return true;
}

LockWait::Result LockWait::Step(bool readable, double now, int* err) {
  if (!active_) return kWaiting;
  bool event = false;
  if (readable) {
    char buffer[4096] __attribute__((aligned(__alignof__(inotify_event))));
    ssize_t n;
    while ((n = read(inotify_, buffer, sizeof(buffer))) > 0) {
      for (char* p = buffer; p < buffer + n;) {
        auto* e = reinterpret_cast<inotify_event*>(p);
        if (e->mask & (kMask | IN_Q_OVERFLOW)) event = true;
        p += sizeof(inotify_event) + e->len;
      }
    }
  }
  Result result = kWaiting;
  if (event) {
    retry_step_ = 0;
    next_retry_ = now;
  }
  const bool retry_due = next_retry_ > 0 && now >= next_retry_;
  const bool poll_due = now >= next_poll_;
  if (!retry_due && !poll_due) return kWaiting;
  if (poll_due) next_poll_ = now + poll_ms_;
  if (TryNow(err, &result)) return result;
  if (retry_due) {
    if (retry_step_ < kRetrySteps) {
      next_retry_ = now + kRetryAfterEventMs[retry_step_++];
    } else {
      next_retry_ = 0;
    }
  }
  return kWaiting;
}

}  // namespace guard
}  // namespace vip
