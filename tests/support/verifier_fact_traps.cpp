// Fact traps: inserted instructions, then every jump re-targeted through a map
// from old to new slot indexes.
#include "support/verifier_fact_traps.h"

#include <climits>

namespace userbpf::testing {
namespace {

using namespace isa;

struct Piece {
  Insn insn;
  std::string trap;  // non-empty: this slot belongs to a trap for that claim
};

Insn make(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
  return userbpf::isa::make_insn(opcode, dst, src, off, imm);
}

// r0 = 0; r0 = *(u8 *)(r0 + 0): a read of address 0, refused by the checked interpreter.
void trap(std::vector<Piece>& out, const std::string& claim) {
  out.push_back({make(op::ALU64 | op::MOV | op::K, 0), claim});
  out.push_back({make(op::LDX | op::MEM | op::B, 0, 0), claim});
}

bool is_jump(const InsnSpec& s) { return s.kind == Kind::Jump; }
bool is_conditional(const InsnSpec& s) { return s.kind == Kind::Jump && s.op != Op::JA && s.op != Op::JA32; }

bool is_div_reg(Op o) {
  switch (o) {
    case Op::DIV64_REG:
    case Op::SDIV64_REG:
    case Op::MOD64_REG:
    case Op::SMOD64_REG:
    case Op::DIV32_REG:
    case Op::SDIV32_REG:
    case Op::MOD32_REG:
    case Op::SMOD32_REG: return true;
    default: return false;
  }
}

}  // namespace

Result<TrappedProgram> add_fact_traps(std::span<const Insn> prog, std::span<const verifier::InsnFacts> facts) {
  const size_t n = prog.size();
  if (facts.size() != n) return make_error(ErrorKind::InvalidArgument, "facts and instructions differ in number");
  std::vector<std::vector<Piece>> pre(n), post(n);
  std::vector<bool> to_trap(n, false), second(n, false);
  for (size_t pc = 0; pc < n; ++pc) {
    if (second[pc]) continue;
    const Insn& in = prog[pc];
    const InsnSpec* s = lookup(in);
    if (!s) return make_error(ErrorKind::Malformed, "undecodable instruction", static_cast<int64_t>(pc));
    if (is_lddw(in) && pc + 1 < n) second[pc + 1] = true;
    if (s->kind == Kind::Call && in.src == pseudo::CALL_LOCAL)
      return make_error(ErrorKind::Unsupported, "bpf-to-bpf calls are not instrumented", static_cast<int64_t>(pc));
    const uint16_t f = facts[pc].flags;
    const std::string at = "insn " + std::to_string(pc) + " (" + disassemble(in, pc + 1 < n ? &prog[pc + 1] : nullptr) + ")";
    if (!(f & verifier::kReached)) {
      trap(pre[pc], at + " claimed unreachable");
      continue;
    }
    if ((f & verifier::kDivisorNonZero) && is_div_reg(s->op)) {
      pre[pc].push_back({make((s->width == 32 ? op::JMP32 : op::JMP) | op::JNE | op::K, in.src, 0, 2), ""});
      trap(pre[pc], at + " claimed a divisor never zero");
    }
    if (is_conditional(*s)) {
      if (f & verifier::kDeadBranchTaken) to_trap[pc] = true;
      if (f & verifier::kDeadBranchFallthrough) trap(post[pc], at + " claimed always taken");
    }
    const uint8_t cls = op::cls(in.opcode);
    const bool writes_dst = s->kind == Kind::Alu || s->kind == Kind::Endian || s->kind == Kind::Load;
    if ((f & verifier::kFits32) && writes_dst && in.dst < 10) {
      // Afterwards: dst <= 0xffffffff, tested without a spare register by
      // moving dst down by 2^31 and back.
      const uint8_t d = in.dst;
      auto& v = post[pc];
      v.push_back({make(op::JMP | op::JLE | op::K, d, 0, 6, 0x7fffffff), ""});
      v.push_back({make(op::ALU64 | op::ADD | op::K, d, 0, 0, INT32_MIN), ""});
      v.push_back({make(op::JMP | op::JGT | op::K, d, 0, 2, 0x7fffffff), ""});
      v.push_back({make(op::ALU64 | op::SUB | op::K, d, 0, 0, INT32_MIN), ""});
      v.push_back({make(op::JMP | op::JA, 0, 0, 2), ""});
      trap(v, at + " claimed its result fits in 32 bits");
    }
    const bool mem = s->kind == Kind::Load || s->kind == Kind::Store || s->kind == Kind::StoreReg || s->kind == Kind::Atomic;
    const uint8_t base = s->kind == Kind::Load ? in.src : in.dst;
    if ((f & verifier::kStackAccess) && mem && base != kFramePointer && (cls == op::LDX || cls == op::ST || cls == op::STX)) {
      // The address lies in this frame's 512 bytes: base - r10 in [-512 - off, -(off + size)].
      auto& v = pre[pc];
      const int32_t lo = -kStackSize - in.off, hi = -(in.off + static_cast<int32_t>(s->width));
      v.push_back({make(op::ALU64 | op::SUB | op::X, base, kFramePointer), ""});
      v.push_back({make(op::JMP | op::JSGT | op::K, base, 0, 3, hi), ""});
      v.push_back({make(op::JMP | op::JSLT | op::K, base, 0, 2, lo), ""});
      v.push_back({make(op::ALU64 | op::ADD | op::X, base, kFramePointer), ""});
      v.push_back({make(op::JMP | op::JA, 0, 0, 2), ""});
      trap(v, at + " claimed a stack access");
    }
  }

  // New index of every old slot: where its `pre` pieces start (jumps land there).
  std::vector<size_t> start(n + 1), self(n);
  size_t pos = 0;
  for (size_t pc = 0; pc < n; ++pc) {
    start[pc] = pos;
    pos += pre[pc].size();
    self[pc] = pos;
    pos += 1 + post[pc].size();
  }
  start[n] = pos;
  std::vector<size_t> branch_trap(n, 0);
  for (size_t pc = 0; pc < n; ++pc)
    if (to_trap[pc]) {
      branch_trap[pc] = pos;
      pos += 2;
    }

  TrappedProgram out;
  auto put = [&](const Insn& i, const std::string& claim, int64_t orig) {
    out.insns.push_back(i);
    out.trap.push_back(claim);
    out.orig.push_back(orig);
    if (!claim.empty()) ++out.traps;
  };
  for (size_t pc = 0; pc < n; ++pc) {
    for (const Piece& p : pre[pc]) put(p.insn, p.trap, -1);
    Insn in = prog[pc];
    const InsnSpec* s = second[pc] ? nullptr : lookup(in);
    if (s && is_jump(*s)) {
      const int64_t old_target = jump_target(in, *s, pc);
      if (old_target < 0 || static_cast<size_t>(old_target) > n)
        return make_error(ErrorKind::Malformed, "jump out of the program", static_cast<int64_t>(pc));
      const size_t target = to_trap[pc] ? branch_trap[pc] : start[static_cast<size_t>(old_target)];
      const int64_t off = static_cast<int64_t>(target) - static_cast<int64_t>(self[pc]) - 1;
      if (s->op == Op::JA32) {
        in.imm = static_cast<int32_t>(off);
      } else {
        if (off < INT16_MIN || off > INT16_MAX) return make_error(ErrorKind::Unsupported, "jump too far after instrumenting");
        in.off = static_cast<int16_t>(off);
      }
    }
    put(in, "", static_cast<int64_t>(pc));
    for (const Piece& p : post[pc]) put(p.insn, p.trap, -1);
  }
  for (size_t pc = 0; pc < n; ++pc)
    if (to_trap[pc]) {
      std::vector<Piece> t;
      trap(t, "insn " + std::to_string(pc) + " (" + disassemble(prog[pc]) + ") claimed never taken");
      for (const Piece& p : t) put(p.insn, p.trap, -1);
    }
  return out;
}

}  // namespace userbpf::testing
