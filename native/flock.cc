// FileLock: an exclusive flock(2) on one file, plus an inotify watch that tells
// a waiting candidate the moment the holder lets go.
//
// Why inotify: flock has no non-blocking notification, and a blocking flock in
// a thread cannot be cancelled cleanly. Every way a holder lets go ends in a
// close of the file, which inotify reports as IN_CLOSE_*: the holder dies (the
// kernel closes its fds), or it unlocks and then "pokes" (opens and closes the
// file). The waiter then retries tryLock.
//
// One fd for the object's whole life: the announcer hands this fd to its guard
// process, which then shares the open file description and with it the lock.
// The lock is held until every copy is closed or one of them unlocks, so this
// class never reopens the file, and a tryLock that succeeds on our own fd means
// "our description holds the lock" (flock on a description that already holds
// LOCK_EX succeeds).
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "errors.h"
#include "fd_watch.h"

namespace vip {

namespace {

constexpr uint32_t kWatchMask =
    IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

[[noreturn]] void ThrowClosed(Napi::Env env) {
  Napi::Error error = Napi::Error::New(env, "FileLock is closed");
  error.Set("code", Napi::String::New(env, "ERR_LOCK_CLOSED"));
  throw error;
}

// ---------------------------------------------------------------------------
// Opening the lock file safely.
//
// flock(2) needs no write access: anyone who can open the file, even
// read-only, can take LOCK_EX and keep every replica from being elected. And
// whoever can write it can forge the record at its start (a "held until" far
// in the future that a successor waits out). Whoever can write a directory on
// its path can replace the file, after which candidates lock different files.
// So the file is created 0600, never through a symlink (O_NOFOLLOW), and an
// existing one is refused unless it is a regular file of this process's user
// with one link, not writable by group or others (readable only: the mode is
// tightened to 0600, since the file is ours), in directories that only this
// user or root can change (or sticky ones, like /tmp, where others cannot
// remove or rename what they do not own). docs/security.md has the reasoning.

// The start of every lock record (MAGIC in src/electors/lock-record.ts, less
// its version number): an existing non-empty lock file must begin with it.
constexpr char kRecordMagic[] = "vip-announcer-lock/";

std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string ModeText(mode_t mode) {
  char text[16];
  snprintf(text, sizeof(text), "0%o", static_cast<unsigned>(mode & 07777));
  return text;
}

const char* TypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

[[noreturn]] void ThrowUnsafe(Napi::Env env, const std::string& path, const std::string& problem) {
  Napi::Error error = Napi::Error::New(env, "lock file " + Quote(path) + ": " + problem);
  error.Set("code", Napi::String::New(env, "ERR_LOCK_FILE_UNSAFE"));
  error.Set("path", Napi::String::New(env, path));
  throw error;
}

// Closes the fd when it goes out of scope (the throwing paths).
struct ScopedFd {
  int fd = -1;
  explicit ScopedFd(int value) : fd(value) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd >= 0) close(fd);
  }
  int release() {
    int value = fd;
    fd = -1;
    return value;
  }
};

std::string NotRegular(mode_t mode) {
  if (S_ISLNK(mode)) {
    return "is a symbolic link, which is not followed (whoever can change it or its target would decide "
           "what the lock is): name the file itself";
  }
  return std::string("is ") + TypeName(mode) + ", not a regular file";
}

// The directory holding the lock file and every one above it: refused when
// group or others can write it without the sticky bit, or when it belongs to
// a user other than ours or root. Checked on fds (walking ".."), so the
// directory the file is then opened in is the one checked.
int OpenCheckedDirectory(Napi::Env env, const std::string& path, const std::string& dir) {
  int dirfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) throw SystemError(env, errno, "open", path);
  ScopedFd guard(dirfd);
  // Names for the messages only.
  char resolved[PATH_MAX];
  std::string name = realpath(dir.c_str(), resolved) != nullptr ? std::string(resolved) : dir;
  const uid_t euid = geteuid();
  int current = dup(dirfd);
  if (current < 0) throw SystemError(env, errno, "dup", path);
  ScopedFd walk(current);
  for (int depth = 0; depth < 4096; depth++) {
    struct stat st;
    if (fstat(walk.fd, &st) != 0) throw SystemError(env, errno, "fstat", name);
    const std::string which = depth == 0 ? "its directory " + Quote(name) : "the directory " + Quote(name) + " above it";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
      ThrowUnsafe(env, path,
                  which + " is writable by group or others without the sticky bit (mode " + ModeText(st.st_mode) +
                      "): they could replace the lock file, and candidates would then lock different files; "
                      "chmod go-w (or +t) that directory, or put the lock file elsewhere");
    }
    if (st.st_uid != euid && st.st_uid != 0) {
      ThrowUnsafe(env, path,
                  which + " is owned by uid " + std::to_string(st.st_uid) + ", neither this process's user (uid " +
                      std::to_string(euid) + ") nor root, who could replace the lock file; put it elsewhere");
    }
    int parent = openat(walk.fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) throw SystemError(env, errno, "open", name + "/..");
    struct stat up;
    if (fstat(parent, &up) != 0) {
      int err = errno;
      close(parent);
      throw SystemError(env, err, "fstat", name + "/..");
    }
    close(walk.fd);
    walk.fd = parent;
    if (up.st_dev == st.st_dev && up.st_ino == st.st_ino) break;  // "/" (or a chroot's root)
    const size_t slash = name.find_last_of('/');
    name = slash == std::string::npos || slash == 0 ? "/" : name.substr(0, slash);
  }
  return guard.release();
}

