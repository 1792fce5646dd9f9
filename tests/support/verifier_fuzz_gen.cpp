// Soundness program generator.  The program is grown block by block; blocks may
// nest (a bounds check, a NULL check or a loop around more blocks).  A rough
// model of every register and stack slot (what kind of value it holds and a
// guess of its largest value) steers the choices towards programs that are
// nearly right: the guess is deliberately wrong now and then ("bait"), and
// offsets are placed at the edge of what the guess allows, one byte either side.
#include "support/verifier_fuzz_gen_internal.h"

#include <linux/bpf.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <regex>
#include <string>

namespace userbpf::testing {

// ---- ChoiceSource -----------------------------------------------------------------

ChoiceSource::ChoiceSource(std::span<const uint8_t> bytes) : bytes_(bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a: the fallback seed depends on every byte
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  state_ = h;
}

uint64_t ChoiceSource::splitmix() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint32_t ChoiceSource::below(uint32_t n) {
  if (n <= 1) return 0;
  if (pos_ < bytes_.size()) {
    uint32_t v = bytes_[pos_++];
    for (uint32_t lim = 256; lim < n && pos_ < bytes_.size(); lim <<= 8) v = v << 8 | bytes_[pos_++];
    return v % n;
  }
  return static_cast<uint32_t>(splitmix() % n);
}

uint64_t ChoiceSource::u64() {
  if (pos_ < bytes_.size()) {
    uint64_t v = 0;
    for (int i = 0; i < 8 && pos_ < bytes_.size(); ++i) v = v << 8 | bytes_[pos_++];
    return v;
  }
  return splitmix();
}

uint64_t ChoiceSource::interesting() {
  static constexpr uint64_t kEdges[] = {
      0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000,
      0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
      ~0ull, ~0ull - 1, 0xffffffff80000000ull, 0xffffffffffffff80ull, 0xfffffffffffffff8ull};
  switch (below(6)) {
    case 0:
    case 1:
    case 2: return kEdges[below(sizeof kEdges / sizeof kEdges[0])];
    case 3: return static_cast<uint64_t>(static_cast<int64_t>(below(33)) - 16);
    case 4: return below(600);
    default: return u64();
  }
}

}  // namespace userbpf::testing

