#include "support/conformance.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace userbpf::test {

std::optional<uint64_t> ConformanceCase::result() const {
  auto it = sections.find("result");
  if (it == sections.end()) return std::nullopt;
  std::string s = it->second;
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t'; }), s.end());
  if (s.empty()) return std::nullopt;
  return std::stoull(s, nullptr, 16);
}

std::optional<ConformanceCase> read_conformance_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  ConformanceCase c;
  c.name = std::filesystem::path(path).filename().string();
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("-- ", 0) == 0) {
      current = line.substr(3);
      c.sections[current];
      continue;
    }
    // '#' lines are comments everywhere except inside C source sections.
    if (current != "c" && !line.empty() && line[0] == '#') continue;
    if (!current.empty()) c.sections[current] += line + "\n";
  }
  return c;
}

std::vector<std::string> list_conformance_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".data") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace userbpf::test
