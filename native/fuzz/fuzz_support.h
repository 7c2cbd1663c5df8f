// What the fuzz harnesses share: a property check that aborts (so libFuzzer
// saves the input), and the seed-corpus writer their VIP_FUZZ_WRITE_SEEDS
// builds run before fuzzing.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

namespace vip_fuzz {

inline void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "property violated: %s\n", what);
    abort();
  }
}

// `program corpus-dir`: writes seeds[i] to corpus-dir/seed-i. Returns main's exit code.
inline int WriteSeeds(int argc, char** argv, const std::vector<std::vector<uint8_t>>& seeds) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
    return 2;
  }
  for (size_t i = 0; i < seeds.size(); ++i) {
    const std::string path = std::string(argv[1]) + "/seed-" + std::to_string(i);
    FILE* file = fopen(path.c_str(), "wb");
    if (file == nullptr) return 1;
    const bool written = fwrite(seeds[i].data(), 1, seeds[i].size(), file) == seeds[i].size();
    if (fclose(file) != 0 || !written) return 1;
  }
  return 0;
}

}  // namespace vip_fuzz
