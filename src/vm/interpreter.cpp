// The checked interpreter, build side: validate the program, refuse what cannot
// run here (unknown helpers, unresolved relocations, kfuncs) and pre-decode it.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "vm/interpreter_internal.h"

namespace userbpf::vm {
namespace {

using interp::DInsn;
using interp::Program;

const char* pseudo_name(uint8_t src) {
  switch (src) {
    case isa::pseudo::MAP_FD: return "map fd";
    case isa::pseudo::MAP_VALUE: return "map value";
    case isa::pseudo::BTF_ID: return "btf id";
    case isa::pseudo::FUNC: return "function address";
    case isa::pseudo::MAP_IDX: return "map index";
    case isa::pseudo::MAP_IDX_VALUE: return "map index value";
    default: return "unknown";
  }
}

std::string with_text(const std::string& msg, std::span<const isa::Insn> prog, size_t pc) {
  const isa::Insn* next = pc + 1 < prog.size() ? &prog[pc + 1] : nullptr;
  return msg + " [" + isa::disassemble(prog[pc], next) + "]";
}

Error build_error(ErrorKind kind, const std::string& msg, std::span<const isa::Insn> prog, size_t pc) {
  return make_error(kind, with_text(msg, prog, pc), static_cast<int64_t>(pc));
}

// Decodes one validated instruction; the caller handles the lddw second slot.
Status decode(std::span<const isa::Insn> prog, size_t pc, const isa::InsnSpec* s, const EngineOptions& opts,
              DInsn& d) {
  const isa::Insn& insn = prog[pc];
  d.op = static_cast<uint8_t>(s->op);
  d.dst = insn.dst;
  d.src = insn.src;
  d.off = insn.off;
  d.imm = static_cast<uint64_t>(static_cast<int64_t>(insn.imm));
  switch (s->kind) {
    case isa::Kind::Jump:
      d.off = static_cast<int32_t>(isa::jump_target(insn, *s, pc));
      break;
    case isa::Kind::LoadImm64:
      if (insn.src == isa::pseudo::FUNC) {
        // A callback's address is its absolute instruction index (what call_function takes).
        const int64_t target = static_cast<int64_t>(pc) + 1 + insn.imm;
        if (target < 0 || static_cast<uint64_t>(target) >= prog.size() ||
            (target > 0 && isa::is_lddw(prog[static_cast<size_t>(target) - 1])))
          return build_error(ErrorKind::Malformed, "lddw function address points outside the program", prog, pc);
        d.imm = static_cast<uint64_t>(target);
        break;
      }
      if (insn.src != 0)
        return build_error(ErrorKind::Unsupported,
                           std::string("unresolved lddw pseudo source ") + std::to_string(insn.src) + " (" +
                               pseudo_name(insn.src) + "): the loader must relocate it before it can run",
                           prog, pc);
      d.imm = isa::lddw_imm(insn, prog[pc + 1]);
      break;
    case isa::Kind::Atomic:
      // Fetching forms write src; validate() only guards dst against r10.
      if ((insn.imm & isa::op::FETCH) && insn.src == isa::kFramePointer)
        return build_error(ErrorKind::Malformed, "r10 (frame pointer) is read-only", prog, pc);
      break;
    default: break;
  }
  switch (s->op) {
    case isa::Op::CALL_HELPER: {
      const HelperInfo* h = opts.helpers ? opts.helpers->find(insn.imm) : nullptr;
      if (!h || !h->fn)
        return build_error(ErrorKind::Rejected,
                           "call to unknown helper " + std::to_string(insn.imm) + " (not in the helper registry)", prog,
                           pc);
      d.off = insn.imm;
      d.imm = reinterpret_cast<uint64_t>(h->fn);
      break;
    }
    case isa::Op::CALL_LOCAL:
      d.off = static_cast<int32_t>(isa::jump_target(insn, *s, pc));
      break;
    case isa::Op::CALL_KFUNC:
      return build_error(ErrorKind::Unsupported, "kfunc call " + std::to_string(insn.imm) +
                                                     " cannot run in the interpreter (no kfunc support)",
                         prog, pc);
    case isa::Op::CALLX:
      d.src = static_cast<uint8_t>(insn.dst != 0 ? insn.dst : insn.imm);  // LLVM puts the register in imm
      break;
    default: break;
  }
  return ok_status();
}

class Interpreter final : public Engine {
 public:
  explicit Interpreter(Program p) : prog_(std::move(p)) {}
  Result<uint64_t> run(ExecContext& ctx) const override {
    return interp::execute(prog_, ctx, interp::Entry{0, ctx.args, 0, 0});
  }
  Result<uint64_t> call_function(ExecContext& ctx, uint64_t entry, const uint64_t args[5]) const override {
    return interp::call_function(prog_, ctx, entry, args);
  }
  const char* name() const override { return "interpreter"; }

