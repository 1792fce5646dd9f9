// Errors are values across the whole pipeline: every stage returns Result<T>.
// An Error carries the instruction index and, when BTF line info exists, the source line.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace userbpf {

enum class ErrorKind : uint8_t {
  InvalidArgument,   // bad CLI/API input
  Io,                // file missing or unreadable
  Malformed,         // bytecode / ELF / text that cannot be decoded
  Unsupported,       // valid but not implemented here
  Rejected,          // the verifier refused the program
  Runtime,           // the program faulted while running
};

struct Error {
  ErrorKind kind = ErrorKind::InvalidArgument;
  std::string message;
  int64_t insn = -1;        // instruction index the error is about, -1 when none
  std::string source_line;  // "file.c:12: text" when BTF line info knows it

  // Human-readable one-line form: "insn 12: message (file.c:34)".
  std::string str() const {
    std::string s;
    if (insn >= 0) s = "insn " + std::to_string(insn) + ": ";
    s += message;
    if (!source_line.empty()) s += " [" + source_line + "]";
    return s;
  }
};

inline Error make_error(ErrorKind kind, std::string msg, int64_t insn = -1) {
  return Error{kind, std::move(msg), insn, {}};
}

// Minimal std::expected stand-in (C++20 has none).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error err) : v_(std::move(err)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace userbpf
