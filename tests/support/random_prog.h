// Seeded random eBPF programs for differential testing (userbpf vs the kernel,
// interpreter vs JIT) and fuzzing.  Every program is loop-free, touches only its
// own initialised stack, never reads the context, and is accepted by the kernel
// verifier for a privileged loader.  Deterministic per seed on every platform.
#pragma once

#include <cstdint>
#include <vector>

#include "userbpf/isa.h"

namespace userbpf::testing {

struct RandomProgOptions {
  int min_body = 30;       // random instructions (units) between the prologue and the tail
  int max_body = 60;
  int stack_slots = 8;     // 8-byte slots at r10-8 .. r10-8*stack_slots, all initialised first
  int max_cpu = 4;         // only instructions of this -mcpu version or older
  int max_jump_span = 12;  // how many units forward a branch may skip
  // Fold r1..r9 and every stack slot into r0 before exit, so any wrong register or
  // memory byte shows in the result; false: just `r0 = rN; exit` for a random N.
  bool mix_state = true;
};

std::vector<isa::Insn> random_program(uint64_t seed, const RandomProgOptions& opts = {});

// A value from the distribution the generator uses for immediates and registers
// (edges like 0, -1, INT_MIN, 0x80, 63/64 are frequent).  Exposed for fuzzers.
uint64_t interesting_u64(uint64_t& state);

}  // namespace userbpf::testing
