// The JIT engine: decodes with the interpreter's builder (same refusals, same
// fault messages), compiles into W^X memory (mapped read-write, filled, then
// read-exec), and runs with the eBPF stack and the JitRun on the C++ stack of
// each run, so one engine serves many threads at once.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "jit/compiler.h"

namespace userbpf::jit {
namespace detail {
namespace {

size_t page_round(size_t n) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

}  // namespace

void release(Compiled& c) {
  if (c.mem) munmap(c.mem, c.mapped);
  c.mem = nullptr;
  c.mapped = 0;
}

Result<Compiled> compile(const vm::interp::Program& prog, const vm::EngineOptions& opts) {
  // Generous room per instruction; unused pages are returned right after.
  size_t capacity = page_round(prog.raw.size() * 192 + 16384);
  for (int attempt = 0; attempt < 4; ++attempt, capacity *= 2) {
    void* mem = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return make_error(ErrorKind::Runtime, "cannot map memory for JIT code");
    Compiled out;
    try {
      Compiler c(prog, opts, mem, capacity);
      c.emit_all();
      out.size = c.getSize();
      out.offsets = c.take_offsets();
      out.counting = c.counting();
      out.leader = c.take_leaders();
      out.tail = c.take_tails();
    } catch (const Xbyak::Error& e) {
      munmap(mem, capacity);
      if (static_cast<int>(e) == Xbyak::ERR_CODE_IS_TOO_BIG) continue;
      return make_error(ErrorKind::Unsupported, std::string("JIT code generation failed: ") + e.what());
    }
    const size_t used = page_round(out.size);
    if (used < capacity) munmap(static_cast<uint8_t*>(mem) + used, capacity - used);
    if (mprotect(mem, used, PROT_READ | PROT_EXEC) != 0) {
      munmap(mem, used);
      return make_error(ErrorKind::Runtime, "cannot make JIT code executable");
    }
    out.mem = static_cast<uint8_t*>(mem);
    out.mapped = used;
    return out;
  }
  return make_error(ErrorKind::Unsupported, "JIT code does not fit in memory");
}

}  // namespace detail

namespace {

using detail::JitRun;
using detail::RunArea;
using vm::interp::Fault;
using vm::interp::FaultKind;

class Jit final : public JitEngine {
 public:
  Jit(vm::interp::Program p, detail::Compiled c) : prog_(std::move(p)), c_(std::move(c)) {
    entry_ = reinterpret_cast<detail::EntryFn>(c_.mem + detail::kEntryOffset);
    verified_ = !c_.counting;
  }
  ~Jit() override { detail::release(c_); }
  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;

  Result<uint64_t> run(vm::ExecContext& ctx) const override {
    ctx.insns_executed = 0;
    return exec(ctx, 0, ctx.args, 0);
  }
  Result<uint64_t> call_function(vm::ExecContext& ctx, uint64_t entry, const uint64_t args[5]) const override;
  const char* name() const override { return "jit"; }
  std::span<const uint8_t> code() const override { return {c_.mem, c_.size}; }
  std::span<const uint32_t> insn_offsets() const override { return c_.offsets; }
  bool verified() const override { return verified_; }

 private:
  Result<uint64_t> exec(vm::ExecContext& ctx, size_t pc, const uint64_t* args, int depth) const;
  Result<uint64_t> finish(vm::ExecContext& ctx, uint64_t r0, size_t pc) const;
  Error fail(vm::ExecContext& ctx, const Fault& f) const;
  // The instruction whose code holds the call that returns to `native`.
  size_t pc_of(uint64_t native) const {
    const uint32_t o = static_cast<uint32_t>(native - reinterpret_cast<uint64_t>(c_.mem)) - 1;
    const auto it = std::upper_bound(c_.offsets.begin(), c_.offsets.end(), o);
    return static_cast<size_t>(it - c_.offsets.begin()) - 1;
  }