namespace userbpf::testing::soundgen {

// ---- structure ----
void Gen::prologue() {
  reg(1) = Val{RK::Ctx};
  reg(10) = Val{RK::Mixed};  // never picked: r10 is only used explicitly
  if (c_.chance(97)) {
    mov(6, 1);
    reg(6) = Val{RK::Ctx};
  }
  load_packet_pointers();
  for (int i = c_.below(3); i > 0; --i) {
    const int r = free_reg();
    if (r >= 0) scalar_source(r);
  }
}

void Gen::load_packet_pointers() {
  const int ctx = reg(6).kind == RK::Ctx ? 6 : pick(RK::Ctx);
  if (ctx < 0) return;
  // xdp_md: data at 0, data_end at 4 (u32 fields the verifier turns into pointers).
  const uint32_t odd = slip(1) ? c_.below(2) : 2;  // rarely: data and data_end swapped, or a narrow load
  emit(op::LDX | op::MEM | op::W, 7, ctx, odd == 0 ? 4 : 0);
  emit(op::LDX | op::MEM | (odd == 1 ? op::H : op::W), 8, ctx, odd == 0 ? 0 : 4);
  reg(7) = Val{RK::Pkt};
  reg(8) = Val{RK::PktEnd};
}

void Gen::epilogue() {
  const int r = pick(RK::Scalar);
  if (r >= 0 && c_.chance(85)) mov(0, r);
  else movi(0, static_cast<int32_t>(c_.below(4)));
  if (c_.chance(80)) emit(op::ALU | op::AND | op::K, 0, 0, 0, 3);
  emit(op::JMP | op::EXIT);
}

SoundnessProgram Gen::finish() {
  for (const auto& [pc, l] : fix_) {
    const int64_t target = labels_[static_cast<size_t>(l)];
    code_[pc].off = static_cast<int16_t>(target - static_cast<int64_t>(pc) - 1);
  }
  SoundnessProgram p;
  p.object = soundness_object(std::move(code_), vsize_, entries_);
  p.packet_lens = std::move(lens_);
  p.values = std::move(values_);
  p.hash_keys = {0, 1, 2, 3};
  for (uint64_t v : p.values)
    if (v < 64 && p.hash_keys.size() < 12 && c_.chance(50)) p.hash_keys.push_back(static_cast<uint32_t>(v));
  return p;
}

void Gen::blocks(int n, int depth) {
  for (int i = 0; i < n && code_.size() < 700; ++i) block(depth);
}

void Gen::block(int depth) {
  const bool nest = depth < o_.max_depth;
  const uint32_t roll = c_.below(100);
  if (roll < 10) return alu_block();
  if (roll < 13) {
    switch (c_.below(5)) {
      case 0: return link_probe_block();
      case 1: return reg_bound_probe_block();
      case 2: return jset_probe_block();
      default: return probe_block();
    }
  }
  if (roll < 16) {
    const int r = free_reg();
    if (r >= 0) scalar_source(r);
    return;
  }
  if (roll < 22) return cond_set_block();
  if (roll < 29) return spill_fill_block();
  if (roll < 32) return partial_spill_block();
  if (roll < 46) return map_access_block();
  if (roll < 58) return packet_access_block();
  if (roll < 64) return stack_access_block();
  if (roll < 75 && nest) return lookup_block(depth);
  if (roll < 81 && nest) return guard_block(depth);
  if (roll < 83 && nest) return packet_guard_block(depth);
  if (roll < 85 && nest) return c_.chance(50) ? two_lookups_block() : two_checks_block();
  if (roll < 89 && nest) return loop_block(depth);
  if (roll < 90) return packet_walk_block();
  if (roll < 98 || careful_) return call_block();
  return mischief_block();
}

// ---- scalars ----
void Gen::const_into(int dst) {
  const uint64_t v = c_.chance(50) ? c_.below(80) : c_.interesting();
  switch (c_.below(5)) {
    case 0:
      lddw(dst, v);
      reg(dst) = scalar(v);
      return;
    case 1:
      emit(op::ALU | op::MOV | op::K, dst, 0, 0, static_cast<int32_t>(v));
      reg(dst) = scalar(static_cast<uint32_t>(v));
      return;
    default:
      movi(dst, static_cast<int32_t>(v));
      reg(dst) = scalar(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))));
  }
}

void Gen::scalar_source(int dst) {
  switch (c_.below(10)) {
    case 0:
    case 1:
      const_into(dst);
      return;
    case 2:
    case 3:
    case 4:
      if (packet_load_into(dst)) return;
      break;
    case 5: {
      const int ctx = pick(RK::Ctx);
      if (ctx < 0) break;
      // ingress_ifindex (12), rx_queue_index (16); now and then another offset.
      const int32_t off = c_.chance(95) ? (c_.chance(50) ? 12 : 16) : static_cast<int32_t>(c_.below(32));
      emit(op::LDX | op::MEM | (c_.chance(90) ? op::W : size_code(1 << c_.below(4))), dst, ctx, off);
      reg(dst) = scalar(0xffffffff);
      return;
    }
    case 6:
    case 7:
      if (!calls_ok() || !writable(0)) break;
      call(c_.chance(80) ? BPF_FUNC_get_prandom_u32 : BPF_FUNC_ktime_get_ns);
      reg(0) = scalar();  // helpers return a full 64-bit unknown to the verifier
      if (dst != 0) {
        mov(dst, 0);
        reg(dst) = reg(0);
      }
      return;
    case 8: {
      const int v = pick(RK::MapValue);
      if (v < 0) break;
      const int size = 1 << c_.below(4);
      const int32_t vs = static_cast<int32_t>(vsize_[reg(v).map]) - reg(v).off;
      const int32_t off = vs >= size ? static_cast<int32_t>(c_.below(static_cast<uint32_t>(vs - size + 1))) : 0;
      emit(op::LDX | op::MEM | size_code(size), dst, v, off);
      reg(dst) = scalar(size_max(size));
      return;
    }
    default: {
      const int s = scalar_slot();
      if (s < 0) break;
      emit(op::LDX | op::MEM | op::DW, dst, 10, -8 * (s + 1));
      reg(dst) = m_.slot[static_cast<size_t>(s)];
      return;
    }
  }
  const_into(dst);
}

