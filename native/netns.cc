#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace vip {

int EnterNetns(const std::string& netns_path) {
  if (netns_path.empty()) return 0;
  int nsfd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return errno;
  int rc = setns(nsfd, CLONE_NEWNET);
  int saved = errno;
  close(nsfd);
  return rc == 0 ? 0 : saved;
}

int SocketInNetns(const std::string& netns_path, int domain, int type, int protocol,
                  int* err, const char** syscall) {
  *err = 0;
  *syscall = "socket";
  if (netns_path.empty()) {
    int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) *err = errno;
    return fd;
  }
  // Open the namespace file on the caller's thread so a bad path reports ENOENT
  // without spawning a thread, then let a throwaway thread do the switch: the
  // calling thread (often Node's main thread) never changes namespace.
  int nsfd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    *err = errno;
    *syscall = "open";
    return -1;
  }
  int fd = -1;
  int thread_err = 0;
  const char* thread_syscall = "socket";
  std::thread worker([&] {
    if (setns(nsfd, CLONE_NEWNET) != 0) {
      thread_err = errno;
      thread_syscall = "setns";
      return;
    }
    fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) thread_err = errno;
  });
  worker.join();
  close(nsfd);
  *err = thread_err;
  *syscall = thread_syscall;
  return fd;
}

}  // namespace vip
