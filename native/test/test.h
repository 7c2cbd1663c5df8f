// A tiny test runner for the native unit tests (no dependency): TEST(name)
// registers a test, CHECK* record a failure and carry on, REQUIRE* end the
// test. native/test/runner.cc runs all tests or the ones named on the command
// line (CMakeLists.txt registers each TEST with ctest by name).
#pragma once
#include <stdint.h>

#include <sstream>
#include <string>
#include <vector>

namespace vip_test {

using TestFunction = void (*)();

struct Registration {
  Registration(const char* name, TestFunction function);
};

// Records a failure of the running test.
void Fail(const char* file, int line, const std::string& what);

// Thrown by REQUIRE*: the running test cannot go on.
struct Stop {};

std::string Hex(const std::vector<uint8_t>& bytes);

template <typename T>
std::string Show(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}
inline std::string Show(uint8_t value) { return std::to_string(value); }
inline std::string Show(const std::vector<uint8_t>& value) { return Hex(value); }

}  // namespace vip_test

#define TEST(name)                                                               \
  static void name();                                                            \
  static const ::vip_test::Registration name##_registration(#name, name);        \
  static void name()

#define CHECK(condition)                                                         \
  do {                                                                           \
    if (!(condition)) ::vip_test::Fail(__FILE__, __LINE__, #condition);          \
  } while (0)

#define CHECK_EQ(actual, expected)                                               \
  do {                                                                           \
    const auto& vip_actual_ = (actual);                                          \
    const auto& vip_expected_ = (expected);                                      \
    if (!(vip_actual_ == vip_expected_)) {                                       \
      ::vip_test::Fail(__FILE__, __LINE__,                                       \
                       std::string(#actual " == " #expected ": got ") +          \
                           ::vip_test::Show(vip_actual_) + ", want " +            \
                           ::vip_test::Show(vip_expected_));                     \
    }                                                                            \
  } while (0)

#define REQUIRE(condition)                                                       \
  do {                                                                           \
    if (!(condition)) {                                                          \
      ::vip_test::Fail(__FILE__, __LINE__, #condition);                          \
      throw ::vip_test::Stop();                                                  \
    }                                                                            \
  } while (0)
