// LLVM BPF assembly, as llvm-objdump and our disassembler print it
// ("r0 = *(u8 *)(r1 + 2)", "if w1 s<= 5 goto -1").  Each form is mapped to the
// table's uBPF mnemonic and looked up there, so no opcode is spelled out here.
#include <string>

#include "isa/assembler_internal.h"

namespace userbpf::isa::detail {
namespace {

struct Symbol {
  const char* text;
  const char* name;
};

// Longest first, so "s>>=" is not read as "s>" or ">>=".
constexpr Symbol kAluOps[] = {
    {"s>>=", "arsh"}, {"s/=", "sdiv"}, {"s%=", "smod"}, {"<<=", "lsh"}, {">>=", "rsh"}, {"+=", "add"},
    {"-=", "sub"},    {"*=", "mul"},   {"/=", "div"},   {"%=", "mod"},  {"|=", "or"},   {"&=", "and"},
    {"^=", "xor"},    {"=", "mov"},
};
constexpr Symbol kJumpOps[] = {
    {"s>=", "jsge"}, {"s<=", "jsle"}, {"s>", "jsgt"}, {"s<", "jslt"}, {"==", "jeq"}, {"!=", "jne"},
    {">=", "jge"},   {"<=", "jle"},   {">", "jgt"},   {"<", "jlt"},   {"&", "jset"},
};
constexpr Symbol kAtomicOps[] = {{"+=", "add"}, {"|=", "or"}, {"&=", "and"}, {"^=", "xor"}};

template <size_t N>
const char* symbol(Scanner& sc, const Symbol (&table)[N]) {
  for (const Symbol& s : table)
    if (sc.accept(s.text)) return s.name;
  return nullptr;
}

std::string w32(std::string name, bool w) { return w ? name + "32" : name; }

const InsnSpec* need_spec(Scanner& sc, const std::string& name, int reg_operand = -1) {
  const InsnSpec* s = find_spec(name, reg_operand);
  if (!s) sc.fail("no instruction '" + name + "'" + (reg_operand == 1 ? " with a register operand" : ""));
  return s;
}

// "(u32 *)" -> bytes and signedness.
bool type_cast(Scanner& sc, int& bytes, bool& is_signed) {
  if (!sc.expect("(")) return false;
  const std::string_view t = sc.ident();
  is_signed = t.starts_with("s");
  if (t == "u8" || t == "s8") bytes = 1;
  else if (t == "u16" || t == "s16") bytes = 2;
  else if (t == "u32" || t == "s32") bytes = 4;
  else if (t == "u64" || t == "s64") bytes = 8;
  else return sc.fail("unknown access size '" + std::string(t) + "'");
  return sc.expect("*") && sc.expect(")");
}

// "rN", "rN + off", "rN - off"
bool address(Scanner& sc, int& base, int16_t& off) {
  Reg r;
  if (!sc.reg(r, false)) return false;
  base = r.n;
  Num n;
  if (sc.accept("+")) {
    if (!sc.number(n)) return false;
  } else if (sc.accept("-")) {
    if (!sc.number(n)) return false;
    n.neg = !n.neg;
  }
  return sc.off16(n, off);
}

bool paren_address(Scanner& sc, int& base, int16_t& off) {
  return sc.expect("(") && address(sc, base, off) && sc.expect(")");
}

// Second operand of ALU and jumps: a register of the same width, or an imm32.
bool operand(Scanner& sc, const std::string& name, const Reg& dst, Insn& insn) {
  const bool is_reg = sc.looks_like_reg(true);
  const InsnSpec* s = need_spec(sc, name, is_reg);
  if (!s) return false;
  insn = encode(*s);
  insn.dst = dst.n;
  if (!is_reg) {
    Num n;
    return sc.number(n) && sc.imm32(n, insn.imm);
  }
  Reg src;
  if (!sc.reg(src, true)) return false;
  if (src.w != dst.w) return sc.fail("mixed 32-bit and 64-bit registers");
  insn.src = src.n;
  return true;
}

bool emit_end(Scanner& sc, Builder& b, const Insn& insn) {
  if (!sc.end()) return false;
  b.emit(insn);
  return true;
}

// "if rA OP rB|imm goto TARGET"
bool cond_jump(Scanner& sc, Builder& b) {
  Reg dst;
  if (!sc.reg(dst, true)) return false;
  const char* name = symbol(sc, kJumpOps);
  if (!name) return sc.fail("unknown comparison before '" + std::string(sc.rest()) + "'");
  Insn insn;
  Target t;
  if (!operand(sc, w32(name, dst.w), dst, insn)) return false;
  if (!sc.accept_word("goto")) return sc.fail("expected 'goto'");
  return sc.target(t) && sc.end() && b.emit_branch(sc, insn, t, false);
}

// "call N" helper, "call LABEL" / "call pc±N" local, "call kfunc N[, BTF_FD_IDX]".
bool call(Scanner& sc, Builder& b) {
  Num n;
  if (sc.accept_word("kfunc")) {
    Insn insn = encode(spec(Op::CALL_KFUNC));
    if (!sc.number(n) || !sc.imm32(n, insn.imm)) return false;
    if (sc.accept(",") && (!sc.number(n) || !sc.off16(n, insn.off))) return false;
    return emit_end(sc, b, insn);
  }
  Target t;
  if (sc.accept_word("pc")) {
    if (sc.peek() != '+' && sc.peek() != '-') return sc.fail("expected pc+N or pc-N");
    return sc.target(t) && sc.end() && b.emit_branch(sc, encode(spec(Op::CALL_LOCAL)), t, true);
  }
  const char c = sc.peek();
  if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
    Insn insn = encode(spec(Op::CALL_HELPER));
    if (!sc.number(n) || !sc.imm32(n, insn.imm)) return false;
    return emit_end(sc, b, insn);
  }
  return sc.target(t) && sc.end() && b.emit_branch(sc, encode(spec(Op::CALL_LOCAL)), t, true);
}

// "lock *(u64 *)(rA + off) OP= rB"
bool lock(Scanner& sc, Builder& b) {
  int bytes = 0, base = 0;
  bool is_signed = false;
  Insn insn;
  if (!sc.expect("*") || !type_cast(sc, bytes, is_signed) || !paren_address(sc, base, insn.off)) return false;
  const char* name = symbol(sc, kAtomicOps);
  if (!name) return sc.fail("expected one of += |= &= ^=");
  if (is_signed || bytes < 4) return sc.fail("atomic operations are 32 or 64 bits wide");
  const int16_t off = insn.off;
  Reg src;
  const InsnSpec* s = need_spec(sc, w32(std::string("lock ") + name, bytes == 4));
  if (!s || !sc.reg(src, true)) return false;
  insn = encode(*s);
  insn.dst = base;
  insn.src = src.n;
  insn.off = off;
  return emit_end(sc, b, insn);
}

// "*(u32 *)(rA + off) = rB|imm"
bool store(Scanner& sc, Builder& b) {
  int bytes = 0, base = 0;
  bool is_signed = false;
  int16_t off = 0;
  if (!sc.expect("*") || !type_cast(sc, bytes, is_signed) || !paren_address(sc, base, off) || !sc.expect("="))
    return false;
  if (is_signed) return sc.fail("stores take an unsigned access size");
  const bool is_reg = sc.looks_like_reg(true);
  const InsnSpec* s = need_spec(sc, std::string(is_reg ? "stx" : "st") + size_suffix(bytes));
  if (!s) return false;
  Insn insn = encode(*s);
  insn.dst = base;
  insn.off = off;
  if (is_reg) {
    Reg src;
    if (!sc.reg(src, true)) return false;
    if (src.w && bytes == 8) return sc.fail("64-bit store of a 32-bit register");
    insn.src = src.n;
  } else {
    Num n;
    if (!sc.number(n) || !sc.imm32(n, insn.imm)) return false;
  }
  return emit_end(sc, b, insn);
}

// "rD = *(u8 *)(rS + off)" and the legacy packet loads "r0 = *(u16 *)skb[...]".
bool load(Scanner& sc, Builder& b, const Reg& dst) {
  int bytes = 0;
  bool is_signed = false;
  if (!sc.expect("*") || !type_cast(sc, bytes, is_signed)) return false;
  if (sc.accept_word("skb")) {
    if (is_signed || bytes == 8) return sc.fail("packet loads are u8, u16 or u32");
    if (dst.n != 0) return sc.fail("packet loads always write r0");
    if (!sc.expect("[")) return false;
    const bool ind = sc.looks_like_reg(false);
    const InsnSpec* s = need_spec(sc, std::string(ind ? "ldind" : "ldabs") + size_suffix(bytes));
    if (!s) return false;
    Insn insn = encode(*s);
    Num n;
    if (ind) {
      Reg r;
      if (!sc.reg(r, false)) return false;
      insn.src = r.n;
      if (sc.accept("+")) {
        if (!sc.number(n)) return false;
      } else if (sc.accept("-")) {
        if (!sc.number(n)) return false;
        n.neg = !n.neg;
      }
    } else if (!sc.number(n)) {
      return false;
    }
    if (!sc.imm32(n, insn.imm) || !sc.expect("]")) return false;
    return emit_end(sc, b, insn);
  }
  if (dst.w && bytes == 8) return sc.fail("64-bit load into a 32-bit register");
  const InsnSpec* s = need_spec(sc, std::string(is_signed ? "ldxs" : "ldx") + size_suffix(bytes));
  if (!s) return false;
  Insn insn = encode(*s);
  int base = 0;
  if (!paren_address(sc, base, insn.off)) return false;
  insn.dst = dst.n;
  insn.src = base;
  return emit_end(sc, b, insn);
}

// "rD = atomic_fetch_add((u64 *)(rA + off), rD)", "xchg_64(rA + off, rD)",
// "r0 = cmpxchg_64(rA + off, r0, rB)" and their 32-bit spellings.
bool atomic_call(Scanner& sc, Builder& b, const Reg& dst, std::string_view fn) {
  int base = 0;
  int16_t off = 0;
  Reg src;
  std::string name;
  if (fn.starts_with("atomic_fetch_")) {
    int bytes = 0;
    bool is_signed = false;
    if (!sc.expect("(") || !type_cast(sc, bytes, is_signed) || !paren_address(sc, base, off)) return false;
    if (is_signed || bytes < 4) return sc.fail("atomic operations are 32 or 64 bits wide");
    name = w32("lock fetch " + std::string(fn.substr(13)), bytes == 4);
  } else {
    const bool is64 = fn == "xchg_64" || fn == "cmpxchg_64";
    if (!is64 && fn != "xchg32_32" && fn != "cmpxchg32_32") return sc.fail("unknown operation '" + std::string(fn) + "'");
    name = w32(fn.starts_with("xchg") ? "lock xchg" : "lock cmpxchg", !is64);
    if (!sc.expect("(") || !address(sc, base, off)) return false;
    if (fn.starts_with("cmpxchg")) {
      Reg r0;
      if (!sc.expect(",") || !sc.reg(r0, true)) return false;
      if (r0.n != 0 || dst.n != 0) return sc.fail("cmpxchg compares and returns r0");
    }
  }
  if (!sc.expect(",") || !sc.reg(src, true) || !sc.expect(")")) return false;
  if (!fn.starts_with("cmpxchg") && src.n != dst.n)
    return sc.fail("the fetched value goes back into the source register r" + std::to_string(src.n));
  const InsnSpec* s = need_spec(sc, name);
  if (!s) return false;
  Insn insn = encode(*s);
  insn.dst = base;
  insn.src = src.n;
  insn.off = off;
  return emit_end(sc, b, insn);
}

// Everything after "rD =".
bool assign(Scanner& sc, Builder& b, const Reg& dst) {
  const char c = sc.peek();
  if (c == '*') return load(sc, b, dst);
  Reg src;
  if (c == '(') {  // sign-extending move "(s8)rS"
    const std::string_view t = sc.accept("(") ? sc.ident() : std::string_view{};
    if (t != "s8" && t != "s16" && t != "s32") return sc.fail("expected (s8), (s16) or (s32)");
    if (!sc.expect(")") || !sc.reg(src, true)) return false;
    if (src.w != dst.w) return sc.fail("mixed 32-bit and 64-bit registers");
    const InsnSpec* s = need_spec(sc, w32("movsx" + std::string(t.substr(1)), dst.w));
    if (!s) return false;
    Insn insn = encode(*s);
    insn.dst = dst.n;
    insn.src = src.n;
    return emit_end(sc, b, insn);
  }
  const size_t p = sc.pos();
  if (sc.accept("-") && sc.looks_like_reg(true)) {  // "rD = -rD"
    if (!sc.reg(src, true)) return false;
    if (src.n != dst.n || src.w != dst.w) return sc.fail("negation must be in place (rD = -rD)");
    Insn insn = encode(spec(dst.w ? Op::NEG32 : Op::NEG64));
    insn.dst = dst.n;
    return emit_end(sc, b, insn);
  }
  sc.reset(p);
  if (sc.looks_like_reg(true)) {
    Insn insn;
    return operand(sc, w32("mov", dst.w), dst, insn) && emit_end(sc, b, insn);
  }
  if (const std::string_view fn = sc.ident(); !fn.empty()) {
    const InsnSpec* s = find_spec(fn);
    if (!s || s->kind != Kind::Endian) return atomic_call(sc, b, dst, fn);
    if (!sc.reg(src, true)) return false;
    if (src.n != dst.n) return sc.fail("byte swaps work in place (rD = " + std::string(fn) + " rD)");
    Insn insn = encode(*s);
    insn.dst = dst.n;
    return emit_end(sc, b, insn);
  }
  Num n;
  if (!sc.number(n)) return false;
  if (sc.accept_word("ll")) {
    uint64_t v = 0;
    if (dst.w) return sc.fail("64-bit immediate load into a 32-bit register");
    if (!sc.imm64(n, v) || !sc.end()) return false;
    Insn lo = encode(spec(Op::LDDW)), hi;
    lo.dst = dst.n;
    lo.imm = static_cast<int32_t>(static_cast<uint32_t>(v));
    hi.imm = static_cast<int32_t>(static_cast<uint32_t>(v >> 32));
    b.emit(lo);
    b.emit(hi);
    return true;
  }
  const InsnSpec* s = need_spec(sc, w32("mov", dst.w), 0);
  if (!s) return false;
  Insn insn = encode(*s);
  insn.dst = dst.n;
  return sc.imm32(n, insn.imm) && emit_end(sc, b, insn);
}

}  // namespace

