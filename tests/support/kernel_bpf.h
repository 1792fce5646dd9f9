// Thin RAII wrapper over the kernel's bpf() syscall for differential tests and
// benchmarks: load a program (capturing the verifier log) and run it with
// BPF_PROG_TEST_RUN.  The kernel is the reference userbpf must match bit for bit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/result.h"

namespace userbpf::testing {

// Program types the comparisons use (mapped to BPF_PROG_TYPE_* in the .cpp so this
// header does not drag <linux/bpf.h> into every test).
enum class KernelProgType { SocketFilter, Xdp, SchedCls };

// True when this process may load and test-run BPF programs (root / CAP_BPF, bpf()
// present).  Probed once with a trivial program; the answer is cached.
bool kernel_bpf_available();
// Why kernel_bpf_available() is false ("" when it is true), for GTEST_SKIP messages.
const std::string& kernel_bpf_unavailable_reason();

struct KernelLoadOptions {
  KernelProgType type = KernelProgType::SocketFilter;
  // Any BPF_PROG_TYPE_* (kprobe, tracepoint, ...); when non-zero it replaces `type`.
  uint32_t uapi_type = 0;
  // 0: no log on success; on failure the load is retried with level 1 to get one.
  // 1/2: BPF_LOG_LEVEL1 / BPF_LOG_LEVEL2 for every load (log kept on success too);
  // 4 (BPF_LOG_STATS, may be or-ed in): the statistics and the error message only.
  uint32_t log_level = 0;
  size_t log_size = 1u << 20;
  std::string license = "GPL";
  std::string name;  // shown by bpftool; cut to 15 characters
};

struct KernelRunOptions {
  std::span<const uint8_t> data_in;  // packet; the skb/XDP runners need >= 14 bytes
  uint32_t repeat = 1;
  size_t data_out_size = 0;          // 0: data_in.size() + 512 (room for a grown packet)
  std::span<const uint8_t> ctx_in;  // optional __sk_buff / xdp_md image
};

struct KernelResult {
  bool loaded = false;
  std::string verifier_log;
  int err = 0;                    // errno of the step that failed (load or run), 0 on success
  uint32_t retval = 0;            // the kernel reports only the low 32 bits of r0
  std::vector<uint8_t> data_out;  // the packet after the run
  uint64_t duration_ns = 0;       // mean per repetition, as measured by the kernel
};

// A program loaded into the kernel; owns its fd.
class KernelProgram {
 public:
  KernelProgram() = default;
  ~KernelProgram();
  KernelProgram(KernelProgram&& other) noexcept;
  KernelProgram& operator=(KernelProgram&& other) noexcept;
  KernelProgram(const KernelProgram&) = delete;
  KernelProgram& operator=(const KernelProgram&) = delete;

  // Never throws: check loaded(); err() and verifier_log() say why not.
  static KernelProgram load(std::span<const isa::Insn> prog, const KernelLoadOptions& opts = {});

  bool loaded() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  int err() const { return err_; }
  const std::string& verifier_log() const { return log_; }

  // BPF_PROG_TEST_RUN.  The result also carries loaded/verifier_log of this program.
  KernelResult run(const KernelRunOptions& opts) const;

 private:
  int fd_ = -1;
  int err_ = 0;
  std::string log_;
};

// Load + run once; result.loaded is false when the kernel refused the program.
KernelResult kernel_load_and_run(std::span<const isa::Insn> prog, const KernelLoadOptions& load,
                                 const KernelRunOptions& run);

// The program with `r0 >>= 32` inserted before every exit (jump offsets fixed), so a
// second kernel run reports the upper half of r0.  Unsupported for programs with
// bpf-to-bpf calls, whose subprogram exits must stay as they are.
Result<std::vector<isa::Insn>> with_r0_high_half(std::span<const isa::Insn> prog);

// All 64 bits of r0 as the kernel computes them, from two loads and runs (as is and
// with_r0_high_half).  The error message holds errno and the verifier log.
Result<uint64_t> kernel_r0_64(std::span<const isa::Insn> prog, KernelProgType type,
                              std::span<const uint8_t> data_in);

}  // namespace userbpf::testing