int Gen::scalar_slot() {
  int cand[kSlots], n = 0;
  for (int s = 0; s < kSlots; ++s)
    if (m_.slot[static_cast<size_t>(s)].kind == RK::Scalar) cand[n++] = s;
  return n ? cand[c_.below(static_cast<uint32_t>(n))] : -1;
}

void Gen::alu_block() {
  const int dst = pick_writable(RK::Scalar) >= 0 && c_.chance(85) ? pick_writable(RK::Scalar) : free_reg();
  if (dst < 0) return;
  if (reg(dst).kind != RK::Scalar) scalar_source(dst);
  alu_on(dst);
}

void Gen::alu_on(int dst) {
  static constexpr uint8_t kOps[] = {op::ADD, op::SUB, op::MUL, op::DIV, op::OR,  op::AND, op::AND, op::LSH,
                                     op::RSH, op::RSH, op::NEG, op::MOD, op::XOR, op::MOV, op::ARSH, op::END};
  const uint8_t code = kOps[c_.below(sizeof kOps)];
  const bool is64 = c_.chance(65);
  const uint32_t width = is64 ? 64 : 32;
  const uint8_t cls = is64 ? op::ALU64 : op::ALU;
  uint64_t u = reg(dst).umax;
  const uint64_t wmask = is64 ? ~0ull : 0xffffffffull;
  if (code == op::END) {
    static constexpr int32_t kW[] = {16, 32, 64};
    const int32_t w = kW[c_.below(3)];
    const uint32_t form = c_.below(3);  // le, be, bswap (v4)
    emit(form == 2 ? op::ALU64 | op::END | op::K : op::ALU | op::END | (form ? op::X : op::K), dst, 0, 0, w);
    reg(dst) = scalar(w == 64 ? (form == 0 ? u : ~0ull) : size_max(w / 8));
    return;
  }
  if (code == op::NEG) {
    emit(cls | op::NEG, dst);
    reg(dst) = scalar(wmask);
    return;
  }
  const int src = c_.chance(30) ? scalar_reg(bit(dst)) : -1;
  if (src >= 0) {
    int32_t off = 0;
    if ((code == op::DIV || code == op::MOD) && c_.chance(30)) off = 1;  // sdiv / smod (v4)
    if (code == op::MOV && c_.chance(30)) off = is64 ? 8 << c_.below(3) : 8 << c_.below(2);  // movsx
    emit(cls | code | op::X, dst, src, off);
    const uint64_t v = reg(src).umax;
    switch (code) {
      case op::AND: u = std::min(u, v); break;
      case op::MOV: u = off ? ~0ull : v; break;
      case op::OR:
      case op::XOR: u = (u | v) < (1ull << 62) ? std::bit_ceil((u | v) + 1) - 1 : ~0ull; break;
      case op::ADD: u = u + v >= u ? u + v : ~0ull; break;
      case op::DIV: u = off ? ~0ull : u; break;
      case op::MOD: u = off ? ~0ull : std::max(u, v); break;
      case op::RSH: break;
      default: u = ~0ull;
    }
    reg(dst) = scalar(is64 ? u : std::min(u, wmask));
    return;
  }
  int32_t imm;
  int32_t off = 0;
  if (code == op::LSH || code == op::RSH || code == op::ARSH) {
    imm = static_cast<int32_t>(slip(4) ? width : c_.chance(30) ? width - 1 - c_.below(4) : c_.below(width));
  } else if (code == op::AND && c_.chance(70)) {
    imm = static_cast<int32_t>((1u << c_.below(12)) - 1);  // a mask
    if (c_.chance(20)) imm &= ~static_cast<int32_t>(c_.below(8));  // aligned mask
  } else {
    imm = c_.chance(60) ? static_cast<int32_t>(c_.below(70)) : static_cast<int32_t>(c_.interesting());
  }
  if ((code == op::DIV || code == op::MOD)) {
    if (imm == 0 && !slip(5)) imm = 1 + static_cast<int32_t>(c_.below(20));
    if (c_.chance(25)) off = 1;
  }
  emit(cls | code | op::K, dst, 0, off, imm);
  const uint64_t k = is64 ? static_cast<uint64_t>(static_cast<int64_t>(imm)) : static_cast<uint32_t>(imm);
  switch (code) {
    case op::MOV: u = k; break;
    case op::AND: u = std::min(u, k); break;
    case op::ADD: u = (u + k >= u) ? u + k : ~0ull; break;
    case op::MUL: u = (k == 0 || u <= (~0ull) / k) ? u * k : ~0ull; break;
    case op::DIV: u = (off || k == 0) ? ~0ull : u / k; break;
    case op::MOD: u = (off || k == 0) ? ~0ull : std::min(u, k - 1); break;
    case op::RSH: u = (is64 ? u : std::min(u, wmask)) >> (static_cast<uint32_t>(imm) % width); break;
    case op::ARSH: u = u < (1ull << (width - 1)) ? u >> (static_cast<uint32_t>(imm) % width) : ~0ull; break;
    case op::LSH: {
      const uint32_t s = static_cast<uint32_t>(imm) % width;
      u = (s == 0 || u < (1ull << (width - s))) ? u << s : ~0ull;
      break;
    }
    default: u = ~0ull;
  }
  reg(dst) = scalar(is64 ? u : std::min(u, wmask));
  hint_value(k);
}

