// libFuzzer target: verifier soundness.  The input is decoded into the random
// program generator's choices (support/verifier_fuzz_gen.h); every program the
// verifier accepts must run without a fault and without contradicting a fact the
// verifier recorded (support/verifier_oracle.h).  A finding prints the program,
// the failing packet and map values, and aborts.
// USERBPF_SOUNDNESS_IGNORE="kind,kind" skips findings of known kinds (the
// first line of a report names the kind: "runtime fault", "fact violated",
// "load failed after accept", ...), to fuzz on past a bug being fixed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "support/verifier_fuzz_gen.h"
#include "support/verifier_oracle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace userbpf::testing;
  const std::span<const uint8_t> bytes(data, size);
  ChoiceSource gen(bytes);
  const SoundnessProgram p = generate_soundness_program(gen);
  // The runs' randomness (map contents, packets) from the same bytes, read afresh.
  uint64_t seed = 0x72756e73;
  for (uint8_t b : bytes) seed = (seed ^ b) * 0x100000001b3ull;
  ChoiceSource rnd(seed);
  SoundnessStats stats;
  SoundnessRunOptions opts;
  opts.count_reasons = false;
  if (auto f = check_soundness(p, rnd, opts, stats)) {
    static const std::string ignore = [] {
      const char* v = std::getenv("USERBPF_SOUNDNESS_IGNORE");
      return v ? "," + std::string(v) + "," : std::string();
    }();
    if (ignore.find("," + f->kind + ",") != std::string::npos) return 0;
    std::fprintf(stderr, "%s\n", f->report.c_str());
    std::abort();
  }
  return 0;
}
