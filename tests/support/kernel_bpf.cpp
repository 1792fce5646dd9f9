// bpf() syscall wrapper: raw syscalls rather than libbpf so the exact attributes
// (log level, sizes) are under the test's control and nothing is probed behind it.
#include "support/kernel_bpf.h"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace userbpf::testing {
namespace {

long sys_bpf(int cmd, union bpf_attr* attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

uint64_t ptr_to_u64(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

bpf_prog_type to_kernel(KernelProgType t) {
  switch (t) {
    case KernelProgType::SocketFilter: return BPF_PROG_TYPE_SOCKET_FILTER;
    case KernelProgType::Xdp: return BPF_PROG_TYPE_XDP;
    case KernelProgType::SchedCls: return BPF_PROG_TYPE_SCHED_CLS;
  }
  return BPF_PROG_TYPE_UNSPEC;
}

// One BPF_PROG_LOAD attempt; returns the fd or -errno.  The log is written into `log`.
int prog_load(std::span<const isa::Insn> prog, const KernelLoadOptions& opts, uint32_t log_level,
              std::string* log) {
  static_assert(sizeof(isa::Insn) == sizeof(struct bpf_insn));
  std::vector<char> buf;
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = opts.uapi_type != 0 ? opts.uapi_type : static_cast<uint32_t>(to_kernel(opts.type));
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.insns = ptr_to_u64(prog.data());
  attr.license = ptr_to_u64(opts.license.c_str());
  if (log_level > 0 && opts.log_size > 0) {
    buf.assign(std::min<size_t>(opts.log_size, UINT32_MAX >> 2), '\0');
    attr.log_level = log_level;
    attr.log_size = static_cast<uint32_t>(buf.size());
    attr.log_buf = ptr_to_u64(buf.data());
  }
  std::strncpy(attr.prog_name, opts.name.c_str(), sizeof(attr.prog_name) - 1);
  const long fd = sys_bpf(BPF_PROG_LOAD, &attr);
  const int saved = errno;
  if (!buf.empty() && log) *log = std::string(buf.data(), strnlen(buf.data(), buf.size()));
  return fd >= 0 ? static_cast<int>(fd) : -saved;
}

}  // namespace

KernelProgram::~KernelProgram() {
  if (fd_ >= 0) close(fd_);
}

KernelProgram::KernelProgram(KernelProgram&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), err_(other.err_), log_(std::move(other.log_)) {}

KernelProgram& KernelProgram::operator=(KernelProgram&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    err_ = other.err_;
    log_ = std::move(other.log_);
  }
  return *this;
}

KernelProgram KernelProgram::load(std::span<const isa::Insn> prog, const KernelLoadOptions& opts) {
  KernelProgram p;
  const int rc = prog_load(prog, opts, opts.log_level, &p.log_);
  if (rc >= 0) {
    p.fd_ = rc;
    return p;
  }
  p.err_ = -rc;
  // A quiet load that failed is repeated with a log so the caller can say why.
  if (opts.log_level == 0) {
    const int again = prog_load(prog, opts, 1, &p.log_);
    if (again >= 0) close(again);  // accepted the second time: nothing to keep
  }
  return p;
}

KernelResult KernelProgram::run(const KernelRunOptions& opts) const {
  KernelResult r;
  r.loaded = loaded();
  r.verifier_log = log_;
  if (!loaded()) {
    r.err = err_;
    return r;
  }
  r.data_out.assign(opts.data_out_size ? opts.data_out_size : opts.data_in.size() + 512, 0);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = static_cast<uint32_t>(fd_);
  attr.test.data_in = ptr_to_u64(opts.data_in.data());
  attr.test.data_size_in = static_cast<uint32_t>(opts.data_in.size());
  attr.test.data_out = ptr_to_u64(r.data_out.data());
  attr.test.data_size_out = static_cast<uint32_t>(r.data_out.size());
  attr.test.repeat = opts.repeat;
  if (!opts.ctx_in.empty()) {
    attr.test.ctx_in = ptr_to_u64(opts.ctx_in.data());
    attr.test.ctx_size_in = static_cast<uint32_t>(opts.ctx_in.size());
  }
  if (sys_bpf(BPF_PROG_TEST_RUN, &attr) != 0) {
    r.err = errno;
    // ENOSPC still reports the truncated packet; anything else leaves nothing to show.
    if (r.err != ENOSPC) r.data_out.clear();
  }
  r.retval = attr.test.retval;
  r.duration_ns = attr.test.duration;
  if (!r.data_out.empty()) r.data_out.resize(std::min<size_t>(attr.test.data_size_out, r.data_out.size()));
  return r;
}

KernelResult kernel_load_and_run(std::span<const isa::Insn> prog, const KernelLoadOptions& load,
                                 const KernelRunOptions& run) {
  return KernelProgram::load(prog, load).run(run);
}

namespace {

struct Probe {
  bool ok = false;
  std::string reason;
};

Probe probe_kernel() {
  Probe p;
  // r0 = 0; exit
  const isa::Insn prog[] = {{.opcode = isa::op::ALU64 | isa::op::MOV | isa::op::K, .dst = 0, .src = 0, .off = 0, .imm = 0},
                            {.opcode = isa::op::JMP | isa::op::EXIT, .dst = 0, .src = 0, .off = 0, .imm = 0}};
  KernelLoadOptions lo;
  const KernelProgram k = KernelProgram::load(prog, lo);
  if (!k.loaded()) {
    p.reason = std::string("BPF_PROG_LOAD failed: ") + std::strerror(k.err());
    return p;
  }
  const uint8_t packet[64] = {};
  KernelRunOptions ro;
  ro.data_in = packet;
  const KernelResult r = k.run(ro);
  if (r.err != 0) {
    p.reason = std::string("BPF_PROG_TEST_RUN failed: ") + std::strerror(r.err);
    return p;
  }
  p.ok = true;
  return p;
}

const Probe& probe() {
  static const Probe p = probe_kernel();
  return p;
}

}  // namespace

bool kernel_bpf_available() { return probe().ok; }
const std::string& kernel_bpf_unavailable_reason() { return probe().reason; }

Result<std::vector<isa::Insn>> with_r0_high_half(std::span<const isa::Insn> prog) {
  using namespace isa;
  auto is_exit = [](const Insn& in) { return in.opcode == (op::JMP | op::EXIT); };
  // new_index[i]: where old slot i lands.  An exit's entry is the inserted shift in
  // front of it, so jumps that targeted the exit now run the shift first.
  std::vector<int64_t> new_index(prog.size() + 1);
  int64_t shift = 0;
  for (size_t i = 0; i < prog.size(); ++i) {
    new_index[i] = static_cast<int64_t>(i) + shift;
    if (is_exit(prog[i])) ++shift;
  }
  new_index[prog.size()] = static_cast<int64_t>(prog.size()) + shift;

  std::vector<Insn> out;
  out.reserve(prog.size() + static_cast<size_t>(shift));
  for (size_t i = 0; i < prog.size(); ++i) {
    Insn in = prog[i];
    const InsnSpec* s = lookup(in);
    const bool second_lddw_slot = i > 0 && is_lddw(prog[i - 1]);
    if (s && !second_lddw_slot && s->kind == Kind::Call && s->op == Op::CALL_LOCAL)
      return make_error(ErrorKind::Unsupported, "bpf-to-bpf calls: subprogram exits cannot be told apart",
                        static_cast<int64_t>(i));
    if (s && !second_lddw_slot && s->kind == Kind::Jump) {
      const int64_t target = jump_target(in, *s, i);
      if (target < 0 || target > static_cast<int64_t>(prog.size()))
        return make_error(ErrorKind::Malformed, "jump outside the program", static_cast<int64_t>(i));
      const int64_t off = new_index[static_cast<size_t>(target)] - new_index[i] - 1;
      if (s->op == Op::JA32) {
        in.imm = static_cast<int32_t>(off);
      } else {
        if (off < INT16_MIN || off > INT16_MAX)
          return make_error(ErrorKind::Unsupported, "jump offset overflows after insertion", static_cast<int64_t>(i));
        in.off = static_cast<int16_t>(off);
      }
    }
    if (is_exit(in) && !second_lddw_slot)
      out.push_back({.opcode = op::ALU64 | op::RSH | op::K, .dst = 0, .src = 0, .off = 0, .imm = 32});
    out.push_back(in);
  }
  return out;
}

Result<uint64_t> kernel_r0_64(std::span<const isa::Insn> prog, KernelProgType type, std::span<const uint8_t> data_in) {
  auto high = with_r0_high_half(prog);
  if (!high) return high.error();
  KernelLoadOptions lo;
  lo.type = type;
  KernelRunOptions ro;
  ro.data_in = data_in;
  uint32_t halves[2] = {};
  const std::span<const isa::Insn> variants[2] = {prog, high.value()};
  for (int h = 0; h < 2; ++h) {
    const KernelResult r = kernel_load_and_run(variants[h], lo, ro);
    if (!r.loaded)
      return make_error(ErrorKind::Rejected, std::string("kernel verifier refused the program (") + std::strerror(r.err) +
                                                 "):\n" + r.verifier_log);
    if (r.err != 0)
      return make_error(ErrorKind::Runtime, std::string("BPF_PROG_TEST_RUN failed: ") + std::strerror(r.err));
    halves[h] = r.retval;
  }
  return static_cast<uint64_t>(halves[0]) | (static_cast<uint64_t>(halves[1]) << 32);
}

}  // namespace userbpf::testing
