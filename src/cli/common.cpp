#include "cli/common.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace userbpf::cli {

Result<std::vector<uint8_t>> read_stream(std::FILE* f) {
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  if (std::ferror(f)) return make_error(ErrorKind::Io, std::string("read failed: ") + std::strerror(errno));
  return out;
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error(ErrorKind::Io, "cannot open '" + path + "': " + std::strerror(errno));
  auto r = read_stream(f);
  std::fclose(f);
  if (!r) r.error().message = "'" + path + "': " + r.error().message;
  return r;
}

Status write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return make_error(ErrorKind::Io, "cannot create '" + path + "': " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) return make_error(ErrorKind::Io, "cannot write '" + path + "': " + std::strerror(errno));
  return ok_status();
}

Result<std::vector<uint8_t>> parse_hex(std::string_view text) {
  std::vector<uint8_t> out;
  int pending = -1;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') continue;
    if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X') && pending < 0) {
      ++i;
      continue;
    }
    const int d = digit(c);
    if (d < 0) return make_error(ErrorKind::Malformed, std::string("invalid hex character '") + c + "' at offset " + std::to_string(i));
    if (pending < 0) {
      pending = d;
    } else {
      out.push_back(static_cast<uint8_t>(pending << 4 | d));
      pending = -1;
    }
  }
  if (pending >= 0) return make_error(ErrorKind::Malformed, "odd number of hex digits");
  return out;
}

bool is_elf(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F';
}

int exit_code_for(const Error& e) {
  return e.kind == ErrorKind::Rejected || e.kind == ErrorKind::Runtime ? kExitFailed : kExitBadInput;
}

int report(const Error& e, const char* prog) {
  std::fprintf(stderr, "%s: error: %s\n", prog, e.str().c_str());
  return exit_code_for(e);
}

}  // namespace userbpf::cli
