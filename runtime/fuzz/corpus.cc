#include "runtime/fuzz/corpus.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>

namespace sparrow {
namespace fuzz {

std::vector<std::string> ListInputs(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return {path};
  std::vector<std::string> files;
  if (DIR* d = opendir(path.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string file = path + "/" + e->d_name;
      if (stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        files.push_back(file);
      }
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool ReadFile(const std::string& path, std::vector<uint8_t>* bytes) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  bytes->clear();
  uint8_t buf[1 << 14];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    bytes->insert(bytes->end(), buf, buf + n);
  }
  const bool ok = ferror(f) == 0;
  fclose(f);
  return ok;
}

}  // namespace fuzz
}  // namespace sparrow
