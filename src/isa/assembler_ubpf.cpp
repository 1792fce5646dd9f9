// uBPF / bpf_conformance syntax: "mnemonic operands", registers as %rN, memory
// as [%rN+off].  Mnemonics are the table's asm_name, so each line is one lookup.
#include <string>

#include "isa/assembler_internal.h"

namespace userbpf::isa::detail {
namespace {

// [%rN], [%rN+off], [%rN-off]
bool mem_operand(Scanner& sc, int& base, int16_t& off) {
  Reg r;
  if (!sc.expect("[") || !sc.reg(r, false)) return false;
  Num n;
  if (sc.accept("+")) {
    if (!sc.number(n)) return false;
  } else if (sc.accept("-")) {
    if (!sc.number(n)) return false;
    n.neg = !n.neg;
  }
  if (!sc.off16(n, off) || !sc.expect("]")) return false;
  base = r.n;
  return true;
}

// "lock fetch add32" is one mnemonic spread over several words.
std::string mnemonic(Scanner& sc) {
  const std::string_view first = sc.ident();
  if (first != "lock") return std::string(first);
  std::string_view op = sc.ident();
  const bool fetch = op == "fetch";
  if (fetch) op = sc.ident();
  std::string name;
  name.reserve(16 + op.size());  // also keeps g++ 12 from a false -Wrestrict here
  name.append(fetch ? "lock fetch " : "lock ").append(op);
  return name;
}

// Spellings the suite uses besides the table's: "swapN" for bswapN, and an
// explicit "64" suffix ("add64", "movsx864", "movsx3264").
std::string canonical(const std::string& name) {
  if (name.starts_with("swap")) return "b" + name;
  if (!find_spec(name) && name.size() > 2 && name.ends_with("64")) {
    std::string shorter = name.substr(0, name.size() - 2);
    if (find_spec(shorter)) return shorter;
  }
  return name;
}

// "call N" (helper), "call local LABEL|±N" (bpf-to-bpf), "call %rN" (callx).
bool call(Scanner& sc, Builder& b) {
  if (sc.accept_word("local")) {
    Target t;
    return sc.target(t) && sc.end() && b.emit_branch(sc, encode(spec(Op::CALL_LOCAL)), t, true);
  }
  if (sc.looks_like_reg(false)) {
    Reg r;
    if (!sc.reg(r, false) || !sc.end()) return false;
    Insn insn = encode(spec(Op::CALLX));
    insn.dst = r.n;
    b.emit(insn);
    return true;
  }
  Num n;
  Insn insn = encode(spec(Op::CALL_HELPER));
  if (!sc.number(n) || !sc.imm32(n, insn.imm) || !sc.end()) return false;
  b.emit(insn);
  return true;
}

// Register or immediate second operand, choosing the K or X form of `name`.
bool reg_or_imm(Scanner& sc, const std::string& name, Insn& insn) {
  const bool is_reg = sc.looks_like_reg(false);
  const InsnSpec* s = find_spec(name, is_reg);
  if (!s) return sc.fail(name + (is_reg ? " takes an immediate, not a register" : " takes a register, not an immediate"));
  const uint8_t dst = insn.dst;
  insn = encode(*s);
  insn.dst = dst;
  if (is_reg) {
    Reg r;
    if (!sc.reg(r, false)) return false;
    insn.src = r.n;
    return true;
  }
  Num n;
  return sc.number(n) && sc.imm32(n, insn.imm);
}

}  // namespace

bool parse_ubpf(Scanner& sc, Builder& b) {
  const std::string raw = mnemonic(sc);
  if (raw.empty()) return sc.fail("expected a mnemonic before '" + std::string(sc.rest()) + "'");
  if (raw == "call") return call(sc, b);
  const std::string name = canonical(raw);
  const InsnSpec* any = find_spec(name);
  if (!any) return sc.fail("unknown mnemonic '" + raw + "'");
  Insn insn = encode(*any);
  Reg r;
  Num n;
  int base = 0;
  switch (any->kind) {
    case Kind::Alu:
      if (!sc.reg(r, false)) return false;
      insn.dst = r.n;
      if (any->op != Op::NEG64 && any->op != Op::NEG32 && (!sc.expect(",") || !reg_or_imm(sc, name, insn)))
        return false;
      break;
    case Kind::Endian:
      if (!sc.reg(r, false)) return false;
      insn.dst = r.n;
      break;
    case Kind::Jump: {
      Target t;
      if (any->op == Op::JA || any->op == Op::JA32)
        return sc.target(t) && sc.end() && b.emit_branch(sc, insn, t, any->op == Op::JA32);
      if (!sc.reg(r, false)) return false;
      insn.dst = r.n;
      return sc.expect(",") && reg_or_imm(sc, name, insn) && sc.expect(",") && sc.target(t) && sc.end() &&
             b.emit_branch(sc, insn, t, false);
    }
    case Kind::Call:  // only "callx %rN" reaches here; "call" is handled above
      if (any->op != Op::CALLX || !sc.reg(r, false)) return sc.fail("malformed call");
      insn.dst = r.n;
      break;
    case Kind::Exit: break;
    case Kind::LoadImm64: {
      uint64_t v = 0;
      if (!sc.reg(r, false) || !sc.expect(",") || !sc.number(n) || !sc.imm64(n, v) || !sc.end()) return false;
      insn.dst = r.n;
      insn.imm = static_cast<int32_t>(static_cast<uint32_t>(v));
      Insn hi;
      hi.imm = static_cast<int32_t>(static_cast<uint32_t>(v >> 32));
      b.emit(insn);
      b.emit(hi);
      return true;
    }
    case Kind::LegacyLoad:
      if (op::mode(insn.opcode) == op::IND) {
        if (!sc.reg(r, false) || !sc.expect(",")) return false;
        insn.src = r.n;
      }
      if (!sc.number(n) || !sc.imm32(n, insn.imm)) return false;
      break;
    case Kind::Load:
      if (!sc.reg(r, false) || !sc.expect(",") || !mem_operand(sc, base, insn.off)) return false;
      insn.dst = r.n;
      insn.src = base;
      break;
    case Kind::Store:
      if (!mem_operand(sc, base, insn.off) || !sc.expect(",") || !sc.number(n) || !sc.imm32(n, insn.imm)) return false;
      insn.dst = base;
      break;
    case Kind::StoreReg:
    case Kind::Atomic:
      if (!mem_operand(sc, base, insn.off) || !sc.expect(",") || !sc.reg(r, false)) return false;
      insn.dst = base;
      insn.src = r.n;
      break;
  }
  if (!sc.end()) return false;
  b.emit(insn);
  return true;
}

}  // namespace userbpf::isa::detail
