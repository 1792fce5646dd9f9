// Direct x86-64 encodings of the few instruction forms that make up most of a
// compiled program (register and immediate ALU ops, moves, loads and stores at
// base + displacement, compares).  xbyak's generic operand path costs several
// times more per instruction; these write the bytes straight into the buffer.
// Each function writes at `p` and returns the new end.  Register numbers are
// x86 numbers (0 = rax ... 15 = r15).  tests/unit/jit_encode_test.cpp checks
// every form against xbyak's encoding.
#pragma once

#include <cstdint>
#include <cstring>

namespace userbpf::jit::x86 {

// A REX prefix when one is needed (64-bit operand, r8-r15, or a byte register
// among spl/bpl/sil/dil when `byte_reg`).
inline uint8_t* rex(uint8_t* p, bool w, int reg, int base, bool byte_reg = false) {
  const uint8_t r = static_cast<uint8_t>(0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((base >> 3) & 1));
  if (r != 0x40 || (byte_reg && reg >= 4 && reg < 8)) *p++ = r;
  return p;
}

inline uint8_t* imm32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
  return p + 4;
}

inline bool fits8(int64_t v) { return v >= -128 && v <= 127; }

// ModRM (+ SIB, + displacement) for [base + disp].
inline uint8_t* mem(uint8_t* p, int reg, int base, int32_t disp) {
  const int b = base & 7;
  const uint8_t r = static_cast<uint8_t>((reg & 7) << 3);
  if (disp == 0 && b != 5) {
    *p++ = static_cast<uint8_t>(r | b);
    if (b == 4) *p++ = 0x24;
  } else if (fits8(disp)) {
    *p++ = static_cast<uint8_t>(0x40 | r | b);
    if (b == 4) *p++ = 0x24;
    *p++ = static_cast<uint8_t>(disp);
  } else {
    *p++ = static_cast<uint8_t>(0x80 | r | b);
    if (b == 4) *p++ = 0x24;
    p = imm32(p, static_cast<uint32_t>(disp));
  }
  return p;
}

// Opcodes of `op r/m, reg` (MR form) and the /ext of the 81/83 immediate group.
enum : uint8_t { kAdd = 0x01, kOr = 0x09, kAnd = 0x21, kSub = 0x29, kXor = 0x31, kCmp = 0x39, kMov = 0x89, kTest = 0x85 };
enum : uint8_t { kExtAdd = 0, kExtOr = 1, kExtAnd = 4, kExtSub = 5, kExtXor = 6, kExtCmp = 7 };

// op rm, reg (both registers).
inline uint8_t* op_rr(uint8_t* p, uint8_t opcode, int rm, int reg, bool w) {
  p = rex(p, w, reg, rm);
  *p++ = opcode;
  *p++ = static_cast<uint8_t>(0xC0 | (reg & 7) << 3 | (rm & 7));
  return p;
}

// op rm, imm (81 /ext id, or 83 /ext ib when it fits).
inline uint8_t* op_ri(uint8_t* p, uint8_t ext, int rm, int32_t imm, bool w) {
  p = rex(p, w, 0, rm);
  if (fits8(imm)) {
    *p++ = 0x83;
    *p++ = static_cast<uint8_t>(0xC0 | ext << 3 | (rm & 7));
    *p++ = static_cast<uint8_t>(imm);
  } else {
    *p++ = 0x81;
    *p++ = static_cast<uint8_t>(0xC0 | ext << 3 | (rm & 7));
    p = imm32(p, static_cast<uint32_t>(imm));
  }
  return p;
}

// test rm, imm32 (F7 /0).
inline uint8_t* test_ri(uint8_t* p, int rm, uint32_t imm, bool w) {
  p = rex(p, w, 0, rm);
  *p++ = 0xF7;
  *p++ = static_cast<uint8_t>(0xC0 | (rm & 7));
  return imm32(p, imm);
}

// 64-bit register = v: xor for 0, mov r32 for values that zero-extend, the
// sign-extended imm32 form, else movabs.
inline uint8_t* mov_ri(uint8_t* p, int r, uint64_t v) {
  if (v == 0) return op_rr(p, kXor, r, r, false);
  if (v <= 0xffffffffull) {
    p = rex(p, false, 0, r);
    *p++ = static_cast<uint8_t>(0xB8 | (r & 7));
    return imm32(p, static_cast<uint32_t>(v));
  }
  if (static_cast<int64_t>(v) == static_cast<int32_t>(v)) {
    p = rex(p, true, 0, r);
    *p++ = 0xC7;
    *p++ = static_cast<uint8_t>(0xC0 | (r & 7));
    return imm32(p, static_cast<uint32_t>(v));
  }
  p = rex(p, true, 0, r);
  *p++ = static_cast<uint8_t>(0xB8 | (r & 7));
  std::memcpy(p, &v, 8);
  return p + 8;
}

