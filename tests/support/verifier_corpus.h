// The verifier corpus (tests/verifier): clang-built objects whose programs are
// named accept_... / reject_... after the kernel's verdict, and hand-written
// assembly files whose header says the program type and the verdict:
//
//   # prog_type: xdp            (xdp | socket_filter | sched_cls | kprobe)
//   # expect: reject            (accept | reject)
//   #! patch 1 off=1 imm=0      (optional, any number: set fields of slot 1 after
//                                assembling; for encodings the assembler refuses,
//                                such as a jump into an lddw or a write to r10)
//
// This lists every case for parameterised tests and benchmarks.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/result.h"

namespace userbpf::testing {

struct CorpusCase {
  bool is_asm = false;
  std::string path;     // the .bpf.o object or the .s file
  std::string program;  // C: the program (function) name; asm: the file name without ".s"
  bool expect_accept = false;
  uint32_t prog_type = 0;  // BPF_PROG_TYPE_*
  // Set when the case could not be listed properly (unreadable object, a program
  // named neither accept_ nor reject_, a bad asm header): the test reports it.
  std::string error;

  // Unique, [A-Za-z0-9_] only (a GoogleTest parameter name): "packet_accept_xdp_eth_checked",
  // "asm_reject_write_r10".
  std::string label() const;
};

// GoogleTest prints a parameter with this: "packet.bpf.o accept_xdp_eth_checked".
void PrintTo(const CorpusCase& c, std::ostream* os);

// Every program of every *.bpf.o in `dir` (sorted by object, then program order).
std::vector<CorpusCase> verifier_corpus_c(const std::string& dir);
// Every *.s in `dir` (sorted by name).
std::vector<CorpusCase> verifier_corpus_asm(const std::string& dir);

#if defined(USERBPF_VERIFIER_CORPUS_DIR) && defined(USERBPF_VERIFIER_ASM_DIR)
inline std::vector<CorpusCase> verifier_corpus_c() { return verifier_corpus_c(USERBPF_VERIFIER_CORPUS_DIR); }
inline std::vector<CorpusCase> verifier_corpus_asm() { return verifier_corpus_asm(USERBPF_VERIFIER_ASM_DIR); }
#endif

// "accept_..." -> true, "reject_..." -> false; an Error for any other name.
Result<bool> expected_verdict_from_name(const std::string& name);

// An asm case ready to verify: assembled instructions and a ProgramSpec built
// around them (one function, no maps).
struct AsmProgram {
  std::vector<isa::Insn> insns;
  uint32_t prog_type = 0;
  bool expect_accept = false;
  loader::ProgramSpec spec;
};
Result<AsmProgram> load_asm_case(const std::string& path);

// The BPF_PROG_TYPE_* for an asm header's prog_type word; an Error for others.
Result<uint32_t> asm_prog_type(const std::string& word);

}  // namespace userbpf::testing