void Gen::cond_set_block() {
  const int x = scalar_reg();
  const int dst = free_reg(bit(x));
  if (x < 0 || dst < 0) return;
  const uint64_t c1 = c_.chance(70) ? c_.below(16) : c_.interesting();
  const uint64_t c2 = c_.chance(50) ? c_.below(72) : c_.interesting();
  const bool to_stack = c_.chance(30);
  const int s = static_cast<int>(c_.below(8));
  const int l = label();
  auto put = [&](uint64_t v) {
    if (to_stack) emit(op::ST | op::MEM | op::DW, 10, 0, -8 * (s + 1), static_cast<int32_t>(v));
    else if (c_.chance(30)) emit(op::ALU | op::MOV | op::K, dst, 0, 0, static_cast<int32_t>(v));
    else movi(dst, static_cast<int32_t>(v));
  };
  put(c1);
  cond_jump(x, l);
  put(c2);
  bind(l);
  const uint64_t a = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(c1)));
  const uint64_t b = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(c2)));
  const Val v = scalar(bait() ? std::min(a, b) : std::max(a, b));
  if (to_stack) m_.slot[static_cast<size_t>(s)] = v;
  else reg(dst) = v;
}

void Gen::cond_jump(int x, int l) {
  const uint8_t cmp = kCondOps[c_.below(sizeof kCondOps)];
  const bool jmp32 = c_.chance(25);
  const uint64_t u = reg(x).umax;
  int32_t k;
  if (u != ~0ull && u < 0x7fffffff && c_.chance(80)) k = static_cast<int32_t>(c_.below(static_cast<uint32_t>(u) + 2));
  else k = static_cast<int32_t>(c_.chance(50) ? c_.below(256) : c_.interesting());
  const int y = c_.chance(15) ? scalar_reg(bit(x)) : -1;
  jump((jmp32 ? op::JMP32 : op::JMP) | cmp | (y >= 0 ? op::X : op::K), x, y >= 0 ? y : 0, y >= 0 ? 0 : k, l);
  hint_value(static_cast<uint64_t>(static_cast<int64_t>(k)));
}

