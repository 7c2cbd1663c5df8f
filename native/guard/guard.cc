// vip_guard: enforces the leadership deadline outside the host's JS thread.
//
// The announcer starts one guard per instance and, before it adds a VIP, tells
// it how to undo that (the exact rtnetlink delete requests, pre-encoded by the
// addon) and until when leadership is valid. If the deadline passes without a
// renewal — the host's event loop is blocked, the process is frozen with
// SIGSTOP, or the elector silently lost its lease — or if the host dies (the
// command pipe reaches EOF: SIGKILL, OOM kill), the guard replays those requests,
// so the VIP never outlives leadership. The host's death is seen first through
// the lifeline (fd 4, native/lifeline.cc): a robust mutex the host's JS thread
// holds, which the kernel releases with EOWNERDEAD at the very start of the
// host's exit, well before the pipe's EOF. With the file-lock elector it also holds
// a duplicate of the lock's file description (fd 3): the lock is released only
// after the VIP is gone, so a takeover never overlaps; and a follower's guard
// waits for that lock itself and takes over the instant it gets it (LOCKWAIT).
//
// Protocol on stdin, one command per line, each prefixed by a sequence number
// that the reply on stdout echoes ("<seq> OK" or "<seq> ERR <text>"):
//   <seq> ACTION <hex>     append a netlink request to replay when fencing
//   <seq> CLEAR            forget all actions
//   <seq> ARM <ms>         arm with a deadline, CLOCK_MONOTONIC milliseconds
//   <seq> DISARM           follower again: no deadline (actions are kept)
//   <seq> RECORD <hex>     bytes to write at offset 0 of the lock file (fd 3) after a
//                          fence that removed everything, before unlocking (the
//                          elector's "released" mark)
//   <seq> FENCE            fence now
//   <seq> PING             liveness
//   <seq> TAKECLEAR        forget the takeover plan (steps and frames)
//   <seq> TAKEADD <add> <undo>  append a footprint step: the netlink add request
//                          (hex) and the delete that undoes it; an address add
//                          carries IFA_CACHEINFO, whose lifetimes TAKE fills in
//   <seq> TAKEFRAME <ifindex> <hex>  append a frame of the first announcement burst
//   <seq> TAKE <ms> <lifetime>  the takeover (native/guard/take.h): arm exactly as
//                          ARM does, add the steps in order (all or nothing), send
//                          the frames; "<seq> OK <armed> <added> <first-frame|-> <sent>"
//                          (CLOCK_MONOTONIC ms; <sent>: one 1/0 per frame) or
//                          "<seq> ERR TAKE <errno> <text>" with nothing left added
//                          and the guard disarmed. <lifetime>: whole seconds or "inf".
//   <seq> LOCKWAIT <lease-ms> <margin-ms> <lifetime> <add-within-ms> <poll-ms> <pid> <boot>
//                          (issue 9 part A) a follower's wait for the lock on fd 3
//                          (lock_wait.h): on getting it, the record decides
//                          (waitBeforeTakeover's rule, lock_record.h); if it lets us
//                          lead, write "held until now + lease <boot> <pid>", then TAKE
//                          with deadline − margin, unless more than <add-within-ms>
//                          passed since the flock (the lifetime would not fit);
//                          one "* LOCKED" line ends the wait (OnLockAcquired below).
//                          Refused while armed; TAKECLEAR/TAKEADD/TAKEFRAME are refused
//                          while it waits.
//   <seq> LOCKCANCEL       end the wait; a "* LOCKED" line of it precedes this reply
// Unsolicited lines start with "*": "* READY <pid>", "* FENCED <reason> <ok> <failed>",
// "* LOCKED <taken|failed|held|unrecorded|error> ...".
// The guard ignores SIGINT/SIGTERM/SIGHUP (a Ctrl-C reaches the whole process
// group; the host decides when to stop) and exits on EOF.
//
// Nothing on the pipe can make it miss the deadline (issue 11): it checks the
// deadline, and fences, before each line it handles; its replies are written
// without blocking (a host that does not read them, frozen say, gets at most
// kMaxPendingOutput bytes buffered, the rest dropped: it will time out and
// step down); a line longer than kMaxLine bytes is discarded up to its newline
// and answered "<seq> ERR line too long", so memory stays bounded.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "../netns.h"
#include "../nlsocket.h"
#include "lock_record.h"
#include "lock_wait.h"
#include "take.h"