bool parse_llvm(Scanner& sc, Builder& b) {
  Target t;
  if (sc.accept_word("exit")) return emit_end(sc, b, encode(spec(Op::EXIT)));
  if (sc.accept_word("goto")) return sc.target(t) && sc.end() && b.emit_branch(sc, encode(spec(Op::JA)), t, false);
  if (sc.accept_word("gotol")) return sc.target(t) && sc.end() && b.emit_branch(sc, encode(spec(Op::JA32)), t, true);
  if (sc.accept_word("if")) return cond_jump(sc, b);
  if (sc.accept_word("callx")) {
    Reg r;
    if (!sc.reg(r, false)) return false;
    Insn insn = encode(spec(Op::CALLX));
    insn.dst = r.n;
    return emit_end(sc, b, insn);
  }
  if (sc.accept_word("call")) return call(sc, b);
  if (sc.accept_word("lock")) return lock(sc, b);
  if (sc.peek() == '*') return store(sc, b);
  Reg dst;
  if (!sc.reg(dst, true)) return false;
  const char* name = symbol(sc, kAluOps);
  if (!name) return sc.fail("expected an assignment operator before '" + std::string(sc.rest()) + "'");
  if (std::string_view(name) == "mov") return assign(sc, b, dst);
  Insn insn;
  return operand(sc, w32(name, dst.w), dst, insn) && emit_end(sc, b, insn);
}

}  // namespace userbpf::isa::detail