uint64_t Gen::bound(int idx, uint64_t limit, int skip) {
  const uint64_t u = reg(idx).umax;
  if (u <= limit && c_.chance(70)) return u;
  if (bait() && c_.chance(40)) return std::min(u, limit);  // no bounding at all
  const uint64_t target = bait() ? limit + 1 + c_.below(8) : limit;
  switch (c_.below(7)) {
    case 0:
    case 1:
    case 6: {
      const uint64_t mask = target == 0 ? 0 : std::bit_floor(target + 1) - 1;
      emit((c_.chance(70) ? op::ALU64 : op::ALU) | op::AND | op::K, idx, 0, 0, static_cast<int32_t>(mask));
      reg(idx).umax = mask;
      return mask;
    }
    case 2: {
      if (slip(30)) {
        // A modulo bounds the value, but verifiers may not know it.
        emit((c_.chance(70) ? op::ALU64 : op::ALU) | op::MOD | op::K, idx, 0, 0, static_cast<int32_t>(target + 1));
      } else {
        // Zero-extension: w = w bounds to 32 bits; then a shift of the rest.
        emit(op::ALU | op::MOV | op::X, idx, idx);
        uint32_t sh = 32;
        while (sh < 63 && (~0ull >> sh) > target) ++sh;
        emit(op::ALU64 | op::RSH | op::K, idx, 0, 0, static_cast<int32_t>(sh - 32));
        reg(idx).umax = ~0ull >> sh;
        return ~0ull >> sh;
      }
      reg(idx).umax = target;
      return target;
    }
    case 3: {
      uint32_t sh = 0;
      while (sh < 63 && (~0ull >> sh) > target) ++sh;
      emit(op::ALU64 | op::RSH | op::K, idx, 0, 0, static_cast<int32_t>(sh));
      reg(idx).umax = ~0ull >> sh;
      return ~0ull >> sh;
    }
    default: {
      // Unsigned, signed (leaves negatives) or 32-bit (leaves the upper half).
      static constexpr uint8_t kGuards[] = {op::JGT, op::JGT, op::JGT, op::JGE, op::JGE, op::JSGT, op::JSGE};
      const uint8_t g = kGuards[c_.below(sizeof kGuards)];
      // A 32-bit compare bounds only the lower half: fine when the upper is zero.
      const bool jmp32 = u <= 0xffffffff ? c_.chance(30) : slip(10);
      const int64_t k = g == op::JGE || g == op::JSGE ? static_cast<int64_t>(target) + 1 : static_cast<int64_t>(target);
      if (c_.chance(85)) {
        jump((jmp32 ? op::JMP32 : op::JMP) | g | op::K, idx, 0, static_cast<int32_t>(k), skip);
      } else {
        // The bound lives in a register: if idx > rK goto skip.
        const int rk = free_reg(bit(idx));
        if (rk < 0) return u;
        movi(rk, static_cast<int32_t>(k));
        reg(rk) = scalar(static_cast<uint64_t>(k));
        jump((jmp32 ? op::JMP32 : op::JMP) | g | op::X, idx, rk, 0, skip);
      }
      hint_value(static_cast<uint64_t>(k));
      reg(idx).umax = target;
      return target;
    }
  }
}

int32_t Gen::edge_off(int64_t space, int64_t var, int size) {
  const int64_t last = space - var - size;
  const uint32_t roll = c_.below(100);
  if (slip(6)) return static_cast<int32_t>(last + 1);
  if (slip(3)) return static_cast<int32_t>(-1 - static_cast<int32_t>(c_.below(2)));
  if (roll < 25) return static_cast<int32_t>(std::max<int64_t>(0, last - c_.below(4)));
  if (roll < 45) return static_cast<int32_t>(c_.below(static_cast<uint32_t>(std::max<int64_t>(1, last + 1))));
  if (roll < 55) return 0;
  return static_cast<int32_t>(last);
}