// Opens (creating 0600 if needed) the lock file at `path` O_RDWR, or throws.
int OpenLockFile(Napi::Env env, const std::string& path) {
  if (path.back() == '/') ThrowUnsafe(env, path, "ends with \"/\": it names a directory, not a regular file");
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  ScopedFd dirfd(OpenCheckedDirectory(env, path, dir));

  // What is there now: never open a device, FIFO or socket at all. (The fstat
  // after the open is what counts; O_NONBLOCK keeps a FIFO that appears in
  // between from blocking the open.)
  struct stat st;
  if (fstatat(dirfd.fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
    ThrowUnsafe(env, path, NotRegular(st.st_mode));
  }
  int fd = openat(dirfd.fd, base.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (fstatat(dirfd.fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
      ThrowUnsafe(env, path, NotRegular(st.st_mode));
    }
    throw SystemError(env, err, "open", path);
  }
  ScopedFd file(fd);
  if (fstat(fd, &st) != 0) throw SystemError(env, errno, "fstat", path);
  if (!S_ISREG(st.st_mode)) ThrowUnsafe(env, path, NotRegular(st.st_mode));
  const uid_t euid = geteuid();
  if (st.st_uid != euid) {
    ThrowUnsafe(env, path,
                "is owned by uid " + std::to_string(st.st_uid) + ", not by this process's user (uid " +
                    std::to_string(euid) + "): its owner could open it and hold the lock; remove it (it is "
                    "created again, 0600) or chown it");
  }
  if (st.st_nlink != 1) {
    ThrowUnsafe(env, path,
                "has " + std::to_string(st.st_nlink) +
                    " hard links: under another name it may be open to others; use a file of its own");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    ThrowUnsafe(env, path,
                "is writable by group or others (mode " + ModeText(st.st_mode) +
                    "): they could hold the lock and forge its record; remove it (it is created again, 0600) "
                    "after making sure no one else has it open, or chmod 600 it");
  }
  // A file with other content is not a lock file: a mistyped path (or one
  // naming /etc/passwd) must neither get a record written over its start nor
  // its mode changed.
  if (st.st_size > 0) {
    char head[sizeof(kRecordMagic) - 1];
    ssize_t n;
    do n = pread(fd, head, sizeof(head), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) throw SystemError(env, errno, "pread", path);
    if (static_cast<size_t>(n) != sizeof(head) || memcmp(head, kRecordMagic, sizeof(head)) != 0) {
      ThrowUnsafe(env, path,
                  "is not a lock file: it holds " + std::to_string(st.st_size) +
                      " bytes that do not start with a lock record (\"" + kRecordMagic +
                      "...\"), and nothing is written over it; name a new or empty file");
    }
  }
  // Readable by group or others (an earlier version created it 0644): it is
  // ours and a lock file, so tighten it. Whoever opened it before keeps that
  // fd; docs/security.md says what to do about that.
  if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) throw SystemError(env, errno, "fchmod", path);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) throw SystemError(env, errno, "fcntl", path);
  return file.release();
}