namespace {

constexpr int kLockFd = 3;
constexpr int kLifelineFd = 4;
constexpr size_t kLifelineSize = 4096;
// The longest command line: a RECORD of 4096 bytes is 8 KiB of hex, a netlink
// request a few hundred bytes.
constexpr size_t kMaxLine = 64 * 1024;
// Replies kept while the host does not read them; unsolicited lines ("* FENCED")
// may use twice as much, so a flood of replies cannot crowd out a fence report.
constexpr size_t kMaxPendingOutput = 64 * 1024;

// Blocks on the host's robust mutex and reports, through an eventfd, that the
// host died (EOWNERDEAD) — or let go of the lifeline (0: nothing to do).
void WatchLifeline(pthread_mutex_t* mutex, int notify_fd) {
  int rc = pthread_mutex_lock(mutex);
  uint64_t value = rc == EOWNERDEAD ? 1 : 2;
  if (rc == EOWNERDEAD) pthread_mutex_consistent(mutex);
  if (rc == 0 || rc == EOWNERDEAD) pthread_mutex_unlock(mutex);
  ssize_t ignored = write(notify_fd, &value, sizeof(value));
  (void)ignored;
}

struct Guard {
  vip::NlSocket netlink;
  std::vector<std::vector<uint8_t>> actions;
  bool armed = false;
  double deadline_ms = 0;
  bool has_lock_fd = false;
  std::vector<uint8_t> release_record;
  vip::guard::TakePlan take;  // what TAKE adds and sends
  // LOCKWAIT: waiting for the lock on fd 3, and the terms of the takeover
  // that follows (lock_wait.h). The plan cannot change while it waits.
  vip::guard::LockWait lock_wait;
  struct LockTerms {
    double lease_ms = 0, margin_ms = 0, add_within_ms = 0;  // ms
    uint32_t lifetime = 0;                                   // s
    long pid = 0;                                            // the elector's, for the record
    std::string boot;
  } lock_terms;
  std::string input;        // the line read so far (at most kMaxLine bytes)
  bool discarding = false;  // inside a line longer than kMaxLine: skipping to its newline
  std::string long_seq;     // the sequence number of that line, for the reply
};

// Output to the host, never blocking: what the pipe does not take at once
// waits here (bounded) until poll says it is writable again.
struct Output {
  bool dead = false;  // the host closed its end
  std::string pending;
  size_t dropped = 0;
};
Output output;

double MonotonicMs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

// Writes what the pipe takes now (all of it when stdout blocks: a terminal, a file).
void FlushOutput() {
  while (!output.pending.empty() && !output.dead) {
    ssize_t n = write(STDOUT_FILENO, output.pending.data(), output.pending.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      output.dead = true;  // host gone: nothing to tell
      output.pending.clear();
      return;
    }
    output.pending.erase(0, static_cast<size_t>(n));
  }
}

void WriteLine(const std::string& line) {
  if (output.dead) return;
  // A whole line or nothing: the stream stays parseable when lines are dropped.
  const size_t limit = line[0] == '*' ? 2 * kMaxPendingOutput : kMaxPendingOutput;
  if (output.pending.size() + line.size() + 1 > limit) {
    if (output.dropped++ == 0) fprintf(stderr, "vip_guard: the host does not read its replies; dropping them\n");
    return;
  }
  output.pending.append(line);
  output.pending.push_back('\n');
  FlushOutput();
}

// Makes an fd that only this process writes (a pipe or socket the host gave
// us) non-blocking; a terminal or file is left as it is.
bool MakeNonBlocking(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) return false;
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// The sequence number a reply echoes: what the host sent (digits), or "-".
std::string SequenceOf(const std::string& token) {
  if (token.empty() || token.size() > 20) return "-";
  for (char c : token) {
    if (c < '0' || c > '9') return "-";
  }
  return token;
}

bool DecodeHex(const std::string& hex, std::vector<uint8_t>* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    char pair[3] = {hex[i], hex[i + 1], 0};
    char* end = nullptr;
    long value = strtol(pair, &end, 16);
    if (end != pair + 2) return false;
    out->push_back(static_cast<uint8_t>(value));
  }
  return true;
}

