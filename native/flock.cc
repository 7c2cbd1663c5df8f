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
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw SystemError(env, errno, "open", path_);
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

  void StopWatch() {
    if (watch_ == nullptr) return;
    watch_->Close();
    watch_ = nullptr;
    Unref();
  }

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
