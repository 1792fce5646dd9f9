// The packet test run, independent of how the program is run (runtime program
// or bare engine).  Internal to src/hooks.
#pragma once

#include <functional>

#include "userbpf/hooks.h"
#include "userbpf/runtime.h"

namespace userbpf::hooks {

struct PacketRunner {
  // Fills helpers, regions and ExecContext::user (a RunState) before the packet
  // regions are added.
  std::function<void(vm::ExecContext&, runtime::RunState&)> prepare;
  std::function<Result<uint64_t>(vm::ExecContext&)> run;
};

Result<TestRunResult> run_packet_test(uint32_t prog_type, const TestRunInput& in, const PacketRunner& runner);

}  // namespace userbpf::hooks