// Replays every action; keeps going after a failure (an address already gone
// is fine, and the others must still be removed). Then releases the lock so a
// waiting candidate can take over, and pokes inotify watchers.
void Fence(Guard& guard, const char* reason) {
  int ok = 0;
  int failed = 0;
  for (auto& action : guard.actions) {
    std::vector<uint8_t> message = action;
    vip::NlError error;
    if (guard.netlink.Request(message, &error)) {
      ok++;
    } else if (error.err == EADDRNOTAVAIL || error.err == ESRCH || error.err == ENOENT) {
      ok++;  // already gone
    } else {
      failed++;
      fprintf(stderr, "vip_guard: fence action failed: %s (%s)\n", strerror(error.err), error.ext_ack.c_str());
    }
  }
  guard.armed = false;
  if (guard.has_lock_fd) {
    // Only a complete fence may say "released": after a failed removal the
    // successor must wait out the deadline recorded in the file.
    if (failed == 0 && !guard.release_record.empty()) {
      ssize_t written = pwrite(kLockFd, guard.release_record.data(), guard.release_record.size(), 0);
      if (written != static_cast<ssize_t>(guard.release_record.size())) {
        fprintf(stderr, "vip_guard: writing the release record failed: %s\n", written < 0 ? strerror(errno) : "short write");
      }
    }
    flock(kLockFd, LOCK_UN);
    // Reopening through /proc makes an IN_CLOSE event on the lock file, which
    // is what waiting candidates watch for.
    int poke = open("/proc/self/fd/3", O_RDONLY | O_CLOEXEC);
    if (poke >= 0) close(poke);
  }
  WriteLine(std::string("* FENCED ") + reason + " " + std::to_string(ok) + " " + std::to_string(failed));
}

// TAKE: arm, add the plan's steps (all or nothing), send the frames. True
// with "<armed> <added> <first-frame|-> <sent>" in *result; false with
// "<errno> <text>" (0: declined, nothing tried), nothing left added and the
// guard disarmed.
bool Take(Guard& guard, double deadline, uint32_t lifetime, std::string* result) {
  if (guard.take.Empty()) {
    *result = "0 no takeover plan";
    return false;
  }
  if (guard.armed || deadline - MonotonicMs() <= 0) {
    // Armed: a takeover on top of a held footprint is the host's mistake;
    // past: ARM would fence at once. Either way nothing is added.
    *result = std::string("0 ") + (guard.armed ? "already armed" : "deadline passed");
    return false;
  }
  // Break before make, as ARM then the host's adds: the deadline holds
  // before the first address exists.
  guard.deadline_ms = deadline;
  guard.armed = true;
  vip::guard::TakeOutcome outcome = guard.take.Run(guard.netlink, lifetime, MonotonicMs);
  if (!outcome.ok) {
    guard.armed = false;  // as the host's disarm after a failed add
    *result = std::to_string(outcome.err) + " " + outcome.message;
    return false;
  }
  char times[96];
  snprintf(times, sizeof(times), "%.6f %.6f ", outcome.armed_at, outcome.added_at);
  std::string first = outcome.first_frame_at > 0 ? std::to_string(outcome.first_frame_at) : "-";
  *result = times + first + " " + (outcome.sent.empty() ? "-" : outcome.sent);
  return true;
}

// The record at offset 0 of the lock file (fd 3), decoded; no record when it cannot be read.
vip::guard::LockRecord ReadLockRecord() {
  uint8_t bytes[vip::guard::kRecordBytes];
  ssize_t n = pread(kLockFd, bytes, sizeof(bytes), 0);
  return vip::guard::DecodeLockRecord(bytes, n > 0 ? static_cast<size_t>(n) : 0);
}