class FileLock : public Napi::ObjectWrap<FileLock> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FileLock",
                       {InstanceAccessor<&FileLock::Fd>("fd"),
                        InstanceAccessor<&FileLock::Path>("path"),
                        InstanceMethod<&FileLock::TryLock>("tryLock"),
                        InstanceMethod<&FileLock::Unlock>("unlock"),
                        InstanceMethod<&FileLock::IsCurrent>("isCurrent"),
                        InstanceMethod<&FileLock::Watch>("watch"),
                        InstanceMethod<&FileLock::Unwatch>("unwatch"),
                        InstanceMethod<&FileLock::Close>("close")});
  }

  // new FileLock(path)
  explicit FileLock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FileLock>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) ThrowTypeError(env, "path", "must be a string");
    path_ = info[0].As<Napi::String>().Utf8Value();
    if (path_.empty() || path_.find('\0') != std::string::npos) {
      ThrowTypeError(env, "path", "must be a non-empty path without NUL bytes");
    }
    fd_ = OpenLockFile(env, path_);
    env_ = env;
    napi_add_env_cleanup_hook(env_, OnEnvTeardown, this);
  }

  ~FileLock() override { Release(); }

 private:
  // A worker that exits without close() must not keep the lock in the process.
  static void OnEnvTeardown(void* data) { static_cast<FileLock*>(data)->Release(); }

  void Release() {
    if (watch_ != nullptr) {
      watch_->Close();
      watch_ = nullptr;
    }
    if (fd_ < 0) return;
    close(fd_);
    fd_ = -1;
    napi_remove_env_cleanup_hook(env_, OnEnvTeardown, this);
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }

  // tryLock() -> true when our open file description holds the lock now.
  Napi::Value TryLock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) ThrowClosed(env);
    int rc;
    do rc = flock(fd_, LOCK_EX | LOCK_NB);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) return Napi::Boolean::New(env, true);
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    throw SystemError(env, errno, "flock", path_);
  }

  // unlock(): releases the lock (for every fd sharing our description, the
  // guard's copy included), then pokes the file so that watchers wake up.
  Napi::Value Unlock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) ThrowClosed(env);
    if (flock(fd_, LOCK_UN) != 0) throw SystemError(env, errno, "flock", path_);
    Poke();
    return env.Undefined();
  }

  // Open and close the very inode we lock (through /proc, not the path, in
  // case the path now names another file): watchers get IN_CLOSE_NOWRITE.
  void Poke() {
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    int fd = open(self.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) close(fd);
  }

  // isCurrent() -> whether the path still names the file our fd has open. If
  // someone deleted or replaced it, new candidates lock a different file and
  // our lock no longer excludes them.
  Napi::Value IsCurrent(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) ThrowClosed(env);
    struct stat ours, named;
    if (fstat(fd_, &ours) != 0) throw SystemError(env, errno, "fstat", path_);
    if (stat(path_.c_str(), &named) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return Napi::Boolean::New(env, false);
      throw SystemError(env, errno, "stat", path_);
    }
    return Napi::Boolean::New(env, ours.st_nlink > 0 && ours.st_dev == named.st_dev && ours.st_ino == named.st_ino);
  }

  // watch(callback(error: Error | null, mask: number)): inotify on the file,
  // one call per batch of events with their masks OR-ed together. Replaces an
  // earlier watch.
  Napi::Value Watch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) ThrowClosed(env);
    if (info.Length() < 1 || !info[0].IsFunction()) ThrowTypeError(env, "callback", "must be a function");
    StopWatch();
    int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify < 0) throw SystemError(env, errno, "inotify_init1", path_);
    if (inotify_add_watch(inotify, path_.c_str(), kWatchMask) < 0) {
      int err = errno;
      close(inotify);
      throw SystemError(env, err, "inotify_add_watch", path_);
    }
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (!context_) context_ = std::make_unique<Napi::AsyncContext>(env, "vip-announcer:FileLock");
    int uv_error = 0;
    watch_ = FdWatch::Start(env, inotify, [this](int status) { OnEvents(status); }, [this] { watch_ = nullptr; },
                            &uv_error);
    if (watch_ == nullptr) throw SystemError(env, -uv_error, "uv_poll_start", path_);
    Ref();  // a watching lock stays alive (and calls back) until unwatched
    return env.Undefined();
  }

  Napi::Value Unwatch(const Napi::CallbackInfo& info) {
    StopWatch();
    return info.Env().Undefined();
  }

  // The callback closes over the JavaScript FileLock (see EndWatch).
  void StopWatch() { EndWatch(watch_, callback_, *this); }

  void OnEvents(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      CallFromLoop(env, callback_, *context_, {SystemError(env, -status, "uv_poll", path_).Value(), env.Undefined()});
      return;
    }
    uint32_t mask = 0;
    int read_error = 0;
    alignas(struct inotify_event) char buffer[4096];
    for (;;) {
      ssize_t n = read(watch_->fd(), buffer, sizeof(buffer));
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) read_error = errno;
        break;
      }
      for (ssize_t offset = 0; offset + static_cast<ssize_t>(sizeof(struct inotify_event)) <= n;) {
        const struct inotify_event* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
        mask |= event->mask;
        offset += sizeof(struct inotify_event) + event->len;
      }
    }
    if (read_error != 0) {
      CallFromLoop(env, callback_, *context_, {SystemError(env, read_error, "read", path_).Value(), env.Undefined()});
    } else if (mask != 0) {
      CallFromLoop(env, callback_, *context_, {env.Null(), Napi::Number::New(env, mask)});
    }
  }

  // close(): stops watching and closes our fd. The lock goes with it unless
  // another process (the guard) still holds a copy of the description.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (watch_ != nullptr) Unref();
    Release();
    callback_.Reset();  // see StopWatch
    return info.Env().Undefined();
  }

  napi_env env_ = nullptr;
  std::string path_;
  int fd_ = -1;
  FdWatch* watch_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace

void InitFlock(Napi::Env env, Napi::Object exports) {
  exports.Set("FileLock", FileLock::Define(env));
  Napi::Object events = Napi::Object::New(env);
  events.Set("closeWrite", IN_CLOSE_WRITE);
  events.Set("closeNoWrite", IN_CLOSE_NOWRITE);
  events.Set("modify", IN_MODIFY);
  events.Set("attrib", IN_ATTRIB);
  events.Set("deleteSelf", IN_DELETE_SELF);
  events.Set("moveSelf", IN_MOVE_SELF);
  events.Set("ignored", IN_IGNORED);
  events.Set("queueOverflow", IN_Q_OVERFLOW);
  exports.Set("inotifyEvents", events);
}

}  // namespace vip
