// Runs the TESTs registered by native/test/*_test.cc: all of them, or those
// named as arguments. Prints one line per test and a closing
// "N passed, N failed"; exits 1 when any failed or a name is unknown.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <string>
#include <vector>

#include "test.h"

namespace vip_test {
namespace {

std::map<std::string, TestFunction>& Registry() {
  static std::map<std::string, TestFunction> tests;
  return tests;
}

std::vector<std::string>* failures = nullptr;

}  // namespace

Registration::Registration(const char* name, TestFunction function) {
  if (!Registry().emplace(name, function).second) {
    fprintf(stderr, "duplicate test name %s\n", name);
    abort();
  }
}

void Fail(const char* file, int line, const std::string& what) {
  const char* base = strrchr(file, '/');
  failures->push_back(std::string(base ? base + 1 : file) + ":" + std::to_string(line) + ": " + what);
}

std::string Hex(const std::vector<uint8_t>& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (uint8_t byte : bytes) {
    text += digits[byte >> 4];
    text += digits[byte & 15];
  }
  return text;
}

}  // namespace vip_test

int main(int argc, char** argv) {
  using namespace vip_test;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) names.push_back(argv[i]);
  if (names.empty()) {
    for (const auto& entry : Registry()) names.push_back(entry.first);
  }
  int passed = 0, failed = 0;
  for (const std::string& name : names) {
    const auto found = Registry().find(name);
    if (found == Registry().end()) {
      printf("not ok %s: no such test\n", name.c_str());
      ++failed;
      continue;
    }
    std::vector<std::string> mine;
    failures = &mine;
    try {
      found->second();
    } catch (const Stop&) {
    }
    if (mine.empty()) {
      printf("ok %s\n", name.c_str());
      ++passed;
    } else {
      printf("not ok %s\n", name.c_str());
      for (const std::string& failure : mine) printf("  %s\n", failure.c_str());
      ++failed;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