// Runs OnLockAcquired's read-decode-encode steps once, writing nothing, while
// the wait starts: a fresh guard's first pread, float formatting and record
// decode fault in their code and data (tens of microseconds each, measured),
// which would otherwise land between the flock and the first add.
void RehearseLockAcquired(const Guard::LockTerms& terms) {
  vip::guard::LockRecord record = ReadLockRecord();
  const double now = MonotonicMs();
  volatile double wait = vip::guard::WaitBeforeTakeover(record, terms.boot, now);
  (void)wait;
  char text[32];
  snprintf(text, sizeof(text), "%.6f", now);
  const std::string held = vip::guard::EncodeHeldRecord(now + terms.lease_ms, terms.boot, terms.pid);
  (void)held;
}

// "<seq> LOCKWAIT <lease-ms> <margin-ms> <lifetime> <add-within-ms> <poll-ms> <pid> <boot>"
void StartLockWait(Guard& guard, const std::string& seq, const std::string& argument) {
  char lifetime_text[16] = {0};
  char boot[72] = {0};
  double lease_ms = 0, margin_ms = 0, add_within_ms = 0, poll_ms = 0;
  long pid = 0;
  char extra = 0;
  if (sscanf(argument.c_str(), "%lf %lf %15s %lf %lf %ld %71s %c", &lease_ms, &margin_ms, lifetime_text, &add_within_ms, &poll_ms, &pid, boot, &extra) != 7 ||
      !std::isfinite(lease_ms) || !std::isfinite(margin_ms) || !std::isfinite(poll_ms) || !std::isfinite(add_within_ms) || margin_ms < 0 ||
      lease_ms <= margin_ms || add_within_ms < 0 || poll_ms < 1 || pid < 0) {
    return WriteLine(seq + " ERR bad lock wait terms");
  }
  Guard::LockTerms terms;
  if (!vip::guard::ParseLifetime(lifetime_text, &terms.lifetime) || terms.lifetime == vip::guard::kForever) return WriteLine(seq + " ERR bad lifetime");
  if (!vip::guard::ValidBootId(boot)) return WriteLine(seq + " ERR bad boot id");
  if (!guard.has_lock_fd) return WriteLine(seq + " ERR no lock fd");
  if (guard.armed) return WriteLine(seq + " ERR armed: a leader does not wait for the lock");
  if (guard.take.Empty()) return WriteLine(seq + " ERR no takeover plan");
  if (guard.lock_wait.active()) return WriteLine(seq + " ERR already waiting");
  terms.lease_ms = lease_ms;
  terms.margin_ms = margin_ms;
  terms.add_within_ms = add_within_ms;
  terms.pid = pid;
  terms.boot = boot;
  std::string why;
  if (!guard.lock_wait.Start(kLockFd, poll_ms, MonotonicMs(), &why)) return WriteLine(seq + " ERR " + why);
  guard.lock_terms = terms;
  RehearseLockAcquired(terms);
  WriteLine(seq + " OK");
}

// The wait got the lock on fd 3: the elector's description holds it now.
// Decide as the elector's attempt() would (waitBeforeTakeover on the record),
// record the grant, take over, report. Every outcome leaves the lock held:
// the host's elector adopts it, or judges it again itself.
//   * LOCKED taken <acquired> <deadline> <armed> <added> <first|-> <sent|->
//   * LOCKED failed <acquired> <deadline> <errno> <text>   recorded; TAKE refused (nothing added, disarmed)
//   * LOCKED held <acquired> <until>          a dead holder's VIP may be there until then: not taken
//   * LOCKED unrecorded <acquired> <errno>    the record could not be written: not taken
void OnLockAcquired(Guard& guard) {
  // Read before anything else, as the elector: the lease counts from when we knew we held it.
  const double acquired = MonotonicMs();
  // Formatted for the report line only, after the takeover: nothing but the
  // record's read and write comes between the flock and the first add.
  auto at = [acquired] {
    char text[32];
    snprintf(text, sizeof(text), "%.6f", acquired);
    return std::string(text);
  };
  const Guard::LockTerms& terms = guard.lock_terms;
  vip::guard::LockRecord record = ReadLockRecord();
  if (vip::guard::WaitBeforeTakeover(record, terms.boot, acquired) > 0) {
    char until[32];
    snprintf(until, sizeof(until), "%.6f", record.until);
    return WriteLine("* LOCKED held " + at() + " " + until);
  }
  // The elector's grant: deadline = now + leaseMs, in the file before the
  // VIP exists. The guard writes it only here, while the host's elector
  // waits (deferred); from 'elected' on, the elector writes every renewal.
  const double deadline = acquired + terms.lease_ms;
  const std::string held = vip::guard::EncodeHeldRecord(deadline, terms.boot, terms.pid);
  ssize_t written = held.empty() ? -1 : pwrite(kLockFd, held.data(), held.size(), 0);
  if (written != static_cast<ssize_t>(held.size())) {
    int err = written < 0 && !held.empty() ? errno : EIO;
    return WriteLine("* LOCKED unrecorded " + at() + " " + std::to_string(err));
  }
  std::string result;
  bool ok = false;
  if (MonotonicMs() - acquired > terms.add_within_ms) {
    // Preempted since the flock: the lifetime the host chose would let the
    // VIP outlive the grant. Nothing added; the host takes over with its own.
    result = "0 too late for the lifetime given";
  } else {
    ok = Take(guard, deadline - terms.margin_ms, terms.lifetime, &result);
  }
  char grant[32];
  snprintf(grant, sizeof(grant), "%.6f", deadline);
  WriteLine(std::string("* LOCKED ") + (ok ? "taken " : "failed ") + at() + " " + grant + " " + result);
}

