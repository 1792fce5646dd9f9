// The soundness oracle: a program the verifier accepts must run in the checked
// interpreter without a single fault.  Accepted programs are loaded as a
// runtime object (verify = true, as every user loads them) and test-run as XDP
// on several packets.  The runs see tighter memory than a normal run: each map
// value is its own region of exactly value_size bytes (normally a map's whole
// storage is one region), so an access one byte past a value faults too.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/verifier_fuzz_gen.h"
#include "userbpf/isa.h"

namespace userbpf::testing {

struct SoundnessRunOptions {
  int runs = 6;  // packets per accepted program
  // The verifier's complexity limit: programs past it are rejected.  Lower than
  // the kernel's million so that the few generated endless loops cost little.
  uint64_t max_processed_insns = 100'000;
  // The verifier bounds every path by its 1M processed instructions, so a run
  // longer than that means it let an unbounded loop through.
  uint64_t insn_budget = 1'000'000;
  bool count_reasons = true;  // fill SoundnessStats::reject_reasons
  // Also run rejected programs (loaded unverified) and count those that fault:
  // a measure of how well the runs would catch an unsound verdict.
  bool run_rejected = false;
  uint64_t rejected_insn_budget = 100'000;
  // Called with every verdict (accepted or not) and its message, for diagnostics.
  std::function<void(const SoundnessProgram&, bool accepted, const std::string& message)> on_verdict;
};

struct SoundnessStats {
  uint64_t programs = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t runs = 0;
  uint64_t insns = 0;            // instructions over all programs
  uint64_t insns_executed = 0;   // over all runs
  uint64_t processed = 0;        // instructions the verifier processed, over all programs
  uint64_t max_processed = 0;    // for the hardest program
  double verify_us = 0;          // time the verifier took, over all programs
  uint64_t traps = 0;            // fact traps planted (support/verifier_fact_traps.h)
  // Rejection messages with numbers replaced by N, and how often.
  std::map<std::string, uint64_t> reject_reasons;
  // With run_rejected: rejected programs whose unverified runs faulted, in all and by reason.
  uint64_t rejected_faulted = 0;
  std::map<std::string, uint64_t> faulted_reasons;

  std::string summary(size_t top_reasons = 12) const;
};

struct SoundnessFinding {
  // "runtime fault", "fact violated", "load failed after accept", "verifier error", "harness"
  std::string kind;
  std::string report;  // error, input, program disassembly and verifier log
};

// Disassembly with map references as "map[N]" / "mapval[N+OFF]" (what
// verifier_test.cpp's assemble_with_maps reads back).
std::string disassemble_with_maps(const std::vector<isa::Insn>& insns);
// "; maps: ..." and the disassembly: what soundness_program_from_asm reads back.
std::string soundness_listing(const SoundnessProgram& p);

// Verifies `p`; when accepted, runs it (randomness for map contents and packets
// from `rnd`).  Returns what went wrong, nullopt when nothing did.
std::optional<SoundnessFinding> check_soundness(const SoundnessProgram& p, ChoiceSource& rnd,
                                                const SoundnessRunOptions& opts, SoundnessStats& stats);

}  // namespace userbpf::testing