// ---- control ----
void Gen::guard_block(int depth) {
  const int x = scalar_reg();
  if (x < 0) return;
  const int skip = label();
  cond_jump(x, skip);
  const Model outside = m_;
  const Insn& j = code_.back();
  const uint8_t cmp = op::alu_op(j.opcode);
  const uint64_t k = static_cast<uint64_t>(static_cast<int64_t>(j.imm));
  if ((j.opcode & op::X) == 0) {
    if (cmp == op::JGT || (bait() && cmp == op::JSGT)) reg(x).umax = std::min(reg(x).umax, k);
    if ((cmp == op::JGE || (bait() && cmp == op::JSGE)) && k > 0) reg(x).umax = std::min(reg(x).umax, k - 1);
    if (cmp == op::JNE) reg(x).umax = k;
  }
  blocks(1 + static_cast<int>(c_.below(3)), depth + 1);
  bind(skip);
  m_ = join(outside, m_);
}

void Gen::loop_block(int depth) {
  int c = writable(9) && reg(9).kind != RK::MapValue ? 9 : free_reg();
  if (c < 0) return;
  const int64_t n = 1 + c_.below(6);
  const bool down = c_.chance(25);
  const bool w = c_.chance(25);
  movi(c, down ? static_cast<int32_t>(n) : 0);
  reg(c) = scalar(static_cast<uint64_t>(n));
  // Now and then a second register that grows by `astep` every iteration: an
  // index whose value differs per iteration without deciding the loop, the
  // case where pruning at the loop head must see the difference.
  const int a = c_.chance(35) ? free_reg(bit(c)) : -1;
  const int32_t astep = 1 << c_.below(5);
  if (a >= 0) {
    movi(a, 0);
    reg(a) = scalar(static_cast<uint64_t>(astep * n));
  }
  const int head = label();
  bind(head);
  const Model before = m_;
  const uint32_t keep = pinned_;
  const int keep_calls = no_calls_;
  pinned_ |= bit(c) | bit(a);
  if (c <= 5 || (a >= 0 && a <= 5)) ++no_calls_;
  if (a >= 0) indexed_access(a, astep * n);
  if (c_.chance(50)) indexed_access(c, n + 1);  // the counter as an index, unchecked
  blocks(1 + static_cast<int>(c_.below(2)), depth + 1);
  if (a >= 0) addi(a, astep);
  no_calls_ = keep_calls;
  pinned_ = keep;
  const int32_t step = c_.chance(90) ? 1 : 2;
  emit((w ? op::ALU : op::ALU64) | (down ? op::SUB : op::ADD) | op::K, c, 0, 0, step);
  const uint8_t cls = w ? op::JMP32 : op::JMP;
  if (down) {
    jump(cls | (c_.chance(80) ? op::JSGT : op::JNE) | op::K, c, 0, 0, head);
  } else {
    static constexpr uint8_t kUp[] = {op::JLT, op::JLT, op::JSLT, op::JNE, op::JLE};
    const uint8_t cmp = kUp[c_.below(sizeof kUp)];
    jump(cls | cmp | op::K, c, 0, static_cast<int32_t>(cmp == op::JLE ? n - 1 : n), head);
  }
  m_ = join(before, m_);
}

void Gen::call_block() {
  if (!calls_ok() || !writable(0)) return;
  const uint32_t roll = c_.below(100);
  if (roll < 50) {
    call(BPF_FUNC_get_prandom_u32);
    reg(0) = scalar();
    return;
  }
  if (roll < 60) {
    call(BPF_FUNC_ktime_get_ns);
    return;
  }
  if (roll < 75) {
    // bpf_map_update_elem on the array (no new memory: elements are preallocated).
    const int32_t koff = -4 * static_cast<int32_t>(1 + c_.below(4));
    emit(op::ST | op::MEM | op::W, 10, 0, koff, static_cast<int32_t>(c_.below(entries_ + 1)));
    ld_map(1, kSoundArrayMap);
    mov(2, 10);
    addi(2, koff);
    mov(3, 10);
    addi(3, -8 * static_cast<int32_t>(1 + c_.below(16)) - (c_.chance(10) ? 64 : 0));
    movi(4, 0);
    call(BPF_FUNC_map_update_elem);
    return;
  }
  // xdp_adjust_head / adjust_tail: every packet pointer is stale afterwards.
  const int ctx = pick(RK::Ctx);
  if (ctx < 0) return;
  if (ctx != 1) mov(1, ctx);
  static constexpr int32_t kDeltas[] = {-14, -8, -1, 0, 1, 4, 14, 20, -64, 64};
  movi(2, kDeltas[c_.below(sizeof kDeltas / sizeof kDeltas[0])]);
  const bool head = c_.chance(60);
  call(head ? BPF_FUNC_xdp_adjust_head : BPF_FUNC_xdp_adjust_tail);
  // Bait: believe the old packet pointers (in registers or spilled) still good.
  if (c_.chance(75)) {
    for (auto& v : m_.r)
      if (v.kind == RK::Pkt || v.kind == RK::PktEnd) v = scalar();
    for (auto& v : m_.slot)
      if (v.kind == RK::Pkt || v.kind == RK::PktEnd) v = scalar();
    if (c_.chance(85) && reg(6).kind == RK::Ctx) load_packet_pointers();
  }
}

