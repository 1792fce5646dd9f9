// The verifier: proves, before anything runs, that a program cannot touch memory
// it does not own, cannot loop forever and passes helpers valid arguments.
// Abstract interpretation over every path, as the kernel's verifier does for a
// privileged loader (CAP_BPF + CAP_PERFMON), with state pruning.  What it proves
// is kept per instruction (InsnFacts) for the engines.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/loader.h"
#include "userbpf/maps.h"
#include "userbpf/result.h"

namespace userbpf::verifier {

struct VerifyOptions {
  // Kernel limits (BPF_COMPLEXITY_LIMIT_INSNS and friends).
  uint64_t max_processed_insns = 1'000'000;
  // Record the path to a rejection in VerifyResult::log, one line per processed
  // instruction with the state it produced (empty when the program is accepted).
  bool log = false;
  // The license decides whether gpl_only helpers may be called.
  bool gpl_compatible = true;
  // State pruning ignores numbers no explored path depended on (the kernel's
  // precision tracking).  Off: every live number is compared exactly.
  bool precision_tracking = true;
};

struct VerifyStats {
  uint64_t processed_insns = 0;   // instructions processed over all paths
  uint64_t states = 0;            // states stored for pruning
  uint64_t peak_states = 0;       // most states stored at once
  uint64_t pruned = 0;            // paths cut because an explored state subsumed them
  uint64_t max_stack_depth = 0;   // bytes, combined over the deepest call chain
  double time_us = 0;
};

// Per-instruction facts: what holds on every path that reaches the instruction.
// Flags are only set when the instruction was reached (Reached).
enum InsnFact : uint16_t {
  kReached = 1 << 0,
  kMemSafe = 1 << 1,      // load/store/atomic: in bounds on every path (no runtime check needed)
  kNonNull = 1 << 2,      // memory access through a pointer proven non-NULL
  kDivisorNonZero = 1 << 3,  // div/mod by register: divisor never zero
  kFits32 = 1 << 4,       // the destination's upper 32 bits are already zero (zext redundant)
  kCtxAccess = 1 << 5,    // load/store through the context pointer (rewritten by hooks)
  kStackAccess = 1 << 6,  // load/store to the stack of the current frame
  kPacketAccess = 1 << 7, // load/store to packet memory
  kMapValueAccess = 1 << 8,
  kDeadBranchTaken = 1 << 9,     // conditional jump: the branch is never taken
  kDeadBranchFallthrough = 1 << 10,  // conditional jump: always taken
};

inline constexpr int32_t kCallMapNone = -1;    // no map argument seen (yet)
inline constexpr int32_t kCallMapVaries = -2;  // different maps, or one taken out of a map-in-map
struct InsnFacts {
  uint16_t flags = 0;
  int32_t ctx_off = 0;  // kCtxAccess: offset into the uapi context (insn off + reg off)
  // Helper calls with a map argument: the index (into the object's maps) of
  // the map every path passes, as loaded by lddw; or kCallMapNone / kCallMapVaries.
  int32_t call_map = kCallMapNone;
};

struct VerifyResult {
  bool accepted = false;
  Error error;                    // when rejected: kind Rejected, insn, source line
  std::string explanation;        // multi-line human explanation of a rejection
  std::string log;                // VerifyOptions::log
  VerifyStats stats;
  std::vector<InsnFacts> facts;   // one per instruction of the program
};

// Verifies `prog` (from loader::load_object).  `maps` are the object's maps
// (ObjectSpec::maps, indexed by the map indexes in the lddw instructions).
// Returns an Error only for unusable input (Malformed / Unsupported / InvalidArgument);
// a rejection is a VerifyResult with accepted == false.
// The kernel's license_is_gpl_compatible: "GPL", "GPL v2", "Dual MIT/GPL", ...
bool license_is_gpl_compatible(std::string_view license);

Result<VerifyResult> verify(const loader::ProgramSpec& prog, std::span<const loader::MapDef> maps,
                            const VerifyOptions& opts = {});

}  // namespace userbpf::verifier
