// Shared by the userbpf CLI and the conformance plugin: file and hex input,
// exit codes, error printing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/result.h"

namespace userbpf::cli {

// Exit codes shared by every command (bpftool-like): 0 success, 1 the program
// was rejected or failed at run time, 2 unusable input.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitBadInput = 2;

Result<std::vector<uint8_t>> read_file(const std::string& path);
Result<std::vector<uint8_t>> read_stream(std::FILE* f);
Status write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// Base16 bytes; whitespace between (or inside) byte pairs is ignored, an optional
// "0x" prefix per token is accepted.
Result<std::vector<uint8_t>> parse_hex(std::string_view text);

bool is_elf(const std::vector<uint8_t>& bytes);

// Exit code for an error: Rejected/Runtime -> 1, everything else -> 2.
int exit_code_for(const Error& e);
// Prints "userbpf: error: ..." to stderr and returns the exit code.
int report(const Error& e, const char* prog = "userbpf");

}  // namespace userbpf::cli
