// The JIT's direct x86-64 encoders (src/jit/x86_encode.h) against xbyak: for
// every register and a spread of immediates and displacements, both encode
// the same instruction (compared as Zydis disassembly, since xbyak sometimes
// picks an equivalent shorter form, e.g. for rax).
#include <gtest/gtest.h>

#include <xbyak/xbyak.h>

#include <functional>
#include <string>
#include <vector>

#include "jit/x86_encode.h"
#include "userbpf/jit.h"

namespace userbpf::jit {
namespace {

std::string text(const uint8_t* code, size_t n) {
  std::string s;
  for (const auto& i : disassemble_native(std::span<const uint8_t>(code, n), 0)) s += i.text + "; ";
  return s;
}

// Compares one encoding of ours with xbyak's.
void same(const std::function<uint8_t*(uint8_t*)>& ours, const std::function<void(Xbyak::CodeGenerator&)>& theirs,
          const std::string& what) {
  uint8_t buf[64];
  const size_t n = static_cast<size_t>(ours(buf) - buf);
  Xbyak::CodeGenerator g(4096);
  theirs(g);
  EXPECT_EQ(text(buf, n), text(g.getCode(), g.getSize())) << what;
}

const int32_t kImms[] = {0, 1, -1, 127, 128, -128, -129, 0x7fffffff, INT32_MIN, 0x12345};
const int32_t kDisps[] = {0, 1, -8, 127, 128, -128, -129, -512, 4096, -0x7fff};

Xbyak::Reg64 r64(int i) { return Xbyak::Reg64(i); }
Xbyak::Reg reg(int i, bool w) { return w ? Xbyak::Reg(Xbyak::Reg64(i)) : Xbyak::Reg(Xbyak::Reg32(i)); }

TEST(JitEncode, RegisterAndImmediateForms) {
  struct Bin {
    uint8_t opc, ext;
    const char* name;
  };
  const Bin bins[] = {{x86::kAdd, x86::kExtAdd, "add"}, {x86::kSub, x86::kExtSub, "sub"}, {x86::kOr, x86::kExtOr, "or"},
                      {x86::kAnd, x86::kExtAnd, "and"}, {x86::kXor, x86::kExtXor, "xor"}, {x86::kCmp, x86::kExtCmp, "cmp"}};
  for (int a = 0; a < 16; ++a) {
    if (a == 4) continue;  // rsp is never an operand
    for (bool w : {false, true}) {
      const std::string at = " r" + std::to_string(a) + (w ? " 64" : " 32");
      for (int b = 0; b < 16; ++b) {
        if (b == 4) continue;
        for (const Bin& k : bins)
          same([&](uint8_t* p) { return x86::op_rr(p, k.opc, a, b, w); },
               [&](Xbyak::CodeGenerator& g) {
                 const auto x = reg(a, w), y = reg(b, w);
                 if (k.opc == x86::kAdd) g.add(x, y);
                 else if (k.opc == x86::kSub) g.sub(x, y);
                 else if (k.opc == x86::kOr) g.or_(x, y);
                 else if (k.opc == x86::kAnd) g.and_(x, y);
                 else if (k.opc == x86::kXor) g.xor_(x, y);
                 else g.cmp(x, y);
               },
               std::string(k.name) + at);
        same([&](uint8_t* p) { return x86::op_rr(p, x86::kMov, a, b, w); },
             [&](Xbyak::CodeGenerator& g) { g.mov(reg(a, w), reg(b, w)); }, "mov" + at);
        same([&](uint8_t* p) { return x86::op_rr(p, x86::kTest, a, b, w); },
             [&](Xbyak::CodeGenerator& g) { g.test(reg(a, w), reg(b, w)); }, "test" + at);
        same([&](uint8_t* p) { return x86::imul_rr(p, a, b, w); },
             [&](Xbyak::CodeGenerator& g) { g.imul(reg(a, w), reg(b, w)); }, "imul" + at);
      }
      for (int32_t imm : kImms) {
        for (const Bin& k : bins)
          same([&](uint8_t* p) { return x86::op_ri(p, k.ext, a, imm, w); },
               [&](Xbyak::CodeGenerator& g) {
                 const auto x = reg(a, w);
                 const uint32_t u = static_cast<uint32_t>(imm);
                 if (k.opc == x86::kAdd) g.add(x, u);
                 else if (k.opc == x86::kSub) g.sub(x, u);
                 else if (k.opc == x86::kOr) g.or_(x, u);
                 else if (k.opc == x86::kAnd) g.and_(x, u);
                 else if (k.opc == x86::kXor) g.xor_(x, u);
                 else g.cmp(x, u);
               },
               std::string(k.name) + " imm " + std::to_string(imm) + at);
        same([&](uint8_t* p) { return x86::test_ri(p, a, static_cast<uint32_t>(imm), w); },
             [&](Xbyak::CodeGenerator& g) { g.test(reg(a, w), static_cast<uint32_t>(imm)); }, "test imm" + at);
        same([&](uint8_t* p) { return x86::imul_rri(p, a, a, imm, w); },
             [&](Xbyak::CodeGenerator& g) { g.imul(reg(a, w), reg(a, w), imm); }, "imul imm" + at);
      }
      for (uint8_t n : {1, 2, 31, 63}) {
        if (!w && n > 31) continue;
        for (uint8_t ext : {4, 5, 7})
          same([&](uint8_t* p) { return x86::shift_ri(p, ext, a, n, w); },
               [&](Xbyak::CodeGenerator& g) {
                 if (ext == 4) g.shl(reg(a, w), n);
                 else if (ext == 5) g.shr(reg(a, w), n);
                 else g.sar(reg(a, w), n);
               },
               "shift" + at);
      }
    }
    for (uint64_t v : {0ull, 1ull, 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull, ~0ull,
                       0xffffffff80000000ull, 0x123456789abcdef0ull}) {
      same([&](uint8_t* p) { return x86::mov_ri(p, a, v); },
           [&](Xbyak::CodeGenerator& g) {
             if (v == 0) g.xor_(Xbyak::Reg32(a), Xbyak::Reg32(a));
             else g.mov(r64(a), v);
           },
           "mov imm r" + std::to_string(a));
    }
  }
}

TEST(JitEncode, MemoryForms) {
  for (int base = 0; base < 16; ++base) {
    if (base == 4) continue;
    for (int32_t disp : kDisps) {
      const std::string at = " [r" + std::to_string(base) + " + " + std::to_string(disp) + "]";
      const auto addr = r64(base) + disp;
      for (int r = 0; r < 16; ++r) {
        if (r == 4) continue;
        same([&](uint8_t* p) { return x86::load(p, r, base, disp, 1, false); },
             [&](Xbyak::CodeGenerator& g) { g.movzx(Xbyak::Reg32(r), g.byte[addr]); }, "ldxb" + at);
        same([&](uint8_t* p) { return x86::load(p, r, base, disp, 2, false); },
             [&](Xbyak::CodeGenerator& g) { g.movzx(Xbyak::Reg32(r), g.word[addr]); }, "ldxh" + at);
        same([&](uint8_t* p) { return x86::load(p, r, base, disp, 4, false); },
             [&](Xbyak::CodeGenerator& g) { g.mov(Xbyak::Reg32(r), g.dword[addr]); }, "ldxw" + at);
        same([&](uint8_t* p) { return x86::load(p, r, base, disp, 8, false); },
             [&](Xbyak::CodeGenerator& g) { g.mov(r64(r), g.qword[addr]); }, "ldxdw" + at);
        same([&](uint8_t* p) { return x86::load(p, r, base, disp, 1, true); },
             [&](Xbyak::CodeGenerator& g) { g.movsx(r64(r), g.byte[addr]); }, "ldxsb" + at);
        same([&](uint8_t* p) { return x86::load(p, r, base, disp, 2, true); },
             [&](Xbyak::CodeGenerator& g) { g.movsx(r64(r), g.word[addr]); }, "ldxsh" + at);
        same([&](uint8_t* p) { return x86::load(p, r, base, disp, 4, true); },
             [&](Xbyak::CodeGenerator& g) { g.movsxd(r64(r), g.dword[addr]); }, "ldxsw" + at);
        same([&](uint8_t* p) { return x86::store(p, r, base, disp, 1); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.byte[addr], r64(r).cvt8()); }, "stxb r" + std::to_string(r) + at);
        same([&](uint8_t* p) { return x86::store(p, r, base, disp, 2); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.word[addr], r64(r).cvt16()); }, "stxh" + at);
        same([&](uint8_t* p) { return x86::store(p, r, base, disp, 4); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.dword[addr], Xbyak::Reg32(r)); }, "stxw" + at);
        same([&](uint8_t* p) { return x86::store(p, r, base, disp, 8); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.qword[addr], r64(r)); }, "stxdw" + at);
        same([&](uint8_t* p) { return x86::lea(p, r, base, disp); },
             [&](Xbyak::CodeGenerator& g) { g.lea(r64(r), g.ptr[addr]); }, "lea" + at);
        same([&](uint8_t* p) { return x86::op_rm64(p, 0x8B, r, base, disp); },
             [&](Xbyak::CodeGenerator& g) { g.mov(r64(r), g.qword[addr]); }, "mov rm" + at);
        same([&](uint8_t* p) { return x86::op_rm64(p, 0x3B, r, base, disp); },
             [&](Xbyak::CodeGenerator& g) { g.cmp(r64(r), g.qword[addr]); }, "cmp rm" + at);
      }
      for (int32_t imm : kImms) {
        same([&](uint8_t* p) { return x86::store_imm(p, base, disp, 1, imm); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.byte[addr], static_cast<uint8_t>(imm)); }, "stb" + at);
        same([&](uint8_t* p) { return x86::store_imm(p, base, disp, 2, imm); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.word[addr], static_cast<uint16_t>(imm)); }, "sth" + at);
        same([&](uint8_t* p) { return x86::store_imm(p, base, disp, 4, imm); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.dword[addr], static_cast<uint32_t>(imm)); }, "stw" + at);
        same([&](uint8_t* p) { return x86::store_imm(p, base, disp, 8, imm); },
             [&](Xbyak::CodeGenerator& g) { g.mov(g.qword[addr], static_cast<uint64_t>(static_cast<int64_t>(imm))); },
             "stdw" + at);
        same([&](uint8_t* p) { return x86::add_mi64(p, base, disp, imm); },
             [&](Xbyak::CodeGenerator& g) { g.add(g.qword[addr], static_cast<uint32_t>(imm)); }, "add mi" + at);
      }
    }
  }
}

// r12 as a base needs a SIB byte (the JIT addresses the ExecContext through it).
TEST(JitEncode, R12Base) {
  same([](uint8_t* p) { return x86::op_rm64(p, 0x8B, 11, 12, 0x68); },
       [](Xbyak::CodeGenerator& g) { g.mov(g.r11, g.qword[g.r12 + 0x68]); }, "mov r11, [r12+0x68]");
  same([](uint8_t* p) { return x86::add_mi64(p, 12, 0xd0, 7); },
       [](Xbyak::CodeGenerator& g) { g.add(g.qword[g.r12 + 0xd0], 7); }, "add [r12+0xd0], 7");
}

}  // namespace
}  // namespace userbpf::jit
