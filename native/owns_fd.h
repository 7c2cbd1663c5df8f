// Base of the classes that own a file descriptor or a socket and close it in
// their destructor: a copy would close it twice, so none can be copied (or
// moved: nothing here needs to move one).
#pragma once

namespace vip {

class OwnsFd {
 public:
  OwnsFd(const OwnsFd&) = delete;
  OwnsFd& operator=(const OwnsFd&) = delete;

 protected:
  OwnsFd() = default;
  ~OwnsFd() = default;
};

}  // namespace vip
