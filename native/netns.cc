#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <thread>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)  // linux/nsfs.h, Linux 4.11
#endif

namespace vip {

namespace {

// Opens a network namespace file, or returns -1 with *err and *syscall set.
//
// Only a namespace file may get as far as setns(2), and nothing may block
// here: this runs on the caller's thread (Node's main thread, or the guard
// before it is ready), and open(2) on a FIFO waits for a writer forever. So
// the open is O_NONBLOCK (a FIFO opens at once, a device gets no controlling
// terminal), and the fd must be a regular file on nsfs (what /run/netns/NAME
// and /proc/PID/ns/net are) holding a network namespace. Anything else is
// EINVAL from "setns", as setns(2) itself answers for a file that is not a
// namespace of the type asked for; src/net/validate.ts explains the common
// mistakes in words before a path gets here. A path with a NUL byte would be
// cut short by the kernel's C string: EINVAL from "open", nothing opened.
int OpenNetns(const std::string& netns_path, int* err, const char** syscall) {
  *syscall = "open";
  if (netns_path.find('\0') != std::string::npos) {
    *err = EINVAL;
    return -1;
  }
  int nsfd = open(netns_path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (nsfd < 0) {
    *err = errno;
    return -1;
  }
  struct stat st;
  struct statfs fs;
  if (fstat(nsfd, &st) != 0 || fstatfs(nsfd, &fs) != 0) {
    *err = errno;
    *syscall = "fstat";
    close(nsfd);
    return -1;
  }
  bool namespace_file = S_ISREG(st.st_mode) && static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
  if (namespace_file) {
    // Older kernels lack the ioctl (ENOTTY); setns with CLONE_NEWNET checks the type then.
    int type = ioctl(nsfd, NS_GET_NSTYPE);
    if (type >= 0 && type != CLONE_NEWNET) namespace_file = false;
  }
  if (!namespace_file) {
    *err = EINVAL;
    *syscall = "setns";
    close(nsfd);
    return -1;
  }
  return nsfd;
}

}  // namespace

int EnterNetns(const std::string& netns_path) {
  if (netns_path.empty()) return 0;
  int err = 0;
  const char* syscall = "open";
  int nsfd = OpenNetns(netns_path, &err, &syscall);
  if (nsfd < 0) return err;
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
  int nsfd = OpenNetns(netns_path, err, syscall);
  if (nsfd < 0) return -1;
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
