// Instruction fusion for verified programs: idioms clang spells out in several
// eBPF instructions because BPF has no unaligned multi-byte loads and no
// rotate, found within a basic block and emitted as one x86 instruction or two.
//   - a little- or big-endian word assembled from byte loads, shifts and ors
//     (p[0] | p[1] << 8 | ...): one load (plus bswap / rol for big-endian);
//   - a 32-bit rotate (x << k | x >> (32 - k)): rol.
// The other instructions of the idiom emit nothing.  A fusion is made only
// when the registers those instructions wrote are dead afterwards (liveness),
// nothing else in between touches them or memory, no jump lands inside, and
// every byte load is proven in bounds.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vm/interpreter_internal.h"

namespace userbpf::jit::detail {

struct Fusion {
  enum Kind : uint8_t { kLoadLE, kLoadBE, kRotl32 };
  Kind kind = kLoadLE;
  uint8_t dst = 0;   // eBPF register that receives the result
  uint8_t src = 0;   // loads: the base register; rotates: the register holding the value
  uint8_t size = 0;  // loads: 2, 4 or 8 bytes
  uint8_t count = 0; // rotates: left by this many bits
  int32_t off = 0;   // loads: offset from the base
};

struct FusionPlan {
  static constexpr uint32_t kEmit = 0, kSkip = 1, kFused = 2;  // kFused + i: emit fused[i]
  std::vector<uint32_t> action;  // per slot; empty when nothing was fused
  std::vector<Fusion> fused;
};

// `proofs`: one entry per slot (the program is verified); `specs`: isa::spec
// by isa::Op (a table: this runs once per instruction).
FusionPlan plan_fusions(const vm::interp::Program& prog, std::span<const uint32_t> proofs,
                        const isa::InsnSpec* const* specs);

}  // namespace userbpf::jit::detail
