// The lifeline between the host and its guard process, and the guard's
// command pipe.
//
// The guard must learn of the host's death as early as possible. A pipe's EOF
// comes late: on SIGKILL the kernel tears down the whole address space
// (exit_mm) before it closes the files (exit_files), which for a Node process
// takes 5-30 ms. Robust futexes are released earlier, in the dying thread's
// mm_release, right at the start of do_exit. So the host's JS thread holds a
// process-shared robust mutex in a memfd that the guard maps too; a guard
// thread blocks on it and gets EOWNERDEAD the moment the holder dies.
//
// The command pipe is created here (pipe2 with O_CLOEXEC) so the host can write
// to it with a plain synchronous write(2): once write returns, the guard will
// read the command even if the host dies on the next instruction, which is
// what "arm the guard before adding the VIP" relies on.
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "errors.h"

namespace vip {

namespace {

constexpr size_t kLifelineSize = 4096;

class Lifeline : public Napi::ObjectWrap<Lifeline> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Lifeline",
                       {InstanceAccessor<&Lifeline::Fd>("fd"), InstanceMethod<&Lifeline::Close>("close")});
  }

  explicit Lifeline(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Lifeline>(info) {
    Napi::Env env = info.Env();
    fd_ = memfd_create("vip-announcer-lifeline", MFD_CLOEXEC);
    if (fd_ < 0) throw SystemError(env, errno, "memfd_create");
    if (ftruncate(fd_, kLifelineSize) != 0) {
      int err = errno;
      Release();
      throw SystemError(env, err, "ftruncate");
    }
    void* shared = mmap(nullptr, kLifelineSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (shared == MAP_FAILED) {
      int err = errno;
      Release();
      throw SystemError(env, err, "mmap");
    }
    mutex_ = static_cast<pthread_mutex_t*>(shared);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc == 0) rc = pthread_mutex_lock(mutex_);
    if (rc != 0) {
      Release();
      throw SystemError(env, rc, "pthread_mutex_lock");
    }
    locked_ = true;
  }

  ~Lifeline() override { Release(); }

 private:
  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  // Runs on the JS thread (close() or the finalizer), the thread that locked.
  void Release() {
    if (locked_) pthread_mutex_unlock(mutex_);
    locked_ = false;
    if (mutex_ != nullptr) munmap(mutex_, kLifelineSize);
    mutex_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  pthread_mutex_t* mutex_ = nullptr;
  bool locked_ = false;
};

Napi::Value CreatePipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw SystemError(info.Env(), errno, "pipe2");
  Napi::Array result = Napi::Array::New(info.Env(), 2);
  result.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  result.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return result;
}

}  // namespace

void InitLifeline(Napi::Env env, Napi::Object exports) {
  exports.Set("Lifeline", Lifeline::Define(env));
  exports.Set("createPipe", Napi::Function::New(env, CreatePipe, "createPipe"));
}

}  // namespace vip
