// rewrite_ctx_accesses: context loads and stores become accesses of the
// kernel-side structs (see ctx_rewrite.h).
#include "hooks/ctx_rewrite.h"

#include <string>

#include "hooks/ctx_layout.h"

namespace userbpf::hooks {
namespace {

using isa::Insn;
namespace op = isa::op;

uint8_t size_code(uint8_t bytes) {
  switch (bytes) {
    case 1: return op::B;
    case 2: return op::H;
    case 4: return op::W;
    default: return op::DW;
  }
}

Error at(Error e, size_t pc) {
  e.insn = static_cast<int64_t>(pc);
  return e;
}

// The replacement of one context access (one or two instructions).
Result<std::vector<Insn>> convert(uint32_t prog_type, const Insn& in, const isa::InsnSpec& spec, size_t pc) {
  const bool write = spec.kind != isa::Kind::Load;
  const int reg = write ? in.dst : in.src;
  if (spec.kind == isa::Kind::Atomic)
    return make_error(ErrorKind::Rejected, "BPF_ATOMIC stores into R" + std::to_string(reg) + " ctx is not allowed",
                      static_cast<int64_t>(pc));
  if (op::mode(in.opcode) == op::MEMSX)
    return make_error(ErrorKind::Rejected, "sign-extending load from ctx is not allowed", static_cast<int64_t>(pc));
  auto a = check_ctx_access(prog_type, in.off, spec.width, write);
  if (!a) return at(a.error(), pc);
  const int16_t off = static_cast<int16_t>(a->real_off);
  const uint8_t sz = size_code(a->size);
  if (!write) return std::vector<Insn>{{static_cast<uint8_t>(op::LDX | op::MEM | sz), in.dst, in.src, off, 0}};
  const bool is_reg = spec.kind == isa::Kind::StoreReg;
  const Insn store = is_reg ? Insn{static_cast<uint8_t>(op::STX | op::MEM | sz), in.dst, in.src, off, 0}
                            : Insn{static_cast<uint8_t>(op::ST | op::MEM | sz), in.dst, 0, off, in.imm};
  if (a->op != CtxAccess::Op::StoreQueueMapping) return std::vector<Insn>{store};
  // NO_QUEUE_MAPPING (0xffff) and above leave the field alone.  The kernel
  // compares a register unsigned over 64 bits, an immediate as a signed int.
  constexpr int32_t kNoQueueMapping = 0xffff;
  if (!is_reg) {
    if (in.imm >= kNoQueueMapping) return std::vector<Insn>{{static_cast<uint8_t>(op::JMP | op::JA), 0, 0, 0, 0}};
    return std::vector<Insn>{store};
  }
  return std::vector<Insn>{{static_cast<uint8_t>(op::JMP | op::JGE | op::K), in.src, 0, 1, kNoQueueMapping}, store};
}

}  // namespace

Result<std::vector<Insn>> rewrite_ctx_accesses(uint32_t prog_type, std::span<const Insn> prog,
                                               std::span<const CtxFact> facts, std::vector<size_t>* new_index) {
  const size_t n = prog.size();
  std::vector<size_t> index(n + 1);
  for (size_t i = 0; i <= n; ++i) index[i] = i;
  if (ctx_kind(prog_type) == CtxKind::None) {
    if (new_index) *new_index = std::move(index);
    return std::vector<Insn>(prog.begin(), prog.end());
  }
  if (facts.size() != n)
    return make_error(ErrorKind::InvalidArgument, "context facts do not match the program (" +
                                                      std::to_string(facts.size()) + " for " + std::to_string(n) + ")");

  std::vector<Insn> out;
  out.reserve(n);
  bool grew = false;
  for (size_t pc = 0; pc < n; ++pc) {
    index[pc] = out.size();
    const Insn& in = prog[pc];
    const isa::InsnSpec* spec = isa::lookup(in);
    const bool mem = spec && (spec->kind == isa::Kind::Load || spec->kind == isa::Kind::Store ||
                              spec->kind == isa::Kind::StoreReg || spec->kind == isa::Kind::Atomic);
    if (spec && spec->kind == isa::Kind::LoadImm64 && pc + 1 < n) {
      out.push_back(in);
      out.push_back(prog[++pc]);
      index[pc] = out.size() - 1;
      continue;
    }
    if (!mem || facts[pc].kind == CtxFact::Kind::NotCtx) {
      out.push_back(in);
      continue;
    }
    const int reg = spec->kind == isa::Kind::Load ? in.src : in.dst;
    if (facts[pc].kind == CtxFact::Kind::Ambiguous)
      return make_error(ErrorKind::Rejected,
                        "R" + std::to_string(reg) + " is the context on some paths only (or a mangled copy of it)",
                        static_cast<int64_t>(pc));
    if (facts[pc].off != 0)
      return make_error(ErrorKind::Rejected, "dereference of modified ctx ptr R" + std::to_string(reg) +
                                                 " off=" + std::to_string(facts[pc].off) + " disallowed",
                        static_cast<int64_t>(pc));
    auto repl = convert(prog_type, in, *spec, pc);
    if (!repl) return repl.error();
    grew |= repl->size() != 1;
    out.insert(out.end(), repl->begin(), repl->end());
  }
  index[n] = out.size();

  if (grew) {
    // Re-target every jump, local call and callback reference of the original code.
    for (size_t pc = 0; pc < n; ++pc) {
      const Insn& in = prog[pc];
      const isa::InsnSpec* spec = isa::lookup(in);
      if (!spec) continue;
      const bool func_ref = spec->kind == isa::Kind::LoadImm64 && in.src == isa::pseudo::FUNC;
      const bool jump = spec->kind == isa::Kind::Jump || spec->op == isa::Op::CALL_LOCAL;
      if (spec->kind == isa::Kind::LoadImm64 && !func_ref) {
        ++pc;
        continue;
      }
      if (!jump && !func_ref) continue;
      const int64_t target = func_ref ? static_cast<int64_t>(pc) + 1 + in.imm : isa::jump_target(in, *spec, pc);
      if (target < 0 || target > static_cast<int64_t>(n))
        return make_error(ErrorKind::Malformed, "jump outside the program", static_cast<int64_t>(pc));
      const int64_t rel = static_cast<int64_t>(index[static_cast<size_t>(target)]) -
                          static_cast<int64_t>(index[pc]) - 1;
      Insn& o = out[index[pc]];
      if (func_ref || spec->op == isa::Op::CALL_LOCAL || spec->op == isa::Op::JA32) {
        o.imm = static_cast<int32_t>(rel);
      } else {
        if (rel < INT16_MIN || rel > INT16_MAX)
          return make_error(ErrorKind::Unsupported, "jump offset overflows after context rewriting",
                            static_cast<int64_t>(pc));
        o.off = static_cast<int16_t>(rel);
      }
      if (func_ref) ++pc;
    }
  }
  if (new_index) *new_index = std::move(index);
  return out;
}

Result<std::vector<Insn>> rewrite_ctx_accesses(uint32_t prog_type, std::span<const Insn> prog) {
  if (ctx_kind(prog_type) == CtxKind::None) return std::vector<Insn>(prog.begin(), prog.end());
  auto facts = analyze_ctx_pointers(prog);
  if (!facts) return facts.error();
  return rewrite_ctx_accesses(prog_type, prog, *facts);
}

}  // namespace userbpf::hooks
