// The instruction table: every valid encoding of RFC 9669 (cpu v1-v4) with its
// field rules.  Built once; lookup() indexes it by opcode.
#include <array>
#include <memory>
#include <string>

#include "userbpf/isa.h"

namespace userbpf::isa {
namespace {

using namespace op;

struct Table {
  std::vector<InsnSpec> specs;
  // Per opcode: indexes into specs (a few opcodes have several variants).
  std::array<std::vector<uint16_t>, 256> by_opcode;
  // Opcodes with one variant that no other field tells apart: the spec itself
  // (lookup's fast path; nearly every instruction of a program).
  std::array<const InsnSpec*, 256> only{};
  std::array<int, kNumOps> by_op{};
};

void add(Table& t, Op o, uint8_t opcode, Match m, int32_t mv, Kind k, uint8_t cpu, uint8_t zero,
         uint8_t width, bool uses_src, const char* name, const char* group) {
  t.specs.push_back(InsnSpec{o, opcode, m, mv, k, cpu, zero, width, uses_src, name, group});
}

Op op_at(Op base, int delta) { return static_cast<Op>(static_cast<int>(base) + delta); }

void add_alu(Table& t, bool is64) {
  const uint8_t cls = is64 ? ALU64 : ALU;
  const Op first = is64 ? Op::ADD64_IMM : Op::ADD32_IMM;
  const uint8_t width = is64 ? 64 : 32;
  const char* g = is64 ? "base64" : "base32";
  const char* gm = is64 ? "divmul64" : "divmul32";
  std::string sfx = is64 ? "" : "32";
  // Names are kept alive by the table's lifetime: intern them in a static pool.
  static std::vector<std::unique_ptr<std::string>> pool;
  auto name = [&](const char* base) {
    pool.push_back(std::make_unique<std::string>(std::string(base) + sfx));
    return pool.back()->c_str();
  };
  // Offsets of each op inside USERBPF_ALU_OPS (imm, reg pairs), see isa.h.
  struct Row { uint8_t code; int idx; const char* nm; int16_t off; const char* grp; uint8_t cpu; };
  const Row rows[] = {
      {ADD, 0, "add", 0, g, 1},   {SUB, 2, "sub", 0, g, 1},    {MUL, 4, "mul", 0, gm, 1},
      {DIV, 6, "div", 0, gm, 1},  {DIV, 8, "sdiv", 1, gm, 4},  {OR, 10, "or", 0, g, 1},
      {AND, 12, "and", 0, g, 1},  {LSH, 14, "lsh", 0, g, 1},   {RSH, 16, "rsh", 0, g, 1},
      {MOD, 19, "mod", 0, gm, 1}, {MOD, 21, "smod", 1, gm, 4}, {XOR, 23, "xor", 0, g, 1},
      {MOV, 25, "mov", 0, g, 1},  {ARSH, 29, "arsh", 0, g, 1},
  };
  for (const Row& r : rows) {
    const Match m = r.off ? Match::Off : (r.code == DIV || r.code == MOD || r.code == MOV ? Match::Off : Match::None);
    add(t, op_at(first, r.idx), cls | r.code | K, m, r.off, Kind::Alu, r.cpu, kZeroSrc | (m == Match::None ? kZeroOff : 0),
        width, false, name(r.nm), r.grp);
    add(t, op_at(first, r.idx + 1), cls | r.code | X, m, r.off, Kind::Alu, r.cpu, kZeroImm | (m == Match::None ? kZeroOff : 0),
        width, true, name(r.nm), r.grp);
  }
  add(t, op_at(first, 18), cls | NEG, Match::None, 0, Kind::Alu, 1, kZeroSrc | kZeroOff | kZeroImm, width, false,
      name("neg"), g);
  add(t, op_at(first, 27), cls | MOV | X, Match::Off, 8, Kind::Alu, 4, kZeroImm, width, true, name("movsx8"), g);
  add(t, op_at(first, 28), cls | MOV | X, Match::Off, 16, Kind::Alu, 4, kZeroImm, width, true, name("movsx16"), g);
  if (is64)
    add(t, Op::MOVSX32_64, cls | MOV | X, Match::Off, 32, Kind::Alu, 4, kZeroImm, width, true, "movsx32", g);
}

void add_jumps(Table& t, bool is64) {
  const uint8_t cls = is64 ? JMP : JMP32;
  const Op first = is64 ? Op::JEQ64_IMM : Op::JEQ32_IMM;
  const char* g = is64 ? "base64" : "base32";
  struct Row { uint8_t code; const char* nm; const char* nm32; uint8_t cpu; };
  const Row rows[] = {
      {JEQ, "jeq", "jeq32", 1},     {JGT, "jgt", "jgt32", 1},     {JGE, "jge", "jge32", 1},
      {JSET, "jset", "jset32", 1},  {JNE, "jne", "jne32", 1},     {JSGT, "jsgt", "jsgt32", 1},
      {JSGE, "jsge", "jsge32", 1},  {JLT, "jlt", "jlt32", 2},     {JLE, "jle", "jle32", 2},
      {JSLT, "jslt", "jslt32", 2},  {JSLE, "jsle", "jsle32", 2},
  };
  int i = 0;
  for (const Row& r : rows) {
    const uint8_t cpu = is64 ? r.cpu : 3;
    const char* nm = is64 ? r.nm : r.nm32;
    add(t, op_at(first, i), cls | r.code | K, Match::None, 0, Kind::Jump, cpu, kZeroSrc, is64 ? 64 : 32, false, nm, g);
    add(t, op_at(first, i + 1), cls | r.code | X, Match::None, 0, Kind::Jump, cpu, kZeroImm, is64 ? 64 : 32, true, nm, g);
    i += 2;
  }
}

Table build() {
  Table t;
  add_alu(t, true);
  add_alu(t, false);
  // Byte swaps: ALU|END|K = to little endian, ALU|END|X = to big endian, ALU64|END|K = bswap.
  struct E { Op o; uint8_t code; int32_t imm; const char* nm; uint8_t cpu; };
  const E ends[] = {
      {Op::LE16, ALU | END | K, 16, "le16", 1},        {Op::LE32, ALU | END | K, 32, "le32", 1},
      {Op::LE64, ALU | END | K, 64, "le64", 1},        {Op::BE16, ALU | END | X, 16, "be16", 1},
      {Op::BE32, ALU | END | X, 32, "be32", 1},        {Op::BE64, ALU | END | X, 64, "be64", 1},
      {Op::BSWAP16, ALU64 | END | K, 16, "bswap16", 4}, {Op::BSWAP32, ALU64 | END | K, 32, "bswap32", 4},
      {Op::BSWAP64, ALU64 | END | K, 64, "bswap64", 4},
  };
  for (const E& e : ends)
    add(t, e.o, e.code, Match::Imm, e.imm, Kind::Endian, e.cpu, kZeroSrc | kZeroOff, static_cast<uint8_t>(e.imm),
        false, e.nm, "base32");

  add(t, Op::JA, JMP | JA, Match::None, 0, Kind::Jump, 1, kZeroDst | kZeroSrc | kZeroImm, 64, false, "ja", "base32");
  add(t, Op::JA32, JMP32 | JA, Match::None, 0, Kind::Jump, 4, kZeroDst | kZeroSrc | kZeroOff, 32, false, "ja32", "base32");
  add_jumps(t, true);
  add_jumps(t, false);
  add(t, Op::CALL_HELPER, JMP | CALL, Match::Src, pseudo::CALL_HELPER, Kind::Call, 1, kZeroDst | kZeroOff, 64, false,
      "call", "base32");
  add(t, Op::CALL_LOCAL, JMP | CALL, Match::Src, pseudo::CALL_LOCAL, Kind::Call, 1, kZeroDst | kZeroOff, 64, false,
      "call", "base32");
  add(t, Op::CALL_KFUNC, JMP | CALL, Match::Src, pseudo::CALL_KFUNC, Kind::Call, 1, kZeroDst, 64, false, "call",
      "base32");
  // callx: target register in dst (RFC style) or in imm (LLVM's encoding).
  add(t, Op::CALLX, JMP | CALL | X, Match::None, 0, Kind::Call, 4, kZeroSrc | kZeroOff, 64, false, "callx", "callx");
  add(t, Op::EXIT, JMP | EXIT, Match::None, 0, Kind::Exit, 1, kZeroDst | kZeroSrc | kZeroOff | kZeroImm, 64, false,
      "exit", "base32");

  add(t, Op::LDDW, LD | IMM | DW, Match::None, 0, Kind::LoadImm64, 1, kZeroOff, 64, false, "lddw", "base64");
  struct L { Op o; uint8_t code; uint8_t bytes; const char* nm; };
  const L legacy[] = {
      {Op::LDABSB, LD | ABS | B, 1, "ldabsb"}, {Op::LDABSH, LD | ABS | H, 2, "ldabsh"},
      {Op::LDABSW, LD | ABS | W, 4, "ldabsw"}, {Op::LDINDB, LD | IND | B, 1, "ldindb"},
      {Op::LDINDH, LD | IND | H, 2, "ldindh"}, {Op::LDINDW, LD | IND | W, 4, "ldindw"},
  };
  for (const L& l : legacy) {
    const bool ind = op::mode(l.code) == IND;
    add(t, l.o, l.code, Match::None, 0, Kind::LegacyLoad, 1, kZeroDst | kZeroOff | (ind ? 0 : kZeroSrc), l.bytes, ind,
        l.nm, "packet");
  }
  const L loads[] = {
      {Op::LDXB, LDX | MEM | B, 1, "ldxb"},     {Op::LDXH, LDX | MEM | H, 2, "ldxh"},
      {Op::LDXW, LDX | MEM | W, 4, "ldxw"},     {Op::LDXDW, LDX | MEM | DW, 8, "ldxdw"},
      {Op::LDXSB, LDX | MEMSX | B, 1, "ldxsb"}, {Op::LDXSH, LDX | MEMSX | H, 2, "ldxsh"},
      {Op::LDXSW, LDX | MEMSX | W, 4, "ldxsw"},
  };
  for (const L& l : loads)
    add(t, l.o, l.code, Match::None, 0, Kind::Load, op::mode(l.code) == MEMSX ? 4 : 1, kZeroImm, l.bytes, true, l.nm,
        l.bytes == 8 ? "base64" : "base32");
  const L stores[] = {
      {Op::STB, ST | MEM | B, 1, "stb"},    {Op::STH, ST | MEM | H, 2, "sth"},
      {Op::STW, ST | MEM | W, 4, "stw"},    {Op::STDW, ST | MEM | DW, 8, "stdw"},
  };
  for (const L& l : stores)
    add(t, l.o, l.code, Match::None, 0, Kind::Store, 1, kZeroSrc, l.bytes, false, l.nm, l.bytes == 8 ? "base64" : "base32");
  const L stx[] = {
      {Op::STXB, STX | MEM | B, 1, "stxb"},  {Op::STXH, STX | MEM | H, 2, "stxh"},
      {Op::STXW, STX | MEM | W, 4, "stxw"},  {Op::STXDW, STX | MEM | DW, 8, "stxdw"},
  };
  for (const L& l : stx)
    add(t, l.o, l.code, Match::None, 0, Kind::StoreReg, 1, kZeroImm, l.bytes, true, l.nm, l.bytes == 8 ? "base64" : "base32");

  struct A { int delta; int32_t imm; const char* nm; uint8_t cpu; };
  const A atomics[] = {
      {0, ADD, "add", 1},              {1, OR, "or", 3},                {2, AND, "and", 3},
      {3, XOR, "xor", 3},              {4, ADD | FETCH, "fetch add", 3}, {5, OR | FETCH, "fetch or", 3},
      {6, AND | FETCH, "fetch and", 3}, {7, XOR | FETCH, "fetch xor", 3}, {8, XCHG, "xchg", 3},
      {9, CMPXCHG, "cmpxchg", 3},
  };
  static std::vector<std::unique_ptr<std::string>> pool;
  for (int is64 = 0; is64 < 2; ++is64) {
    for (const A& a : atomics) {
      pool.push_back(std::make_unique<std::string>(std::string("lock ") + a.nm + (is64 ? "" : "32")));
      add(t, op_at(is64 ? Op::ATOMIC_ADD64 : Op::ATOMIC_ADD32, a.delta), STX | ATOMIC | (is64 ? DW : W), Match::Imm,
          a.imm, Kind::Atomic, a.cpu, 0, is64 ? 8 : 4, true, pool.back()->c_str(), is64 ? "atomic64" : "atomic32");
    }
  }

  for (size_t i = 0; i < t.specs.size(); ++i) {
    t.by_opcode[t.specs[i].opcode].push_back(static_cast<uint16_t>(i));
    t.by_op[static_cast<size_t>(t.specs[i].op)] = static_cast<int>(i);
  }
  for (size_t c = 0; c < 256; ++c)
    if (t.by_opcode[c].size() == 1 && t.specs[t.by_opcode[c][0]].match == Match::None)
      t.only[c] = &t.specs[t.by_opcode[c][0]];
  return t;
}

// Inlined: lookup() runs once per instruction of every program built.
[[gnu::always_inline]] inline const Table& table() {
  static const Table t = build();
  return t;
}

const char* const kOpNames[] = {
#define USERBPF_X(name) #name,
    USERBPF_OPS(USERBPF_X)
#undef USERBPF_X
};

}  // namespace

const char* op_name(Op o) {
  return static_cast<size_t>(o) < kNumOps ? kOpNames[static_cast<size_t>(o)] : "INVALID";
}

std::span<const InsnSpec> all_specs() { return table().specs; }

const InsnSpec& spec(Op o) { return table().specs[table().by_op[static_cast<size_t>(o)]]; }

const InsnSpec* lookup(const Insn& insn) {
  const Table& t = table();
  if (const InsnSpec* s = t.only[insn.opcode]) return s;
  for (uint16_t idx : t.by_opcode[insn.opcode]) {
    const InsnSpec& s = t.specs[idx];
    switch (s.match) {
      case Match::None: return &s;
      case Match::Off:
        if (insn.off == s.match_value) return &s;
        break;
      case Match::Imm:
        if (insn.imm == s.match_value) return &s;
        break;
      case Match::Src:
        if (insn.src == s.match_value) return &s;
        break;
    }
  }
  return nullptr;
}

}  // namespace userbpf::isa
