// Reader for bpf_conformance .data files: "-- NAME" sections, '#' comment lines.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace userbpf::test {

struct ConformanceCase {
  std::string name;                       // file name without directory
  std::map<std::string, std::string> sections;  // "asm", "mem", "result", "raw", "error", ...
  std::optional<uint64_t> result() const;
};

std::optional<ConformanceCase> read_conformance_file(const std::string& path);
std::vector<std::string> list_conformance_files(const std::string& dir);

}  // namespace userbpf::test