  const vm::interp::Program prog_;
  detail::Compiled c_;
  detail::EntryFn entry_ = nullptr;
  bool verified_ = false;
};

Error Jit::fail(vm::ExecContext& ctx, const Fault& f) const {
  Error e = vm::interp::describe_fault(prog_, ctx, f);  // while ctx still shows the live stack
  ctx.stack_lo = ctx.stack_hi = 0;
  return e;
}

// The end of a run that did not come through the base frame's exit: the
// interpreter checks the budget there too.
Result<uint64_t> Jit::finish(vm::ExecContext& ctx, uint64_t r0, size_t pc) const {
  if (c_.counting && ctx.insns_executed > ctx.insn_budget) {
    Fault f;
    f.kind = FaultKind::Budget;
    f.pc = pc;
    return fail(ctx, f);
  }
  ctx.stack_lo = ctx.stack_hi = 0;
  return r0;
}

Result<uint64_t> Jit::exec(vm::ExecContext& ctx, size_t pc, const uint64_t* args, int depth) const {
  RunArea area;  // the trampoline zeroes the first frame, each bpf-to-bpf call its own
  const uintptr_t top = reinterpret_cast<uintptr_t>(&area.run);
  area.run = JitRun{};
  area.run.floor = top - static_cast<uint64_t>(isa::kMaxCallDepth - 1 - depth) * isa::kStackSize;
  ctx.stack_lo = top - isa::kStackSize;
  ctx.stack_hi = top;
  ctx.stop = false;
  ctx.stop_error.reset();
  // Entering in the middle of a counted block: count its rest here.
  if (c_.counting && !c_.leader[pc]) ctx.insns_executed += c_.tail[pc];

  const uint64_t r0 = entry_(&ctx, args, &area.run, c_.mem + c_.offsets[pc]);

  const uint32_t word = area.run.status;
  if ((word & 0xff) == detail::kExit) {
    ctx.stack_lo = ctx.stack_hi = 0;
    return r0;
  }
  Fault f;
  f.pc = pc_of(area.run.native);
  f.addr = area.run.addr;
  switch (word & 0xff) {
    case detail::kHelperStop:
      if (ctx.stop_error) {
        Error e = std::move(*ctx.stop_error);
        ctx.stop_error.reset();
        ctx.stack_lo = ctx.stack_hi = 0;
        return e;
      }
      return finish(ctx, ctx.stop_value, f.pc);
    case detail::kPacketExit: return finish(ctx, 0, f.pc);
    case detail::kMemory:
      f.kind = FaultKind::Memory;
      f.size = (word >> 8) & 0xff;
      f.write = (word >> 16) & 1;
      break;
    case detail::kMisaligned:
      f.kind = FaultKind::Misaligned;
      f.size = (word >> 8) & 0xff;
      break;
    case detail::kBudget: f.kind = FaultKind::Budget; break;
    case detail::kCallDepth: f.kind = FaultKind::CallDepth; break;
    case detail::kFallOff: f.kind = FaultKind::FallOff; break;
    case detail::kUnknownCallx: f.kind = FaultKind::UnknownCallx; break;
    default: f.kind = FaultKind::BadSlot; break;
  }
  return fail(ctx, f);
}

// The interpreter's bookkeeping around a callback, with the JIT's run inside.
Result<uint64_t> Jit::call_function(vm::ExecContext& ctx, uint64_t entry, const uint64_t args[5]) const {
  return vm::interp::run_callback(prog_, ctx, entry, [&](int caller_frames) {
    return exec(ctx, static_cast<size_t>(entry), args, caller_frames);
  });
}

}  // namespace

bool available() {
#if defined(__x86_64__) && defined(__linux__)
  return true;
#else
  return false;
#endif
}

Result<std::unique_ptr<vm::Engine>> make_jit(std::span<const isa::Insn> prog, const vm::EngineOptions& opts) {
  if (!available()) return make_error(ErrorKind::Unsupported, "the JIT generates x86-64 code only; use --engine interp");
  if (!opts.proofs.empty() && opts.proofs.size() != prog.size())
    return make_error(ErrorKind::InvalidArgument, "proofs: " + std::to_string(opts.proofs.size()) +
                                                      " entries for " + std::to_string(prog.size()) + " instructions");
  Result<vm::interp::Program> p = vm::interp::build_program(prog, opts);
  if (!p) return p.error();
  Result<detail::Compiled> c = detail::compile(*p, opts);
  if (!c) return c.error();
  return std::unique_ptr<vm::Engine>(std::make_unique<Jit>(std::move(*p), std::move(*c)));
}

}  // namespace userbpf::jit