// One step of the lock wait after poll (or a command): takes over when it got the lock.
void StepLockWait(Guard& guard, bool readable) {
  if (!guard.lock_wait.active()) return;
  int err = 0;
  switch (guard.lock_wait.Step(readable, MonotonicMs(), &err)) {
    case vip::guard::LockWait::kAcquired:
      return OnLockAcquired(guard);
    case vip::guard::LockWait::kFailed:
      return WriteLine(std::string("* LOCKED error ") + std::to_string(err) + " " + strerror(err));
    case vip::guard::LockWait::kWaiting:
      return;
  }
}

void HandleLine(Guard& guard, const std::string& line) {
  size_t space = line.find(' ');
  std::string seq = SequenceOf(line.substr(0, space));
  std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
  size_t space2 = rest.find(' ');
  std::string command = rest.substr(0, space2);
  std::string argument = space2 == std::string::npos ? "" : rest.substr(space2 + 1);

  if (command == "ACTION") {
    std::vector<uint8_t> bytes;
    // At least an nlmsghdr.
    if (!DecodeHex(argument, &bytes) || bytes.size() < 16) return WriteLine(seq + " ERR bad hex");
    guard.actions.push_back(std::move(bytes));
  } else if (command == "RECORD") {
    std::vector<uint8_t> bytes;
    if (argument.size() > 8192 || !DecodeHex(argument, &bytes)) return WriteLine(seq + " ERR bad record");
    guard.release_record = std::move(bytes);
  } else if (command == "CLEAR") {
    guard.actions.clear();
  } else if (command == "ARM") {
    char* end = nullptr;
    double deadline = strtod(argument.c_str(), &end);
    if (end == argument.c_str() || !std::isfinite(deadline)) return WriteLine(seq + " ERR bad deadline");
    guard.deadline_ms = deadline;
    guard.armed = true;
  } else if (command == "DISARM") {
    guard.armed = false;
  } else if (command == "FENCE") {
    Fence(guard, "requested");
  } else if ((command == "TAKECLEAR" || command == "TAKEADD" || command == "TAKEFRAME") && guard.lock_wait.active()) {
    // The takeover at the lock may happen between any two lines: never with half a plan.
    return WriteLine(seq + " ERR lock wait in progress (LOCKCANCEL first)");
  } else if (command == "TAKECLEAR") {
    guard.take.Clear();
  } else if (command == "TAKEADD") {
    size_t split = argument.find(' ');
    std::vector<uint8_t> add;
    std::vector<uint8_t> undo;
    if (split == std::string::npos || !DecodeHex(argument.substr(0, split), &add) || !DecodeHex(argument.substr(split + 1), &undo)) {
      return WriteLine(seq + " ERR bad hex");
    }
    std::string why;
    if (!guard.take.AddStep(std::move(add), std::move(undo), &why)) return WriteLine(seq + " ERR " + why);
  } else if (command == "TAKEFRAME") {
    size_t split = argument.find(' ');
    std::vector<uint8_t> frame;
    char* end = nullptr;
    long ifindex = split == std::string::npos ? 0 : strtol(argument.c_str(), &end, 10);
    if (ifindex <= 0 || end != argument.c_str() + split || !DecodeHex(argument.substr(split + 1), &frame)) {
      return WriteLine(seq + " ERR bad frame");
    }
    std::string why;
    if (!guard.take.AddFrame(static_cast<int>(ifindex), std::move(frame), &why)) return WriteLine(seq + " ERR " + why);
  } else if (command == "TAKE") {
    size_t split = argument.find(' ');
    char* end = nullptr;
    double deadline = strtod(argument.c_str(), &end);
    if (split == std::string::npos || end != argument.c_str() + split || !std::isfinite(deadline)) return WriteLine(seq + " ERR bad deadline");
    uint32_t lifetime = 0;
    if (!vip::guard::ParseLifetime(argument.substr(split + 1), &lifetime)) return WriteLine(seq + " ERR bad lifetime");
    std::string result;
    return WriteLine(seq + (Take(guard, deadline, lifetime, &result) ? " OK " : " ERR TAKE ") + result);
  } else if (command == "LOCKWAIT") {
    return StartLockWait(guard, seq, argument);
  } else if (command == "LOCKCANCEL") {
    // Any "* LOCKED" line of the wait was written before this reply.
    guard.lock_wait.Cancel();
  } else if (command == "PING") {
    // nothing: the OK is the answer
  } else {
    return WriteLine(seq + " ERR unknown command");
  }
  WriteLine(seq + " OK");
}