 private:
  const Program prog_;
};

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// Names what the faulting address was near, so an off-by-one reads as such.
std::string where(const ExecContext& ctx, uint64_t addr, uint32_t size, bool write) {
  const uint64_t end = addr + size;
  if (addr < ctx.stack_hi && end > ctx.stack_lo)
    return "(crosses the live stack [" + hex(ctx.stack_lo) + ", " + hex(ctx.stack_hi) + "))";
  for (const Region& r : ctx.regions) {
    const uint64_t rend = r.start + r.size;
    if (addr >= r.start && end <= rend && write && !r.writable) return std::string("(read-only region '") + r.name + "')";
    if (addr < rend && end > r.start)
      return std::string("(crosses the bounds of region '") + r.name + "' [" + hex(r.start) + ", " + hex(rend) + "))";
  }
  return "(not in any region)";
}

}  // namespace

namespace interp {

Result<Program> build_program(std::span<const isa::Insn> prog, const EngineOptions& opts) {
  isa::ValidateOptions vo;
  vo.max_cpu = opts.max_cpu;
  vo.allow_unresolved_pseudo = true;  // refused below with interpreter-specific messages
  // Every slot verified: the verifier has checked the fields already.
  vo.verified = opts.proofs.size() == prog.size() &&
                std::all_of(opts.proofs.begin(), opts.proofs.end(), [](uint32_t p) { return p & proof::kVerified; });
  std::vector<const isa::InsnSpec*> specs;
  if (Status st = isa::validate(prog, vo, &specs); !st) return st.error();
  if (prog.size() > static_cast<size_t>(INT32_MAX))
    return make_error(ErrorKind::Unsupported, "program too large for the interpreter");

  Program p;
  p.raw.assign(prog.begin(), prog.end());
  p.code.resize(prog.size() + 1);  // default DInsn is the fall-off sentinel
  p.helpers = opts.helpers;
  p.func_entries.push_back(0);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    DInsn& d = p.code[pc];
    if (Status st = decode(prog, pc, specs[pc], opts, d); !st) return st.error();
    if (d.op == static_cast<uint8_t>(isa::Op::CALL_LOCAL)) p.func_entries.push_back(static_cast<uint32_t>(d.off));
    if (isa::is_lddw(prog[pc]) && prog[pc].src == isa::pseudo::FUNC) p.func_entries.push_back(static_cast<uint32_t>(d.imm));
    if (isa::is_lddw(prog[pc])) p.code[++pc].op = interp::kOpLddwHi;
  }
  std::sort(p.func_entries.begin(), p.func_entries.end());
  p.func_entries.erase(std::unique(p.func_entries.begin(), p.func_entries.end()), p.func_entries.end());
  return p;
}

}  // namespace interp

Result<std::unique_ptr<Engine>> make_interpreter(std::span<const isa::Insn> prog, const EngineOptions& opts) {
  Result<Program> p = interp::build_program(prog, opts);
  if (!p) return p.error();
  return std::unique_ptr<Engine>(std::make_unique<Interpreter>(std::move(*p)));
}

namespace interp {

// Frames used by the runs this thread is nested in (callbacks calling helpers
// that call back again); each run only sees its own live stack.
thread_local int t_outer_frames = 0;

Result<uint64_t> call_function(const Program& p, ExecContext& ctx, uint64_t entry, const uint64_t args[5]) {
  return run_callback(p, ctx, entry, [&](int caller_frames) {
    return execute(p, ctx, Entry{static_cast<size_t>(entry), args, caller_frames, ctx.insns_executed});
  });
}

Error describe_fault(const Program& p, const ExecContext& ctx, const Fault& f) {
  const auto text = [&](const std::string& msg) {
    if (f.pc >= p.raw.size()) return msg;
    return with_text(msg, p.raw, f.pc);
  };
  const auto pc = static_cast<int64_t>(f.pc);
  const char* rw = f.write ? "write" : "read";
  switch (f.kind) {
    case FaultKind::Memory:
      return make_error(ErrorKind::Runtime,
                        text(std::string("out-of-bounds ") + rw + " of " + std::to_string(f.size) + " bytes at " +
                             hex(f.addr) + " " + where(ctx, f.addr, f.size, f.write)),
                        pc);
    case FaultKind::Misaligned:
      return make_error(ErrorKind::Runtime,
                        text("misaligned atomic access of " + std::to_string(f.size) + " bytes at " + hex(f.addr)), pc);
    case FaultKind::Budget:
      return make_error(ErrorKind::Runtime,
                        text("instruction budget of " + std::to_string(ctx.insn_budget) + " exceeded (infinite loop?)"),
                        pc);
    case FaultKind::CallDepth:
      return make_error(ErrorKind::Runtime, text("call depth exceeds " + std::to_string(isa::kMaxCallDepth)), pc);
    case FaultKind::FallOff:
      return make_error(ErrorKind::Runtime,
                        "execution fell off the end of the program (pc " + std::to_string(f.pc) +
                            " is past the last instruction; missing exit?)",
                        pc);
    case FaultKind::BadSlot:
      return make_error(ErrorKind::Runtime, "execution reached the second slot of an lddw", pc);
    case FaultKind::UnknownCallx:
      return make_error(ErrorKind::Runtime, text("callx to unknown helper id " + std::to_string(f.addr)), pc);
  }
  return make_error(ErrorKind::Runtime, "unknown fault", pc);
}

}  // namespace interp
}  // namespace userbpf::vm