void Gen::mischief_block() {
  const int ctx = pick(RK::Ctx);
  switch (c_.below(7)) {
    case 0:
      if (ctx >= 0) emit(op::ST | op::MEM | op::W, ctx, 0, 16, 1);
      return;
    case 1: {
      const int idx = scalar_reg();
      const int p = free_reg(bit(idx) | bit(ctx));
      if (ctx < 0 || idx < 0 || p < 0) return;
      mov(p, ctx);
      emit(op::ALU64 | op::ADD | op::X, p, idx);
      emit(op::LDX | op::MEM | op::W, p, p, 0);
      reg(p) = scalar();
      return;
    }
    case 2: {
      const int p = free_reg();
      const int src = pick(RK::Pkt) >= 0 ? pick(RK::Pkt) : pick(RK::MapValue);
      if (p < 0 || src < 0) return;
      mov(p, src);
      emit(op::ALU | op::ADD | op::K, p, 0, 0, 1);
      reg(p) = scalar(0xffffffff);
      return;
    }
    case 3: {
      const int p = free_reg();
      if (p < 0 || reg(8).kind != RK::PktEnd) return;
      mov(p, 8);
      addi(p, -static_cast<int32_t>(c_.below(4)));
      emit(op::LDX | op::MEM | op::B, p, p, 0);
      reg(p) = scalar(255);
      return;
    }
    case 4: {
      // data_meta: in a test run as long as nothing, so any access is out of bounds.
      const int mreg = free_reg(bit(7));
      const int t = free_reg(bit(7) | bit(mreg));
      if (ctx < 0 || mreg < 0 || t < 0 || reg(7).kind != RK::Pkt) return;
      emit(op::LDX | op::MEM | op::W, mreg, ctx, 8);
      const int skip = label();
      const int64_t k = c_.below(3) * 4;
      mov(t, mreg);
      addi(t, static_cast<int32_t>(k));
      jump(op::JMP | op::JGT | op::X, t, 7, 0, skip);
      emit(op::LDX | op::MEM | op::B, t, mreg, static_cast<int32_t>(c_.below(static_cast<uint32_t>(k) + 2)));
      bind(skip);
      reg(mreg) = Val{RK::Mixed};
      reg(t) = Val{RK::Mixed};
      return;
    }
    case 5: {
      // data_end - data: a length (a scalar the verifier cannot bound).
      const int p = free_reg(bit(7) | bit(8));
      if (p < 0 || reg(7).kind != RK::Pkt || reg(8).kind != RK::PktEnd) return;
      mov(p, 8);
      emit(op::ALU64 | op::SUB | op::X, p, 7);
      reg(p) = scalar(0xffff);
      return;
    }
    default: {
      // Pointer leaks into memory: stores of pointers into the packet or a map value.
      const int base = pick(RK::MapValue) >= 0 ? pick(RK::MapValue) : -1;
      if (base < 0) return;
      emit(op::STX | op::MEM | op::DW, base, c_.chance(50) ? 10 : 7, 0);
      return;
    }
  }
}

}  // namespace userbpf::testing::soundgen

