// Turns what the verifier claims per instruction (verifier::InsnFacts) into
// traps in the program, so that a run shows any claim that does not hold:
// code claimed unreachable, a branch claimed never taken (or always taken), a
// divisor claimed never zero, a result claimed to fit in 32 bits, an access
// claimed to be to the stack.  Engines will lean on these facts (the JIT drops
// dead code, division checks and zero-extensions); a wrong one is as bad as a
// missed bounds check.  A trap is a load from address 0, which the checked
// interpreter refuses; checks use no spare register (they move the register
// they test and move it back).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/result.h"
#include "userbpf/verifier.h"

namespace userbpf::testing {

struct TrappedProgram {
  std::vector<isa::Insn> insns;
  std::vector<std::string> trap;   // per new slot: the claim a trap there disproves ("" when none)
  std::vector<int64_t> orig;       // per new slot: the original slot (-1 for inserted ones)
  size_t traps = 0;
};

// `prog` and `facts` index the same slots (the runtime's final instructions are
// one for one with the verified ones for XDP).  Programs with bpf-to-bpf calls
// or callbacks are Unsupported.
Result<TrappedProgram> add_fact_traps(std::span<const isa::Insn> prog, std::span<const verifier::InsnFacts> facts);

}  // namespace userbpf::testing
