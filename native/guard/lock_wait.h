// The guard's wait for the file lock (LOCKWAIT, issue 9 part A): a follower's
// guard watches the lock file and tries flock(LOCK_EX | LOCK_NB) on fd 3, the
// duplicate of the elector's open file description, whenever the file is
// closed or its attributes change, after each such event again a few times
// (the kernel reports a close to inotify before it drops the closing file's
// flock), and on a fallback timer. A holder that lets go unlocks first and
// then pokes the file (open + close), so the first try after the poke's event
// succeeds. This class only waits and says when it got the lock; what follows
// (the record, TAKE) is guard.cc's.
//
// Why not a thread blocked in flock(LOCK_EX): it cannot be cancelled without
// a signal race, and one that got the lock just as it was cancelled would hold
// it on the elector's own description. Here a cancel is a state change inside
// the poll loop, and a try only ever happens between two commands.
#pragma once
#include <string>

#include "../owns_fd.h"

namespace vip {
namespace guard {

class LockWait : vip::OwnsFd {
 public:
  LockWait() = default;
  ~LockWait();

  // Starts watching fd `lock_fd`'s file (through /proc/self/fd: the inode
  // held, whatever the path names now); `poll_ms` is the fallback interval.
  bool Start(int lock_fd, double poll_ms, double now, std::string* why);
  void Cancel();
  bool active() const { return active_; }
  // The inotify fd to poll while active (-1 otherwise).
  int fd() const { return active_ ? inotify_ : -1; }
  // How long poll may sleep, ms, before the next try is due (-1: no timer).
  int TimeoutMs(double now) const;

  enum Result { kWaiting, kAcquired, kFailed };
  // After poll: `readable` when the inotify fd was. Tries the lock if an
  // event or a timer calls for it. kFailed: flock failed otherwise than
  // EWOULDBLOCK (errno in *err); the wait is over then, as after kAcquired.
  Result Step(bool readable, double now, int* err);

 private:
  bool TryNow(int* err, Result* result);
  int lock_fd_ = -1;
  int inotify_ = -1;
  bool active_ = false;
  double poll_ms_ = 500;
  double next_poll_ = 0;
  double next_retry_ = 0;  // 0: none scheduled
  int retry_step_ = 0;
};

}  // namespace guard
}  // namespace vip
