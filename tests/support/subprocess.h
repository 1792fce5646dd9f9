// Runs a command with optional stdin and captures stdout, stderr and the exit code,
// so end-to-end tests drive the CLI and the plugin exactly as a user would.
#pragma once

#include <string>
#include <vector>

namespace userbpf::test {

struct ProcessResult {
  int exit_code = -1;      // -1 when killed by a signal or on timeout
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                          int timeout_ms = 30000);

}  // namespace userbpf::test
