// Random XDP programs for verifier soundness: programs that read the context,
// check packet bounds, look up array and hash map values, spill and fill, branch
// and loop — and get it wrong often (off by one, a missing NULL check, a signed
// bound where an unsigned one was needed, a constant that differs on one path),
// so that the verifier has to refuse many of them.  Every program the verifier
// accepts must then run without a single out-of-bounds access
// (support/verifier_oracle.h).  Deterministic per seed or per fuzzer input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/result.h"

namespace userbpf::testing {

// Where the generator's decisions come from: a 64-bit seed, or a fuzzer's bytes
// (one or more bytes per decision, so libFuzzer's mutations map to choices;
// when the bytes run out, a generator seeded from their hash takes over).
class ChoiceSource {
 public:
  explicit ChoiceSource(uint64_t seed) : state_(seed) {}
  explicit ChoiceSource(std::span<const uint8_t> bytes);

  uint32_t below(uint32_t n);  // uniform-ish in [0, n); 0 when n <= 1
  bool chance(uint32_t percent) { return below(100) < percent; }
  uint64_t u64();
  // A value from a distribution heavy on edges (0, -1, INT_MIN, 0x7f/0x80, 63/64 ...).
  uint64_t interesting();

 private:
  uint64_t splitmix();
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  uint64_t state_ = 0;
};

// Indexes of SoundnessProgram::object.maps.
inline constexpr int kSoundArrayMap = 0;   // BPF_MAP_TYPE_ARRAY, a few entries
inline constexpr int kSoundHashMap = 1;    // BPF_MAP_TYPE_HASH, 4-byte keys
inline constexpr int kSoundSingleMap = 2;  // ARRAY with one entry (direct value access)
inline constexpr int kSoundNumMaps = 3;

struct SoundnessProgram {
  loader::ObjectSpec object;  // one XDP program ("prog") and its maps, license GPL
  // Hints for the runs: packet lengths at the edges of the bounds checks the
  // program makes, and constants it compares against or masks with, for the
  // runner to plant in packets and map values so that edge paths execute.
  std::vector<uint32_t> packet_lens;
  std::vector<uint64_t> values;
  std::vector<uint32_t> hash_keys;  // keys the runner inserts into the hash map
};

struct SoundnessGenOptions {
  int min_blocks = 3;
  int max_blocks = 10;
  int max_depth = 2;  // nesting of guarded regions, lookups and loops
};

SoundnessProgram generate_soundness_program(ChoiceSource& src, const SoundnessGenOptions& opts = {});

// The object every soundness program lives in: "prog" (XDP) and the three maps.
loader::ObjectSpec soundness_object(std::vector<isa::Insn> insns, const uint32_t value_sizes[kSoundNumMaps],
                                    uint32_t array_entries);

// A soundness program from assembly text, for reproducers: map references are
// written "map[N]" and "mapval[N+OFF]" (as in verifier_test.cpp), and a first
// line "; maps: arr=VSxN hash=VS one=VS" sets value sizes and array entries
// (default 16x2, 16, 16).
Result<SoundnessProgram> soundness_program_from_asm(std::string_view text);

}  // namespace userbpf::testing