// Fences if the deadline has passed: before anything read from the pipe is
// handled (a late ARM from a host that was frozen must not postpone it).
void FenceIfDue(Guard& guard) {
  if (guard.armed && guard.deadline_ms - MonotonicMs() <= 0) Fence(guard, "deadline");
}

// Splits what was read into lines and handles each, keeping at most kMaxLine
// bytes of an unfinished one.
void Consume(Guard& guard, const char* data, size_t size) {
  size_t pos = 0;
  while (pos < size) {
    const char* newline = static_cast<const char*>(memchr(data + pos, '\n', size - pos));
    const size_t end = newline != nullptr ? static_cast<size_t>(newline - data) : size;
    const size_t piece = end - pos;
    if (guard.discarding) {
      // skipped
    } else if (guard.input.size() + piece > kMaxLine) {
      std::string start = guard.input.empty() ? std::string(data + pos, std::min<size_t>(piece, 32)) : guard.input.substr(0, 32);
      guard.long_seq = SequenceOf(start.substr(0, start.find(' ')));
      guard.discarding = true;
      guard.input.clear();
    } else {
      guard.input.append(data + pos, piece);
    }
    if (newline == nullptr) break;
    pos = end + 1;
    FenceIfDue(guard);
    if (guard.discarding) {
      guard.discarding = false;
      WriteLine(guard.long_seq + " ERR line too long");
    } else if (!guard.input.empty()) {
      HandleLine(guard, guard.input);
    }
    guard.input.clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  Guard guard;
  std::string netns;
  bool lifeline = false;
  long nice_value = 0;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--netns" && i + 1 < argc) {
      netns = argv[++i];
    } else if (arg == "--lock-fd") {
      guard.has_lock_fd = fcntl(kLockFd, F_GETFD) >= 0;
    } else if (arg == "--lifeline-fd") {
      lifeline = fcntl(kLifelineFd, F_GETFD) >= 0;
    } else if (arg == "--nice" && i + 1 < argc) {
      const char* text = argv[++i];
      char* end = nullptr;
      nice_value = strtol(text, &end, 10);
      if (end == text || *end != '\0' || nice_value < -20 || nice_value > 19) {
        fprintf(stderr, "vip_guard: --nice takes -20 to 19\n");
        return 2;
      }
    } else {
      fprintf(stderr, "usage: vip_guard [--netns PATH] [--lock-fd] [--lifeline-fd] [--nice N]  (commands on stdin)\n");
      return 2;
    }
  }
  // Before any thread starts (Linux keeps a nice value per thread; new ones
  // inherit it): the fence after the host's death and the takeover at the
  // lock run while the dying host's exit and everything else compete for the
  // CPUs, and a guard that waits its turn there is what makes a failover slow.
  if (nice_value != 0 && setpriority(PRIO_PROCESS, 0, static_cast<int>(nice_value)) != 0) {
    fprintf(stderr, "vip_guard: cannot set nice %ld (%s): running at the inherited priority; grant CAP_SYS_NICE for faster fencing on a busy host\n",
            nice_value, strerror(errno));
  }
  int host_died_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (lifeline && host_died_fd >= 0) {
    void* shared = mmap(nullptr, kLifelineSize, PROT_READ | PROT_WRITE, MAP_SHARED, kLifelineFd, 0);
    if (shared != MAP_FAILED) {
      std::thread(WatchLifeline, static_cast<pthread_mutex_t*>(shared), host_died_fd).detach();
    } else {
      fprintf(stderr, "vip_guard: lifeline unusable (%s); relying on the pipe's EOF\n", strerror(errno));
    }
  }
  if (int err = vip::EnterNetns(netns)) {
    fprintf(stderr, "vip_guard: cannot enter %s: %s\n", netns.c_str(), strerror(err));
    return 1;
  }
  vip::NlError error;
  if (!guard.netlink.Open("", {}, &error)) {
    fprintf(stderr, "vip_guard: netlink %s: %s\n", error.syscall.c_str(), strerror(error.err));
    return 1;
  }
  // Never block on the host: neither the replies nor a log line may hold up a fence.
  MakeNonBlocking(STDOUT_FILENO);
  MakeNonBlocking(STDERR_FILENO);
  WriteLine("* READY " + std::to_string(getpid()));

  char buffer[8192];
  for (;;) {
    int timeout = -1;
    if (guard.armed) {
      double left = guard.deadline_ms - MonotonicMs();
      if (left <= 0) {
        Fence(guard, "deadline");
        continue;
      }
      // Wake at least once a minute: a far deadline (a static leader's) must
      // not overflow poll's int timeout.
      timeout = left > 60000 ? 60000 : static_cast<int>(std::ceil(left));
    }
    // A lock wait's next try (a retry after an event, the fallback poll) may be due sooner.
    const int lock_timeout = guard.lock_wait.TimeoutMs(MonotonicMs());
    if (lock_timeout >= 0 && (timeout < 0 || lock_timeout < timeout)) timeout = lock_timeout;
    pollfd fds[4] = {{STDIN_FILENO, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLOUT, 0}, {guard.lock_wait.fd(), POLLIN, 0}};
    if (host_died_fd >= 0) fds[1].fd = host_died_fd;
    // Only a non-blocking stdout keeps replies pending; poll for room then.
    if (!output.pending.empty() && !output.dead) fds[2].fd = STDOUT_FILENO;
    int ready = poll(fds, 4, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) {
      StepLockWait(guard, false);  // a retry or the fallback poll is due
      continue;                    // deadline check at the top of the loop
    }
    if (fds[1].revents & POLLIN) {
      uint64_t value = 0;
      if (read(host_died_fd, &value, sizeof(value)) == sizeof(value) && value == 1) break;  // host died
      close(host_died_fd);  // the host let go of the lifeline: keep serving the pipe
      host_died_fd = -1;
      continue;
    }
    if (fds[2].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      output.dead = true;  // the host closed its end of our stdout
      output.pending.clear();
    } else if (fds[2].revents & POLLOUT) {
      FlushOutput();
    }
    // Commands first: a LOCKCANCEL that is waiting in the pipe ends the wait
    // before the lock is tried again.
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;  // EOF: the host is gone (or closed us)
      if (n > 0) {
        // The deadline first: a frozen host that wakes up and writes late (or
        // anything else written to the pipe) can't delay the fence.
        FenceIfDue(guard);
        Consume(guard, buffer, static_cast<size_t>(n));
      }
    }
    // The lock wait: an inotify event, a due retry, or the try right after LOCKWAIT.
    StepLockWait(guard, (fds[3].revents & POLLIN) != 0);
  }
  if (guard.armed) Fence(guard, "host-exit");
  return 0;
}