namespace userbpf::testing {

loader::ObjectSpec soundness_object(std::vector<isa::Insn> insns, const uint32_t value_sizes[kSoundNumMaps],
                                    uint32_t array_entries) {
  loader::ObjectSpec o;
  loader::ProgramSpec ps;
  ps.name = "prog";
  ps.section = "xdp";
  ps.prog_type = BPF_PROG_TYPE_XDP;
  ps.insns = std::move(insns);
  o.name = "soundness";
  o.license = "GPL";
  o.programs.push_back(std::move(ps));
  static const char* kNames[] = {"arr", "hash", "one"};
  for (int i = 0; i < kSoundNumMaps; ++i) {
    loader::MapDef d;
    d.spec.name = kNames[i];
    d.spec.type = i == kSoundHashMap ? BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_ARRAY;
    d.spec.key_size = 4;
    d.spec.value_size = value_sizes[i];
    d.spec.max_entries = i == kSoundArrayMap ? array_entries : i == kSoundHashMap ? 16 : 1;
    d.section = ".maps";
    o.maps.push_back(std::move(d));
  }
  return o;
}

Result<SoundnessProgram> soundness_program_from_asm(std::string_view text) {
  uint32_t sizes[kSoundNumMaps] = {16, 16, 16};
  uint32_t entries = 2;
  std::string body(text);
  if (body.rfind("; maps:", 0) == 0) {
    const std::string line = body.substr(0, body.find('\n'));
    body = body.substr(line.size());
    unsigned a = 0, n = 0, h = 0, o = 0;
    if (std::sscanf(line.c_str(), "; maps: arr=%ux%u hash=%u one=%u", &a, &n, &h, &o) != 4)
      return make_error(ErrorKind::InvalidArgument, "expected '; maps: arr=VSxN hash=VS one=VS', got '" + line + "'");
    sizes[kSoundArrayMap] = a;
    sizes[kSoundHashMap] = h;
    sizes[kSoundSingleMap] = o;
    entries = n;
  }
  // "12:\t" prefixes of a numbered listing go.
  static const std::regex pc_re(R"((^|\n)[ \t]*\d+:[ \t]*)");
  body = std::regex_replace(body, pc_re, "$1");
  // Map references become lddw immediates tagged in their top byte, then the
  // tag is turned into the pseudo source (as verifier_test.cpp does).
  static const std::regex map_re(R"(map\[(\d+)\])"), val_re(R"(mapval\[(\d+)\+(\d+)\])");
  std::smatch m;
  while (std::regex_search(body, m, val_re))
    body = m.prefix().str() +
           std::to_string(0x7e00000000000000ull | (2ull << 48) | (std::stoull(m[1]) << 32) | std::stoull(m[2])) +
           m.suffix().str();
  while (std::regex_search(body, m, map_re))
    body = m.prefix().str() + std::to_string(0x7e00000000000000ull | (1ull << 48) | (std::stoull(m[1]) << 32)) +
           m.suffix().str();
  auto insns = isa::assemble(body);
  if (!insns) return insns.error();
  for (size_t i = 0; i + 1 < insns->size(); ++i) {
    isa::Insn& lo = (*insns)[i];
    if (!isa::is_lddw(lo)) continue;
    const uint64_t v = isa::lddw_imm(lo, (*insns)[i + 1]);
    if ((v >> 56) == 0x7e) {
      lo.src = static_cast<uint8_t>((v >> 48) & 0xff);
      lo.imm = static_cast<int32_t>((v >> 32) & 0xffff);
      (*insns)[i + 1].imm = static_cast<int32_t>(v & 0xffffffff);
    }
    ++i;
  }
  SoundnessProgram p;
  p.object = soundness_object(std::move(*insns), sizes, entries);
  p.hash_keys = {0, 1, 2, 3};
  return p;
}

SoundnessProgram generate_soundness_program(ChoiceSource& src, const SoundnessGenOptions& opts) {
  return soundgen::Gen(src, opts).build();
}

}  // namespace userbpf::testing
