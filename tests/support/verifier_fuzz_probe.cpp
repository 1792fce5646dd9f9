// Soundness generator, probes: accesses whose safety rests on the verifier's
// own arithmetic, branch refinement, scalar links and spill tracking, with no
// bounds check of the generator's making in between.
#include "support/verifier_fuzz_gen_internal.h"

namespace userbpf::testing::soundgen {

// ---- probes ----
void Gen::probe_block() {
  const int x = free_reg();
  if (x < 0) return;
  const auto h = hold(bit(x));
  // A source the verifier can bound: a masked unknown, a narrow load, a constant.
  switch (c_.below(5)) {
    case 0:
    case 1:
      if (packet_load_into(x)) break;
      [[fallthrough]];
    case 2:
      scalar_source(x);
      if (reg(x).kind != RK::Scalar) return;
      emit((c_.chance(70) ? op::ALU64 : op::ALU) | op::AND | op::K, x, 0, 0, static_cast<int32_t>((2u << c_.below(9)) - 1));
      break;
    case 3: {
      const int y = pick(RK::Scalar);
      if (y < 0 || y == x) return;
      mov(x, y);
      emit(op::ALU64 | op::AND | op::K, x, 0, 0, static_cast<int32_t>((2u << c_.below(9)) - 1));
      break;
    }
    default: {
      const int y = pick(RK::Scalar);
      if (y < 0 || y == x) return;
      // x in [lo, hi] by two branches, both of which skip the probe.
      static constexpr uint8_t kLo[] = {op::JLT, op::JSLT, op::JLE, op::JSLE};
      static constexpr uint8_t kHi[] = {op::JGT, op::JSGT, op::JGE, op::JSGE};
      const int skip = label();
      mov(x, y);
      if (c_.chance(25)) {
        // Bits in the upper half, which 32-bit compares do not see.
        const int t = free_reg(bit(x) | bit(y));
        if (t >= 0) {
          lddw(t, static_cast<uint64_t>(1 + c_.below(3)) << (32 + c_.below(31)));
          reg(t) = scalar();
          emit(op::ALU64 | (c_.chance(50) ? op::ADD : op::OR) | op::X, x, t);
        }
      }
      const bool w = c_.chance(30);
      jump((w ? op::JMP32 : op::JMP) | kLo[c_.below(4)] | op::K, x, 0, static_cast<int32_t>(c_.below(40)) - 8, skip);
      jump((c_.chance(70) ? op::JMP : op::JMP32) | kHi[c_.below(4)] | op::K, x, 0, static_cast<int32_t>(c_.below(300)), skip);
      const Model at_skip = m_;
      reg(x) = scalar(300);
      probe_ops(x);
      indexed_access(x, 64);
      bind(skip);
      m_ = join(at_skip, m_);
      return;
    }
  }
  reg(x) = scalar(512);
  probe_ops(x);
  indexed_access(x, 64);
}

void Gen::probe_ops(int x) {
  static constexpr uint8_t kOps[] = {op::ADD, op::SUB, op::MUL, op::DIV, op::MOD, op::OR,  op::AND, op::XOR,
                                     op::LSH, op::RSH, op::ARSH, op::NEG, op::MOV, op::END, op::SUB, op::ADD};
  for (int n = 1 + static_cast<int>(c_.below(4)); n > 0; --n) {
    const uint8_t code = kOps[c_.below(sizeof kOps)];
    const bool is64 = c_.chance(60);
    const uint8_t cls = is64 ? op::ALU64 : op::ALU;
    const int32_t width = is64 ? 64 : 32;
    if (code == op::NEG) {
      emit(cls | op::NEG, x);
    } else if (code == op::END) {
      static constexpr int32_t kW[] = {16, 32, 64};
      const uint32_t form = c_.below(3);
      emit(form == 2 ? op::ALU64 | op::END | op::K : op::ALU | op::END | (form ? op::X : op::K), x, 0, 0, kW[c_.below(3)]);
    } else if (code == op::MOV) {
      // movsx, or w = w (zero-extension)
      const int32_t off = c_.chance(80) ? 8 << c_.below(is64 ? 3 : 2) : 0;
      emit(cls | op::MOV | op::X, x, x, off);
    } else if (c_.chance(25)) {
      const int y = pick(RK::Scalar);
      if (y < 0 || y == x || reg(y).umax > 4096) continue;
      const int32_t off = (code == op::DIV || code == op::MOD) && c_.chance(40) ? 1 : 0;
      emit(cls | code | op::X, x, y, off);
    } else {
      int32_t imm;
      if (code == op::LSH || code == op::RSH || code == op::ARSH) imm = static_cast<int32_t>(c_.below(static_cast<uint32_t>(width)));
      else if (c_.chance(70)) imm = static_cast<int32_t>(c_.below(20)) - 4;
      else imm = static_cast<int32_t>(c_.interesting());
      if ((code == op::DIV || code == op::MOD) && imm == 0) imm = 3;
      const int32_t off = (code == op::DIV || code == op::MOD) && c_.chance(40) ? 1 : 0;
      emit(cls | code | op::K, x, 0, off, imm);
    }
  }
  reg(x) = scalar(64);  // a guess; the verifier knows better
}

void Gen::indexed_access(int idx, int64_t hint) {
  const int size = 1 << c_.below(4);
  int base = -1;
  int64_t space = 0;
  const uint32_t where = c_.below(100);
  if (where < 60) {
    base = pick(RK::MapValue);
    if (base < 0 || c_.chance(30)) {
      base = free_reg(bit(idx));
      if (base < 0) return;
      ld_map_value(base, kSoundSingleMap, 0);
      reg(base) = Val{RK::MapValue, ~0ull, kSoundSingleMap, 0};
    }
    space = static_cast<int64_t>(vsize_[reg(base).map]) - reg(base).off;
  } else if (where < 85) {
    // fp - N: N a multiple of the size, the stack being strict about alignment.
    const int64_t n = 8 * (1 + c_.below(64));
    base = free_reg(bit(idx));
    if (base < 0) return;
    mov(base, 10);
    addi(base, static_cast<int32_t>(-n));
    reg(base) = Val{RK::Mixed};
    space = n;
  } else {
    // The packet, checked for `space` bytes past data + idx.
    if (!packets_usable()) return;
    const int p = free_reg(bit(idx) | bit(7) | bit(8));
    const int t = free_reg(bit(idx) | bit(7) | bit(8) | bit(p));
    if (p < 0 || t < 0) return;
    const int skip = label();
    space = 1 + c_.below(40);
    mov(p, 7);
    emit(op::ALU64 | op::ADD | op::X, p, idx);
    mov(t, p);
    addi(t, static_cast<int32_t>(space));
    const Model at_skip = m_;
    packet_check(t, space, skip);
    mem_access(p, edge_off(space, 0, size), size, bit(t), true);
    bind(skip);
    m_ = join(at_skip, m_);
    reg(p) = Val{RK::Mixed};
    reg(t) = Val{RK::Mixed};
    return;
  }
  const int p = free_reg(bit(idx) | bit(base));
  if (p < 0) return;
  // The stack is strict about alignment: scale the index by the size there.
  const bool stack = where >= 60;
  if (stack ? !slip(10) : c_.chance(25)) {
    // A scaled index: idx << s, in a copy.
    mov(p, idx);
    emit(op::ALU64 | op::LSH | op::K, p, 0, 0, static_cast<int32_t>(stack ? std::countr_zero(static_cast<unsigned>(size)) : c_.below(4)));
    emit(op::ALU64 | op::ADD | op::X, p, base);
  } else {
    mov(p, base);
    emit(op::ALU64 | op::ADD | op::X, p, idx);
  }
  reg(p) = Val{RK::Mixed};
  int32_t off = edge_off(space, c_.chance(50) ? hint : 0, size);
  if (stack) off &= -size;
  mem_access(p, off, size, bit(idx));
}

void Gen::partial_spill_block() {
  const int s = static_cast<int>(c_.below(6));
  const int32_t base = -8 * (s + 1);
  // Fill the slot with other bytes first (all ones, a pointer, a constant).
  const uint32_t fill = c_.below(4);
  if (fill == 0) emit(op::ST | op::MEM | op::DW, 10, 0, base, -1);
  else if (fill == 1) emit(op::STX | op::MEM | op::DW, 10, c_.chance(50) ? 10 : 7, base);
  else if (fill == 2) emit(op::ST | op::MEM | op::DW, 10, 0, base, static_cast<int32_t>(c_.interesting()));
  const int x = free_reg();
  if (x < 0) return;
  if (!packet_load_into(x)) {
    scalar_source(x);
    if (reg(x).kind != RK::Scalar) return;
  }
  emit(op::ALU64 | op::AND | op::K, x, 0, 0, static_cast<int32_t>((2u << c_.below(6)) - 1));
  const int wsize = 1 << c_.below(3);  // 1, 2, 4 bytes
  const int32_t wat = base + static_cast<int32_t>(c_.below(8 / static_cast<uint32_t>(wsize))) * wsize;
  emit(op::STX | op::MEM | size_code(wsize), 10, x, wat);
  const int y = free_reg(bit(x));
  if (y < 0) return;
  const int rsize = 1 << c_.below(4);
  int32_t rat = c_.chance(50) ? wat : base + static_cast<int32_t>(c_.below(8 / static_cast<uint32_t>(rsize))) * rsize;
  if (rat % rsize) rat = base;
  emit(op::LDX | (c_.chance(20) && rsize < 8 ? op::MEMSX : op::MEM) | size_code(rsize), y, 10, rat);
  m_.slot[static_cast<size_t>(s)] = scalar();
  reg(y) = scalar(64);
  indexed_access(y, 64);
}

int Gen::varying_scalar(uint32_t avoid) {
  const int y = free_reg(avoid);
  if (y < 0) return -1;
  if (c_.chance(60) && packet_load_into(y)) return y;
  if (calls_ok() && writable(0) && !(avoid & 1) && (y == 0 || !(avoid & 0x3e)) && c_.chance(60)) {
    call(BPF_FUNC_get_prandom_u32);
    if (y != 0) mov(y, 0);
  } else {
    scalar_source(y);
  }
  const uint32_t bits = 1 + c_.below(13);
  emit(op::ALU64 | op::AND | op::K, y, 0, 0, static_cast<int32_t>((1u << bits) - 1));
  reg(y) = scalar((1u << bits) - 1);
  return y;
}

// x = y (+ c); a bound on x; y as the index.  Copies of a scalar share what
// the verifier learns about either (the kernel links them, with the constant).
void Gen::link_probe_block() {
  const int y = varying_scalar(0);
  if (y < 0) return;
  const auto hy = hold(bit(y));
  const int x = free_reg(bit(y));
  if (x < 0) return;
  const auto hx = hold(bit(x));
  const bool w = c_.chance(20);
  emit((w ? op::ALU : op::ALU64) | op::MOV | op::X, x, y);
  if (c_.chance(60)) {
    const int32_t c = static_cast<int32_t>(c_.below(41)) - 20;
    emit((c_.chance(80) ? op::ALU64 : op::ALU) | op::ADD | op::K, x, 0, 0, c);
  }
  if (c_.chance(15)) addi(y, 1);  // the link is gone (or moves by one)
  static constexpr uint8_t kBounds[] = {op::JGT, op::JGT, op::JGE, op::JSGT, op::JSGE, op::JLT, op::JNE};
  const uint8_t cmp = kBounds[c_.below(sizeof kBounds)];
  const int32_t k = static_cast<int32_t>(c_.below(70));
  const int skip = label();
  jump((c_.chance(20) ? op::JMP32 : op::JMP) | cmp | op::K, x, 0, k, skip);
  const Model at_skip = m_;
  hint_value(static_cast<uint64_t>(k));
  indexed_access(y, k);
  bind(skip);
  m_ = join(at_skip, m_);
}

// A bound from another register: if x > y goto skip, y itself bounded.
void Gen::reg_bound_probe_block() {
  const int y = varying_scalar(0);
  if (y < 0) return;
  const auto hy = hold(bit(y));
  emit(op::ALU64 | op::AND | op::K, y, 0, 0, static_cast<int32_t>((2u << c_.below(7)) - 1));
  const int x = varying_scalar(bit(y));
  if (x < 0) return;
  const auto hx = hold(bit(x));
  if (c_.chance(30)) emit(op::ALU64 | op::OR | op::K, x, 0, 0, static_cast<int32_t>(c_.below(2) << 20));
  static constexpr uint8_t kCmp[][2] = {{op::JGT, 0}, {op::JGE, 0}, {op::JLT, 1}, {op::JLE, 1}, {op::JSGT, 0}, {op::JSLT, 1}};
  const auto& f = kCmp[c_.below(6)];
  const int skip = label();
  const uint8_t cls = c_.chance(20) ? op::JMP32 : op::JMP;
  if (f[1]) jump(cls | f[0] | op::X, y, x, 0, skip);  // y < x: skip
  else jump(cls | f[0] | op::X, x, y, 0, skip);       // x > y: skip
  const Model at_skip = m_;
  indexed_access(x, 127);
  bind(skip);
  m_ = join(at_skip, m_);
}

// if x & ~(2^k - 1) goto skip: x < 2^k after (in 32 bits only, for JMP32).
void Gen::jset_probe_block() {
  const int x = varying_scalar(0);
  if (x < 0) return;
  const auto hx = hold(bit(x));
  if (c_.chance(30)) emit(op::ALU64 | op::OR | op::K, x, 0, 0, static_cast<int32_t>(c_.below(2) << (8 + c_.below(12))));
  const uint32_t k = 1 + c_.below(7);
  const int skip = label();
  jump((c_.chance(25) ? op::JMP32 : op::JMP) | op::JSET | op::K, x, 0, -static_cast<int32_t>(1u << k), skip);
  const Model at_skip = m_;
  indexed_access(x, (1 << k) - 1);
  bind(skip);
  m_ = join(at_skip, m_);
}

// A parser loop: p walks the packet by a fixed stride, checked every step.
void Gen::packet_walk_block() {
  if (!packets_usable() || !calls_ok()) return;
  const int p = free_reg(bit(7) | bit(8));
  const int t = free_reg(bit(7) | bit(8) | bit(p));
  const int c = free_reg(bit(7) | bit(8) | bit(p) | bit(t));
  if (p < 0 || t < 0 || c < 0) return;
  const auto h = hold(bit(p) | bit(t) | bit(c) | bit(7) | bit(8));
  const int64_t stride = 1 + c_.below(16), n = 1 + c_.below(6);
  const int size = 1 << c_.below(4);
  const int out = label(), head = label();
  const Model before = m_;
  mov(p, 7);
  movi(c, 0);
  bind(head);
  mov(t, p);
  addi(t, static_cast<int32_t>(stride));
  packet_check(t, stride, out);
  mem_access(p, edge_off(stride, 0, size), size, bit(t) | bit(c), true);
  if (c_.chance(50)) mov(p, t);
  else addi(p, static_cast<int32_t>(stride));
  addi(c, 1);
  jump(op::JMP | op::JLT | op::K, c, 0, static_cast<int32_t>(n), head);
  bind(out);
  for (int64_t i = 1; i <= n; ++i) hint_len(stride * i);
  m_ = join(before, m_);
  reg(p) = reg(t) = Val{RK::Mixed};
  reg(c) = scalar(static_cast<uint64_t>(n));
}

}  // namespace userbpf::testing::soundgen
