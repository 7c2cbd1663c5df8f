// Runs a fuzz harness's LLVMFuzzerTestOneInput over saved inputs without
// libFuzzer, so every build (also the non-sanitized release preset) replays the
// seeds and native/fuzz/regressions/<harness>/ through the harness's property
// checks. Arguments are files or directories (a missing directory is empty;
// names starting with '.' are skipped). A failing input aborts, naming it.
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static bool Replay(const std::string& path) {
  FILE* file = fopen(path.c_str(), "rb");
  if (file == nullptr) {
    perror(path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof(chunk), file)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  fclose(file);
  fprintf(stderr, "replay %s (%zu bytes)\n", path.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

int main(int argc, char** argv) {
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat info;
    if (stat(argv[i], &info) != 0) continue;  // no regressions saved yet
    std::vector<std::string> files;
    if (S_ISDIR(info.st_mode)) {
      DIR* dir = opendir(argv[i]);
      if (dir == nullptr) return 1;
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') files.push_back(std::string(argv[i]) + "/" + entry->d_name);
      }
      closedir(dir);
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(argv[i]);
    }
    for (const std::string& file : files) {
      if (!Replay(file)) return 1;
      ++replayed;
    }
  }
  printf("replayed %zu inputs\n", replayed);
  return 0;
}