// shl/shr/sar rm, n (C1 /ext ib; ext 4, 5, 7), n != 0.
inline uint8_t* shift_ri(uint8_t* p, uint8_t ext, int rm, uint8_t n, bool w) {
  p = rex(p, w, 0, rm);
  if (n == 1) {
    *p++ = 0xD1;
    *p++ = static_cast<uint8_t>(0xC0 | ext << 3 | (rm & 7));
    return p;
  }
  *p++ = 0xC1;
  *p++ = static_cast<uint8_t>(0xC0 | ext << 3 | (rm & 7));
  *p++ = n;
  return p;
}

// imul reg, rm (0F AF) and imul reg, rm, imm (6B ib / 69 id).
inline uint8_t* imul_rr(uint8_t* p, int reg, int rm, bool w) {
  p = rex(p, w, reg, rm);
  *p++ = 0x0F;
  *p++ = 0xAF;
  *p++ = static_cast<uint8_t>(0xC0 | (reg & 7) << 3 | (rm & 7));
  return p;
}
inline uint8_t* imul_rri(uint8_t* p, int reg, int rm, int32_t imm, bool w) {
  p = rex(p, w, reg, rm);
  *p++ = fits8(imm) ? 0x6B : 0x69;
  *p++ = static_cast<uint8_t>(0xC0 | (reg & 7) << 3 | (rm & 7));
  if (fits8(imm)) *p++ = static_cast<uint8_t>(imm);
  else p = imm32(p, static_cast<uint32_t>(imm));
  return p;
}

// Loads into `reg` from [base + disp]: size 1/2 zero-extend (movzx), 4 is a
// 32-bit mov (zero-extends), 8 a 64-bit mov; `sign`: movsx / movsxd to 64 bits.
inline uint8_t* load(uint8_t* p, int reg, int base, int32_t disp, int size, bool sign) {
  const bool w = sign || size == 8;
  p = rex(p, w, reg, base);
  if (size == 1 || size == 2) {
    *p++ = 0x0F;
    *p++ = static_cast<uint8_t>((sign ? 0xBE : 0xB6) | (size == 2 ? 1 : 0));
  } else if (size == 4 && sign) {
    *p++ = 0x63;
  } else {
    *p++ = 0x8B;
  }
  return mem(p, reg, base, disp);
}

// mov [base + disp], reg (size bytes of it).
inline uint8_t* store(uint8_t* p, int reg, int base, int32_t disp, int size) {
  if (size == 2) *p++ = 0x66;
  p = rex(p, size == 8, reg, base, size == 1);
  *p++ = size == 1 ? 0x88 : 0x89;
  return mem(p, reg, base, disp);
}

// mov [base + disp], imm (size bytes; the 8-byte form sign-extends imm32).
inline uint8_t* store_imm(uint8_t* p, int base, int32_t disp, int size, int32_t imm) {
  if (size == 2) *p++ = 0x66;
  p = rex(p, size == 8, 0, base);
  *p++ = size == 1 ? 0xC6 : 0xC7;
  p = mem(p, 0, base, disp);
  if (size == 1) {
    *p++ = static_cast<uint8_t>(imm);
  } else if (size == 2) {
    const uint16_t v = static_cast<uint16_t>(imm);
    std::memcpy(p, &v, 2);
    p += 2;
  } else {
    p = imm32(p, static_cast<uint32_t>(imm));
  }
  return p;
}

// lea reg, [base + disp] (64-bit).
inline uint8_t* lea(uint8_t* p, int reg, int base, int32_t disp) {
  p = rex(p, true, reg, base);
  *p++ = 0x8D;
  return mem(p, reg, base, disp);
}

// op reg, qword [base + disp] for the register-memory (RM) forms: 8B mov, 3B cmp.
inline uint8_t* op_rm64(uint8_t* p, uint8_t opcode, int reg, int base, int32_t disp) {
  p = rex(p, true, reg, base);
  *p++ = opcode;
  return mem(p, reg, base, disp);
}

// add qword [base + disp], imm (83 /0 ib or 81 /0 id).
inline uint8_t* add_mi64(uint8_t* p, int base, int32_t disp, int32_t imm) {
  p = rex(p, true, 0, base);
  *p++ = fits8(imm) ? 0x83 : 0x81;
  p = mem(p, 0, base, disp);
  if (fits8(imm)) *p++ = static_cast<uint8_t>(imm);
  else p = imm32(p, static_cast<uint32_t>(imm));
  return p;
}

// n bytes of padding as the fewest instructions: the recommended multi-byte
// NOP forms (0F 1F /0 with growing addressing, 66-prefixed), up to 9 each.
inline uint8_t* nops(uint8_t* p, size_t n) {
  static constexpr uint8_t kForms[9][9] = {
      {0x90},
      {0x66, 0x90},
      {0x0F, 0x1F, 0x00},
      {0x0F, 0x1F, 0x40, 0x00},
      {0x0F, 0x1F, 0x44, 0x00, 0x00},
      {0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00},
      {0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00},
      {0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
      {0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
  };
  while (n > 0) {
    const size_t k = n < 9 ? n : 9;
    for (size_t i = 0; i < k; ++i) *p++ = kForms[k - 1][i];
    n -= k;
  }
  return p;
}

}  // namespace userbpf::jit::x86
