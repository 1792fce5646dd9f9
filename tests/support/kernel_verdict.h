// The kernel's verdict on one program, for the verifier corpus and anything else
// that compares userbpf's verifier with the kernel's: load the program (a program
// of a clang-built object through libbpf, or raw instructions through bpf()),
// and report whether it was accepted, the verifier log, and the verifier's own
// statistics (BPF_LOG_STATS: "verification time N usec", "processed N insns").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "userbpf/isa.h"

namespace userbpf::testing {

struct KernelVerdict {
  // False when the kernel could not be asked: bpf() unusable, the object would not
  // open, or the program is not in it.  `log` then says why.
  bool available = false;
  bool loaded = false;  // the verifier accepted the program
  int err = 0;          // errno of the failed load (0 when loaded)
  // BPF_LOG_STATS log of the load (the error message when rejected); when rejected
  // and KernelVerdictOptions::trace_on_reject, followed by the level-1 trace of
  // the failing path.  Messages libbpf printed are appended (after "libbpf: ").
  std::string log;
  uint64_t verification_time_us = 0;  // 0 when the log does not say
  uint64_t processed_insns = 0;       // 0 when the log does not say
};

struct KernelVerdictOptions {
  // On rejection, load again with BPF_LOG_LEVEL1 for the trace of the failing
  // path (the verdict and statistics still come from the first load).  Not for
  // programs refused for complexity, whose trace would be a million lines.
  bool trace_on_reject = true;
  size_t trace_log_size = 16u << 20;
};

// Loads only `prog_name` of the object (every other program's autoload is off;
// maps are never pinned).  The kernel's verdict for a privileged loader.
KernelVerdict kernel_verify_object(const std::string& obj_path, const std::string& prog_name,
                                   const KernelVerdictOptions& opts = {});

// Loads raw instructions (no map references) as a program of type `prog_type`
// (BPF_PROG_TYPE_*), license GPL.
KernelVerdict kernel_verify_insns(std::span<const isa::Insn> insns, uint32_t prog_type,
                                  const KernelVerdictOptions& opts = {});

// "verification time N usec" / "processed N insns" from a BPF_LOG_STATS log; 0 when absent.
uint64_t log_verification_time_us(const std::string& log);
uint64_t log_processed_insns(const std::string& log);

// The last `lines` lines of a log (where the verifier puts its error message).
std::string log_tail(const std::string& log, size_t lines = 12);

}  // namespace userbpf::testing
