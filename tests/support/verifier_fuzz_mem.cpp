// Soundness generator, memory blocks: map value, packet and stack accesses,
// bounds checks, map lookups with their NULL checks, spills and fills.
#include "support/verifier_fuzz_gen_internal.h"

namespace userbpf::testing::soundgen {

void Gen::mem_access(int base, int32_t off, int size, uint32_t avoid, bool packet) {
  uint32_t roll = c_.below(100);
  if (roll >= 92 && packet && !slip(20)) roll = 80;  // no atomics on the packet
  if (roll < 55) {
    const int dst = free_reg(avoid | bit(base));
    if (dst < 0) return;
    const bool sx = size < 8 && c_.chance(10);
    emit(op::LDX | (sx ? op::MEMSX : op::MEM) | size_code(size), dst, base, off);
    reg(dst) = scalar(sx ? ~0ull : size_max(size));
  } else if (roll < 75) {
    emit(op::ST | op::MEM | size_code(size), base, 0, off, static_cast<int32_t>(c_.interesting()));
  } else if (roll < 92 || size < 4) {
    int src = c_.chance(85) ? scalar_reg(avoid | bit(base)) : pick(RK::Pkt);
    if (src < 0) src = base;
    emit(op::STX | op::MEM | size_code(size), base, src, off);
  } else {
    const int src = scalar_reg(avoid | bit(base));
    if (src < 0) return;
    static constexpr int32_t kAtomics[] = {op::ADD, op::ADD | op::FETCH, op::OR, op::XCHG};
    emit(op::STX | op::ATOMIC | size_code(size), base, src, off, kAtomics[c_.below(4)]);
    reg(src) = scalar();
  }
}

// ---- map values ----
void Gen::map_access_block() {
  int v = pick(RK::MapValue);
  if (v < 0 || c_.chance(20)) {
    // Direct value access of the one-entry array (what global data compiles to).
    v = free_reg();
    if (v < 0) return;
    // Rarely from a map that has no direct value access (several entries, hash).
    const uint32_t which = c_.below(100);
    const int map = which < 96 ? kSoundSingleMap : which < 98 ? kSoundArrayMap : kSoundHashMap;
    const uint32_t off = c_.chance(80) ? 0 : c_.below(vsize_[map] + 2);
    ld_map_value(v, map, off);
    reg(v) = Val{RK::MapValue, ~0ull, map, static_cast<int32_t>(off)};
  }
  value_access(v);
}

void Gen::value_access(int v) {
  const auto h = hold(bit(v));
  const int size = 1 << c_.below(4);
  const int64_t space = static_cast<int64_t>(vsize_[reg(v).map]) - reg(v).off;
  if (c_.chance(40)) return mem_access(v, edge_off(space, 0, size), size, 0);
  const int idx = own(scalar_reg(bit(v)), bit(v));
  if (idx < 0) return;
  const int skip = label();
  const uint64_t lim = static_cast<uint64_t>(std::max<int64_t>(0, space - size));
  const uint64_t m = bound(idx, lim, skip);
  const Model at_skip = m_;
  const int p = free_reg(bit(v) | bit(idx));
  if (p >= 0 && m < (1u << 20)) {
    if (c_.chance(80)) {
      mov(p, v);
      emit(op::ALU64 | (slip(10) ? op::SUB : op::ADD) | op::X, p, idx);
    } else {
      mov(p, idx);  // scalar += pointer
      emit(op::ALU64 | op::ADD | op::X, p, v);
    }
    reg(p) = Val{RK::Mixed};  // a variable offset: never a base for constant offsets
    // Now and then a constant moved from the access offset into the pointer.
    const int32_t c = c_.chance(20) ? static_cast<int32_t>(c_.below(17)) - 8 : 0;
    if (c) addi(p, c);
    mem_access(p, edge_off(space, static_cast<int64_t>(m), size) - c, size, bit(v));
  }
  bind(skip);
  m_ = join(at_skip, m_);
}

void Gen::lookup_block(int depth) {
  if (!calls_ok()) return;
  const uint32_t roll = c_.below(100);
  const int map = roll < 50 ? kSoundArrayMap : roll < 90 ? kSoundHashMap : kSoundSingleMap;
  // The key, 4 bytes somewhere in the stack.
  int32_t koff = -4 * static_cast<int32_t>(1 + c_.below(8));
  if (c_.chance(60)) {
    const uint64_t key = c_.chance(80) ? c_.below(entries_ + 2) : c_.interesting();
    switch (c_.below(4)) {
      case 0:
      case 1: emit(op::ST | op::MEM | op::W, 10, 0, koff, static_cast<int32_t>(key)); break;
      case 2: {
        const int t = free_reg();
        if (t < 0) return;
        movi(t, static_cast<int32_t>(key));
        reg(t) = scalar(key);
        emit(op::STX | op::MEM | op::W, 10, t, koff);
        break;
      }
      default: {
        // A 64-bit spill holding the key in one half: which half is the key?
        const int t = free_reg();
        if (t < 0) return;
        const uint64_t other = c_.chance(50) ? 0 : c_.below(entries_ + 2);
        const bool low = c_.chance(50);
        lddw(t, low ? (other << 32 | (key & 0xffffffff)) : (key << 32 | other));
        reg(t) = scalar();
        const int32_t s = -8 * static_cast<int32_t>(1 + c_.below(4));
        emit(op::STX | op::MEM | op::DW, 10, t, s);
        koff = c_.chance(85) ? (low ? s : s + 4) : (low ? s + 4 : s);
      }
    }
    hint_value(key);
  } else {
    const int x = scalar_reg();
    if (x < 0) return;
    if (c_.chance(50) && writable(x)) {
      emit(op::ALU64 | op::AND | op::K, x, 0, 0, static_cast<int32_t>(std::bit_ceil(entries_ + 1) - 1));
      reg(x).umax = std::bit_ceil(entries_ + 1) - 1;
    }
    if (c_.chance(70)) {
      emit(op::STX | op::MEM | op::W, 10, x, koff);
    } else {
      koff = -8 * static_cast<int32_t>(1 + c_.below(4));
      emit(op::STX | op::MEM | op::DW, 10, x, koff);
    }
  }
  if (c_.chance(12)) {
    // One byte of the key changed after it was written: still a constant?
    const int32_t at = koff + static_cast<int32_t>(c_.below(4));
    const int x = c_.chance(60) ? -1 : pick(RK::Scalar);
    if (x >= 0) emit(op::STX | op::MEM | op::B, 10, x, at);
    else emit(op::ST | op::MEM | op::B, 10, 0, at, static_cast<int32_t>(c_.below(3)));
  }
  m_.slot[static_cast<size_t>((-koff - 1) / 8)] = scalar();
  mov(2, 10);
  addi(2, koff);
  ld_map(1, map);
  call(BPF_FUNC_map_lookup_elem);
  reg(0) = Val{RK::MapValueOrNull, ~0ull, map};

  const int end = label();
  int v = 0;
  const uint32_t check = slip(14) ? 86 + c_.below(14) : c_.below(86);
  const bool keep_r9 = writable(9) && c_.chance(70);
  if (check < 62) {
    jump(op::JMP | op::JEQ | op::K, 0, 0, 0, end);
  } else if (check < 74 && keep_r9) {
    mov(9, 0);  // NULL check on a copy
    if (c_.chance(50)) jump(op::JMP | op::JEQ | op::K, 9, 0, 0, end);
    else jump(op::JMP | op::JEQ | op::K, 0, 0, 0, end);
  } else if (check < 86) {
    const int in = label();
    jump(op::JMP | op::JNE | op::K, 0, 0, 0, in);
    goto_(end);
    bind(in);
  } else if (check < 94) {
    // no check: fine only for an array lookup that cannot fail
  } else if (check < 96) {
    jump(op::JMP32 | op::JEQ | op::K, 0, 0, 0, end);
  } else if (check < 98) {
    jump(op::JMP | (c_.chance(50) ? op::JLT : op::JSLE) | op::K, 0, 0, 0, end);
  } else {
    addi(0, static_cast<int32_t>(c_.below(8)));
    jump(op::JMP | op::JEQ | op::K, 0, 0, 0, end);
  }
  const Model outside = m_;
  reg(0) = Val{RK::MapValue, ~0ull, map};
  if (keep_r9) {
    mov(9, 0);
    reg(9) = reg(0);
    v = 9;
  }
  const uint32_t keep = pinned_;
  pinned_ |= bit(v);
  if (v <= 5) ++no_calls_;
  const int n = 1 + static_cast<int>(c_.below(3));
  for (int i = 0; i < n; ++i) {
    if (c_.chance(50)) value_access(v);
    else block(depth + 1);
  }
  if (v <= 5) --no_calls_;
  pinned_ = keep;
  bind(end);
  m_ = join(outside, m_);
}

// ---- packet ----
int64_t Gen::packet_check(int t, int64_t k, int skip) {
  const int end = pick(RK::PktEnd) >= 0 ? (reg(8).kind == RK::PktEnd ? 8 : pick(RK::PktEnd)) : 8;
  const uint32_t form = slip(8) ? 92 + c_.below(8) : c_.below(92);
  hint_len(k);
  if (form < 35) jump(op::JMP | op::JGT | op::X, t, end, 0, skip);
  else if (form < 52) jump(op::JMP | op::JLT | op::X, end, t, 0, skip);
  else if (form < 63) jump(op::JMP | op::JGE | op::X, t, end, 0, skip);  // strict: k + 1 bytes
  else if (form < 72) jump(op::JMP | op::JLE | op::X, end, t, 0, skip);
  else if (form < 92) {
    static constexpr uint8_t kForms[][2] = {{op::JLE, 0}, {op::JGE, 1}, {op::JLT, 0}, {op::JGT, 1}};
    const auto& f = kForms[c_.below(4)];
    const int ok = label();
    if (f[1]) jump(op::JMP | f[0] | op::X, end, t, 0, ok);
    else jump(op::JMP | f[0] | op::X, t, end, 0, ok);
    goto_(skip);
    bind(ok);
  } else if (form < 94) {
    jump(op::JMP | op::JLT | op::X, t, end, 0, skip);  // backwards: skips the safe path
  } else if (form < 96) {
    jump(op::JMP32 | op::JGT | op::X, t, end, 0, skip);
  } else if (form < 98) {
    jump(op::JMP | (c_.chance(50) ? op::JSGT : op::JNE) | op::X, t, end, 0, skip);
  } else {
    // Checked against another packet pointer, not data_end.
    const int other = pick(RK::Pkt);
    jump(op::JMP | op::JGT | op::X, t, other >= 0 ? other : end, 0, skip);
  }
  return k;
}

bool Gen::packets_usable() {
  if (reg(7).kind == RK::Pkt && reg(8).kind == RK::PktEnd) return true;
  if (pick(RK::Ctx) < 0 || c_.chance(20)) return false;
  load_packet_pointers();
  return true;
}

bool Gen::packet_load_into(int dst) {
  if (!packets_usable() || dst == 7 || dst == 8) return false;
  const int t = free_reg(bit(dst) | bit(7) | bit(8));
  if (t < 0) return false;
  const int size = 1 << c_.below(4);
  static constexpr int32_t kLens[] = {14, 15, 16, 20, 23, 34, 38, 42, 54, 60, 64};
  const int32_t k = c_.chance(70) ? kLens[c_.below(sizeof kLens / sizeof kLens[0])] : static_cast<int32_t>(c_.below(100));
  movi(dst, 0);
  const int skip = label();
  mov(t, 7);
  addi(t, k);
  packet_check(t, k, skip);
  emit(op::LDX | op::MEM | size_code(size), dst, 7, edge_off(k, 0, size));
  bind(skip);
  reg(t) = Val{RK::Mixed};
  reg(dst) = scalar(size_max(size));  // 0 on the other path
  return true;
}

void Gen::packet_access_block() {
  if (!packets_usable()) return;
  const int size = 1 << c_.below(4);
  Val& data = reg(7);
  if (data.range > 0 && c_.chance(40)) {
    // Rely on a check made earlier (on every path here, by the model).
    return mem_access(7, edge_off(data.range, 0, size), size, 0, true);
  }
  const int skip = label();
  const int64_t k = 1 + c_.below(70);
  int base = 7;
  Model at_skip = m_;
  if (c_.chance(40)) {
    // data + idx, idx bounded; then the usual check on data + idx + k.
    const int idx = own(scalar_reg(bit(7) | bit(8)), bit(7) | bit(8));
    if (idx < 0) return;
    const int p = free_reg(bit(idx) | bit(7) | bit(8));
    if (p < 0) return;
    bound(idx, c_.chance(50) ? 0xff : 0x3fff, skip);
    at_skip = m_;
    mov(p, 7);
    emit(op::ALU64 | op::ADD | op::X, p, idx);
    reg(p) = Val{RK::Pkt};
    base = p;
  }
  if (base == 7 && slip(8)) {
    // A base before data: the check on base + k passes, the access may not.
    const int p = free_reg(bit(7) | bit(8));
    if (p >= 0) {
      mov(p, 7);
      addi(p, -1 - static_cast<int32_t>(c_.below(8)));
      reg(p) = Val{RK::Pkt};
      base = p;
    }
  }
  const int t = free_reg(bit(base) | bit(7) | bit(8));
  if (t < 0) {
    bind(skip);
    m_ = join(at_skip, m_);
    return;
  }
  mov(t, base);
  addi(t, static_cast<int32_t>(k));
  reg(t) = Val{RK::Pkt, ~0ull, -1, 0};
  const Model at_check = m_;
  packet_check(t, k, skip);
  if (c_.chance(20)) mem_access(t, static_cast<int32_t>(-k) + edge_off(k, 0, size), size, bit(base), true);
  else mem_access(base, edge_off(k, 0, size), size, bit(t), true);
  bind(skip);
  m_ = join(join(at_skip, at_check), m_);
}

void Gen::packet_guard_block(int depth) {
  if (!packets_usable()) return;
  const int t = free_reg(bit(7) | bit(8));
  if (t < 0) return;
  const int skip = label();
  const int64_t k = c_.chance(60) ? 14 + c_.below(50) : 1 + c_.below(120);
  mov(t, 7);
  addi(t, static_cast<int32_t>(k));
  packet_check(t, k, skip);
  const Model outside = m_;
  reg(7).range = static_cast<int32_t>(std::max<int64_t>(reg(7).range, k));
  reg(t) = Val{RK::Mixed};
  blocks(1 + static_cast<int>(c_.below(3)), depth + 1);
  bind(skip);
  m_ = join(outside, m_);
}

// ---- stack ----
void Gen::stack_access_block() {
  const int size = 1 << c_.below(4);
  if (c_.chance(55)) {
    int32_t off = -size * static_cast<int32_t>(1 + c_.below(512 / static_cast<uint32_t>(size)));
    if (slip(5)) off = c_.chance(50) ? -512 - size : static_cast<int32_t>(c_.below(2)) * size;
    if (slip(3)) off += 1;
    return mem_access(10, off, size, 0);
  }
  // r10 - N + idx
  const int idx = own(scalar_reg(), 0);
  if (idx < 0) return;
  const int p = free_reg(bit(idx));
  if (p < 0) return;
  const int skip = label();
  const int64_t n = 8 * (1 + c_.below(64));
  uint64_t m = bound(idx, static_cast<uint64_t>(n - size), skip);
  const Model at_skip = m_;
  if (size > 1 && !slip(30)) {
    emit(op::ALU64 | op::AND | op::K, idx, 0, 0, -size);  // aligned
    reg(idx).umax = m;
  }
  if (m > 4096) m = 4096;
  mov(p, 10);
  addi(p, static_cast<int32_t>(-n));
  emit(op::ALU64 | op::ADD | op::X, p, idx);
  reg(p) = Val{RK::Mixed};
  int32_t off = edge_off(n, static_cast<int64_t>(m), size);
  off &= -size;
  mem_access(p, off, size, 0);
  bind(skip);
  m_ = join(at_skip, m_);
}

void Gen::spill_fill_block() {
  const int s = static_cast<int>(c_.below(c_.chance(80) ? 6 : kSlots));
  const int32_t base = -8 * (s + 1);
  Val& slot = m_.slot[static_cast<size_t>(s)];
  const uint32_t roll = c_.below(100);
  if (roll < 35) {
    int r = c_.below(3) == 0 ? -1 : pick(RK::Scalar);
    if (r < 0) {
      int cand[10], n = 0;
      for (int i = 0; i <= 9; ++i)
        if (reg(i).kind != RK::Uninit) cand[n++] = i;
      if (!n) return;
      r = cand[c_.below(static_cast<uint32_t>(n))];
    }
    if (reg(r).kind == RK::Scalar && c_.chance(25)) {
      const int size = c_.chance(60) ? 4 : 1 << c_.below(3);
      emit(op::STX | op::MEM | size_code(size), 10, r, base + static_cast<int32_t>(c_.below(8 / static_cast<uint32_t>(size))) * size);
      slot = scalar(c_.chance(50) ? reg(r).umax : ~0ull);
    } else {
      emit(op::STX | op::MEM | op::DW, 10, r, base);
      slot = reg(r);
    }
  } else if (roll < 70) {
    if (slot.kind == RK::Uninit && c_.chance(70)) return;
    const int dst = free_reg();
    if (dst < 0) return;
    const uint32_t form = c_.below(10);
    if (form < 6) {
      emit(op::LDX | op::MEM | op::DW, dst, 10, base);
      reg(dst) = slot.kind == RK::Uninit ? scalar() : slot;
    } else {
      const int size = 1 << c_.below(3);
      const bool sx = c_.chance(30);
      emit(op::LDX | (sx ? op::MEMSX : op::MEM) | size_code(size), dst, 10,
           base + static_cast<int32_t>(c_.below(8 / static_cast<uint32_t>(size))) * size);
      reg(dst) = scalar(sx ? ~0ull : std::min<uint64_t>(size_max(size), slot.kind == RK::Scalar ? slot.umax : ~0ull));
    }
  } else if (roll < 85) {
    const int size = 1 << c_.below(4);
    const int32_t imm = static_cast<int32_t>(c_.chance(60) ? c_.below(64) : c_.interesting());
    emit(op::ST | op::MEM | size_code(size), 10, 0, base + static_cast<int32_t>(c_.below(8 / static_cast<uint32_t>(size))) * size, imm);
    if (size == 8) slot = scalar(static_cast<uint64_t>(static_cast<int64_t>(imm)));
    else slot = scalar(slot.kind == RK::Scalar && slot.umax < 256 && c_.chance(30) ? slot.umax : ~0ull);
  } else {
    // A byte into a slot that holds a spilled register.
    emit(op::ST | op::MEM | op::B, 10, 0, base + static_cast<int32_t>(c_.below(8)), static_cast<int32_t>(c_.interesting()));
    if (!bait()) slot = scalar();
  }
}

// ---- joins ----
void Gen::lookup_into_r0(int map, int32_t koff) {
  mov(2, 10);
  addi(2, koff);
  ld_map(1, map);
  call(BPF_FUNC_map_lookup_elem);
}

void Gen::two_lookups_block() {
  if (!calls_ok() || !writable(9)) return;
  const int x = scalar_reg();
  if (x < 0) return;
  const int a = static_cast<int>(c_.below(kSoundNumMaps));
  const int b = (a + 1 + static_cast<int>(c_.below(kSoundNumMaps - 1))) % kSoundNumMaps;
  emit(op::ST | op::MEM | op::W, 10, 0, -4, 0);  // key 0: in every map
  m_.slot[0] = scalar();
  const int other = label(), joined = label(), out = label();
  cond_jump(x, other);
  const Model outside_a = m_;
  lookup_into_r0(a, -4);
  jump(op::JMP | op::JEQ | op::K, 0, 0, 0, out);
  mov(9, 0);
  goto_(joined);
  bind(other);
  m_ = outside_a;
  lookup_into_r0(b, -4);
  jump(op::JMP | op::JEQ | op::K, 0, 0, 0, out);
  const Model at_out = m_;
  mov(9, 0);
  bind(joined);
  // The generator believes the smaller value (the larger, when baiting).
  const bool big = bait();
  const int m = (vsize_[a] < vsize_[b]) != big ? a : b;
  reg(9) = Val{RK::MapValue, ~0ull, m};
  reg(0) = reg(9);
  {
    const auto h = hold(bit(9));
    for (int i = 1 + static_cast<int>(c_.below(2)); i > 0; --i) value_access(9);
  }
  bind(out);
  m_ = join(at_out, m_);
}

void Gen::two_checks_block() {
  if (!packets_usable()) return;
  const int x = scalar_reg(bit(7) | bit(8));
  const int t = free_reg(bit(7) | bit(8) | bit(x));
  if (x < 0 || t < 0) return;
  const int64_t k1 = 1 + c_.below(64), k2 = 1 + c_.below(64);
  const int other = label(), joined = label(), out = label();
  cond_jump(x, other);
  const Model at_branch = m_;
  mov(t, 7);
  addi(t, static_cast<int32_t>(k1));
  jump(op::JMP | op::JGT | op::X, t, 8, 0, out);
  goto_(joined);
  bind(other);
  mov(t, 7);
  addi(t, static_cast<int32_t>(k2));
  jump(op::JMP | op::JGT | op::X, t, 8, 0, out);
  bind(joined);
  hint_len(k1);
  hint_len(k2);
  const int64_t k = bait() ? std::max(k1, k2) : std::min(k1, k2);
  reg(7).range = static_cast<int32_t>(k);
  reg(t) = Val{RK::Mixed};
  for (int i = 1 + static_cast<int>(c_.below(2)); i > 0; --i) {
    const int size = 1 << c_.below(4);
    mem_access(7, edge_off(k, 0, size), size, bit(x), true);
  }
  bind(out);
  m_ = join(at_branch, m_);
}

}  // namespace userbpf::testing::soundgen
