// Packet hooks: run an XDP, tc (sched_cls / sched_act) or socket filter program
// on a packet exactly as the kernel's BPF_PROG_TEST_RUN does — same packet
// layout and limits, same context values, same output packet and context.
#pragma once

#include <cstdint>
#include <vector>

#include "userbpf/result.h"
#include "userbpf/vm.h"

namespace userbpf::runtime {
class Program;
}

namespace userbpf::hooks {

struct TestRunInput {
  std::vector<uint8_t> data;    // the packet, starting with the Ethernet header (>= 14 bytes)
  std::vector<uint8_t> ctx_in;  // struct xdp_md / struct __sk_buff image; empty: none
  bool want_ctx_out = false;    // return ctx_out even without ctx_in (the kernel's ctx_out buffer)
  uint32_t repeat = 1;          // runs on the same packet, as the kernel does (0 counts as 1)
};

struct TestRunResult {
  uint32_t retval = 0;            // low 32 bits of r0 of the last run (what the kernel reports)
  uint64_t r0 = 0;                // all of r0
  std::vector<uint8_t> data_out;  // XDP: from data_meta; socket filter: 14 zeroed bytes + the rest
  std::vector<uint8_t> ctx_out;   // when ctx_in was given or want_ctx_out
  uint64_t duration_ns = 0;       // mean per run
};

// Whether test_run handles programs of this type (XDP, sched_cls, sched_act, socket filter).
bool supports_test_run(uint32_t prog_type);

// Runs a program of the runtime (its object's maps and helpers).  Errors: the
// kernel's refusals (bad sizes, bad ctx_in: ErrorKind::InvalidArgument, message
// naming the errno), unsupported setups (other devices, multi-buffer XDP), or
// the program faulting (ErrorKind::Runtime).
Result<TestRunResult> test_run(const runtime::Program& prog, const TestRunInput& in);

// Runs a bare engine built from context-rewritten instructions
// (rewrite_ctx_accesses) with `helpers`; no object, so no maps.
Result<TestRunResult> test_run(const vm::Engine& engine, uint32_t prog_type, const vm::HelperRegistry& helpers,
                               const TestRunInput& in);

}  // namespace userbpf::hooks
