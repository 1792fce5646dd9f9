// The verifier corpus (tests/verifier) against the kernel and against userbpf.
//
//   KernelAgreesWithName: the kernel's verdict is the one the program's name (or
//     the asm file's "# expect:" header) states.  This validates the corpus.
//   MatchesKernel: userbpf's verifier gives the kernel's verdict; without a usable
//     kernel, the verdict from the name.
//
// Run one part alone with --gtest_filter='*VerifierCorpus.KernelAgreesWithName*'.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "support/kernel_bpf.h"
#include "support/kernel_verdict.h"
#include "support/verifier_corpus.h"
#include "userbpf/loader.h"
#include "userbpf/verifier.h"

namespace userbpf::testing {
namespace {

std::string verdict_word(bool accepted) { return accepted ? "accept" : "reject"; }

KernelVerdict kernel_verdict(const CorpusCase& c) {
  if (!c.is_asm) return kernel_verify_object(c.path, c.program);
  auto prog = load_asm_case(c.path);
  if (!prog) {
    KernelVerdict v;
    v.log = prog.error().str();
    return v;
  }
  return kernel_verify_insns(prog->insns, prog->prog_type);
}

// Objects are loaded once per file, not once per program.
const Result<loader::ObjectSpec>& object_for(const std::string& path) {
  static std::map<std::string, std::unique_ptr<Result<loader::ObjectSpec>>> cache;
  auto& slot = cache[path];
  if (!slot) slot = std::make_unique<Result<loader::ObjectSpec>>(loader::load_object(path));
  return *slot;
}

Result<verifier::VerifyResult> userbpf_verdict(const CorpusCase& c) {
  if (c.is_asm) {
    auto prog = load_asm_case(c.path);
    if (!prog) return prog.error();
    return verifier::verify(prog->spec, {});
  }
  const auto& obj = object_for(c.path);
  if (!obj) return obj.error();
  const loader::ProgramSpec* prog = obj->find_program(c.program);
  if (prog == nullptr) return make_error(ErrorKind::InvalidArgument, "no program " + c.program + " in " + c.path);
  return verifier::verify(*prog, obj->maps);
}

class VerifierCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(VerifierCorpus, KernelAgreesWithName) {
  const CorpusCase& c = GetParam();
  ASSERT_TRUE(c.error.empty()) << c.path << ": " << c.error;
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  const KernelVerdict k = kernel_verdict(c);
  ASSERT_TRUE(k.available) << k.log;
  EXPECT_EQ(verdict_word(k.loaded), verdict_word(c.expect_accept))
      << c.path << " " << c.program << ": the kernel " << (k.loaded ? "accepts" : "rejects")
      << " it (errno " << k.err << ", " << k.processed_insns << " insns processed); fix the program, not its name.\n"
      << log_tail(k.log, 30);
}

TEST_P(VerifierCorpus, MatchesKernel) {
  const CorpusCase& c = GetParam();
  ASSERT_TRUE(c.error.empty()) << c.path << ": " << c.error;
  auto ours = userbpf_verdict(c);
  ASSERT_TRUE(ours.ok()) << c.path << " " << c.program << ": " << ours.error().str();
  bool reference = c.expect_accept;
  std::string reference_from = "its name";
  std::string kernel_log;
  if (kernel_bpf_available()) {
    const KernelVerdict k = kernel_verdict(c);
    ASSERT_TRUE(k.available) << k.log;
    reference = k.loaded;
    reference_from = "the kernel";
    kernel_log = log_tail(k.log, 20);
  }
  EXPECT_EQ(verdict_word(ours->accepted), verdict_word(reference))
      << c.path << " " << c.program << ": userbpf " << (ours->accepted ? "accepts" : "rejects") << ", "
      << reference_from << " " << (reference ? "accepts" : "rejects") << ".\nuserbpf: " << ours->error.str() << "\n"
      << ours->explanation << "\nkernel:\n"
      << kernel_log;
}

std::string case_name(const ::testing::TestParamInfo<CorpusCase>& info) { return info.param.label(); }

INSTANTIATE_TEST_SUITE_P(C, VerifierCorpus, ::testing::ValuesIn(verifier_corpus_c()), case_name);
INSTANTIATE_TEST_SUITE_P(Asm, VerifierCorpus, ::testing::ValuesIn(verifier_corpus_asm()), case_name);

}  // namespace
}  // namespace userbpf::testing
