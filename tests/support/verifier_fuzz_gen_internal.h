// Internals of the soundness program generator (verifier_fuzz_gen.cpp for the
// structure, scalars and control flow; verifier_fuzz_mem.cpp for memory: map
// values, packet, stack, spills).  Not for use outside those two files.
#pragma once

#include <linux/bpf.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

#include "support/verifier_fuzz_gen.h"
#include "userbpf/isa.h"

namespace userbpf::testing::soundgen {

using namespace isa;

// What the generator believes a register or 8-byte stack slot holds.
enum class RK : uint8_t { Uninit, Scalar, Ctx, Pkt, PktEnd, MapValue, MapValueOrNull, Mixed };

struct Val {
  RK kind = RK::Uninit;
  uint64_t umax = ~0ull;  // Scalar: guess of the largest value
  int map = -1;           // MapValue*: which map
  int32_t off = 0;        // MapValue: offset into the value; Pkt: offset from data
  int32_t range = 0;      // Pkt: bytes past the pointer believed inside the packet
};

inline Val join(const Val& a, const Val& b) {
  if (a.kind == RK::Uninit || b.kind == RK::Uninit) return Val{};
  if (a.kind != b.kind || a.map != b.map || a.off != b.off) return Val{RK::Mixed};
  Val j = a;
  j.umax = std::max(a.umax, b.umax);
  j.range = std::min(a.range, b.range);
  return j;
}

inline constexpr int kSlots = 64;

struct Model {
  std::array<Val, 11> r;
  std::array<Val, kSlots> slot;  // slot i covers [r10 - 8i - 8, r10 - 8i)
};

inline Model join(const Model& a, const Model& b) {
  Model m;
  for (size_t i = 0; i < m.r.size(); ++i) m.r[i] = join(a.r[i], b.r[i]);
  for (size_t i = 0; i < m.slot.size(); ++i) m.slot[i] = join(a.slot[i], b.slot[i]);
  return m;
}

inline Val scalar(uint64_t umax = ~0ull) { return Val{RK::Scalar, umax}; }

inline uint8_t size_code(int bytes) {
  switch (bytes) {
    case 1: return op::B;
    case 2: return op::H;
    case 4: return op::W;
    default: return op::DW;
  }
}

inline uint64_t size_max(int bytes) { return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1; }

inline constexpr uint8_t kCondOps[] = {op::JEQ,  op::JNE,  op::JGT,  op::JGE,  op::JLT, op::JLE,
                                       op::JSGT, op::JSGE, op::JSLT, op::JSLE, op::JSET};

// One program in the making.  Everything is public: the class is split over
// two files, and this header is theirs alone.
class Gen {
 public:
  Gen(ChoiceSource& c, const SoundnessGenOptions& o) : c_(c), o_(o) {
    static constexpr uint32_t kSizes[] = {4, 8, 12, 16, 20, 24, 32, 48, 64};
    for (int i = 0; i < kSoundNumMaps; ++i) vsize_[i] = kSizes[c_.below(sizeof kSizes / sizeof kSizes[0])];
    static constexpr uint32_t kEntries[] = {1, 2, 3, 4, 8};
    entries_ = kEntries[c_.below(5)];
    careful_ = c_.chance(50);
  }
  SoundnessProgram build() {
    prologue();
    const int n = o_.min_blocks + static_cast<int>(c_.below(static_cast<uint32_t>(std::max(0, o_.max_blocks - o_.min_blocks) + 1)));
    blocks(n, 0);
    epilogue();
    return finish();
  }
  // ---- emission ----
  void emit(uint8_t opcode, int dst = 0, int src = 0, int32_t off = 0, int32_t imm = 0) {
    Insn i;
    i.opcode = opcode;
    i.dst = static_cast<uint8_t>(dst) & 0xf;
    i.src = static_cast<uint8_t>(src) & 0xf;
    i.off = static_cast<int16_t>(off);
    i.imm = imm;
    code_.push_back(i);
  }
  int label() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size()) - 1;
  }
  void bind(int l) { labels_[static_cast<size_t>(l)] = static_cast<int64_t>(code_.size()); }
  void jump(uint8_t opcode, int dst, int src, int32_t imm, int l) {
    fix_.push_back({code_.size(), l});
    emit(opcode, dst, src, 0, imm);
  }
  void goto_(int l) { jump(op::JMP | op::JA, 0, 0, 0, l); }
  void lddw(int dst, uint64_t v, uint8_t pseudo = 0, uint32_t hi_override = 0, bool use_override = false) {
    emit(op::LD | op::IMM | op::DW, dst, pseudo, 0, static_cast<int32_t>(static_cast<uint32_t>(v)));
    emit(0, 0, 0, 0, static_cast<int32_t>(use_override ? hi_override : static_cast<uint32_t>(v >> 32)));
  }
  void ld_map(int dst, int map) { lddw(dst, static_cast<uint32_t>(map), pseudo::MAP_FD, 0, true); }
  void ld_map_value(int dst, int map, uint32_t off) { lddw(dst, static_cast<uint32_t>(map), pseudo::MAP_VALUE, off, true); }
  void mov(int dst, int src) { emit(op::ALU64 | op::MOV | op::X, dst, src); }
  void movi(int dst, int32_t imm) { emit(op::ALU64 | op::MOV | op::K, dst, 0, 0, imm); }
  void addi(int dst, int32_t imm) { emit(op::ALU64 | op::ADD | op::K, dst, 0, 0, imm); }
  void call(int32_t id) {
    emit(op::JMP | op::CALL, 0, 0, 0, id);
    for (int r = 1; r <= 5; ++r) m_.r[static_cast<size_t>(r)] = Val{};
    m_.r[0] = scalar();
  }
  // ---- register choice ----
  bool writable(int r) const { return r >= 0 && r <= 9 && !(pinned_ >> r & 1); }
  Val& reg(int r) { return m_.r[static_cast<size_t>(r)]; }
  int pick(RK kind) {
    int cand[10], n = 0;
    for (int r = 0; r <= 9; ++r)
      if (reg(r).kind == kind) cand[n++] = r;
    return n ? cand[c_.below(static_cast<uint32_t>(n))] : -1;
  }
  int pick_writable(RK kind) {
    int cand[10], n = 0;
    for (int r = 0; r <= 9; ++r)
      if (reg(r).kind == kind && writable(r)) cand[n++] = r;
    return n ? cand[c_.below(static_cast<uint32_t>(n))] : -1;
  }
  // A register to put a new value in, never one of `avoid`.  Now and then one of
  // r6..r8 (the context and packet pointers), which later blocks then miss.
  int free_reg(uint32_t avoid = 0) {
    int cand[10], n = 0;
    const bool wild = slip(2);
    for (int r = 0; r <= 9; ++r) {
      if (!writable(r) || (avoid >> r & 1)) continue;
      if (!wild && r >= 6 && r <= 8) continue;
      const RK k = reg(r).kind;
      if (!wild && (k == RK::MapValue || k == RK::Pkt) && c_.chance(70)) continue;  // keep pointers around
      cand[n++] = r;
    }
    return n ? cand[c_.below(static_cast<uint32_t>(n))] : -1;
  }
  uint32_t bit(int r) const { return r >= 0 ? 1u << r : 0; }
  bool calls_ok() const { return no_calls_ == 0; }
  // Keeps registers from being overwritten (and, for r0..r5, from being
  // clobbered by helper calls) until the returned guard goes out of scope.
  struct Hold {
    Gen& g;
    uint32_t pinned;
    int no_calls;
    ~Hold() {
      g.pinned_ = pinned;
      g.no_calls_ = no_calls;
    }
  };
  Hold hold(uint32_t regs) {
    Hold h{*this, pinned_, no_calls_};
    pinned_ |= regs;
    if (regs & 0x3f) ++no_calls_;
    return h;
  }
  // idx itself when it may be changed, else a copy of it.
  int own(int idx, uint32_t avoid) {
    if (idx < 0 || writable(idx)) return idx;
    const int t = free_reg(avoid | bit(idx));
    if (t < 0) return -1;
    mov(t, idx);
    reg(t) = reg(idx);
    return t;
  }
  // Deliberate mistakes: a "careful" program (half of them) makes few of them, so that
  // accepted programs get long and the subtle cases inside them get checked.
  bool slip(uint32_t percent) { return c_.chance(careful_ ? percent / 10 : percent); }
  bool bait() { return slip(12); }
  // A scalar register to read (made if none exists).
  int scalar_reg(uint32_t avoid = 0) {
    int r = pick(RK::Scalar);
    if (r >= 0 && !(avoid >> r & 1) && c_.chance(85)) return r;
    r = free_reg(avoid);
    if (r < 0) return -1;
    scalar_source(r);
    return reg(r).kind == RK::Scalar ? r : -1;
  }
  void hint_len(int64_t k) {
    for (int64_t d = -1; d <= 1; ++d)
      if (k + d >= 14 && k + d < 4000) lens_.push_back(static_cast<uint32_t>(k + d));
  }
  void hint_value(uint64_t v) {
    values_.push_back(v);
    values_.push_back(v + 1);
    values_.push_back(v - 1);
  }
  // ---- structure ----
  void prologue();
  void load_packet_pointers();
  void epilogue();
  SoundnessProgram finish();
  void blocks(int n, int depth);
  void block(int depth);
  // ---- scalars ----
  void const_into(int dst);
  void scalar_source(int dst);
  int scalar_slot();
  // A random ALU operation on a scalar; the model's bound follows roughly.
  void alu_block();
  void alu_on(int dst);
  // dst = c1; if (x op K) dst = c2 — a register whose value depends on the path,
  // the case that state pruning must not get wrong.
  void cond_set_block();
  // `if x op K goto l` with K near x's range; returns nothing about the outcome.
  void cond_jump(int x, int l);
  // Makes idx's model bound at most `limit` (or not quite, when baiting):
  // a mask, a modulo, a shift, or a branch to `skip`.  Returns the believed bound.
  uint64_t bound(int idx, uint64_t limit, int skip);
  // An offset for an access of `size` bytes into `space` bytes when the variable
  // part may reach `var`: at the edge, sometimes a byte past it.
  int32_t edge_off(int64_t space, int64_t var, int size);
  // A load, store or atomic of `size` bytes at base + off.
  void mem_access(int base, int32_t off, int size, uint32_t avoid, bool packet = false);
  // ---- map values ----
  void map_access_block();
  void value_access(int v);
  // bpf_map_lookup_elem, a NULL check of some kind, blocks using the value.
  void lookup_block(int depth);
  // ---- packet ----
  // `t` holds data + K (K bytes wanted): emits a bounds check whose fallthrough
  // is (believed) the checked path, jumping to `skip` otherwise.  Returns the
  // number of bytes the check proves, by the generator's belief.
  int64_t packet_check(int t, int64_t k, int skip);
  bool packets_usable();
  bool packet_load_into(int dst);
  void packet_access_block();
  // A bounds check on data + K around more blocks, which may rely on it.
  void packet_guard_block(int depth);
  // Paths that differ in what a register points to, joined, then an access:
  // state pruning must tell them apart.  Two lookups in maps of different
  // value sizes into one register; two bounds checks of different lengths.
  void two_lookups_block();
  void two_checks_block();
  void lookup_into_r0(int map, int32_t koff);  // r1 = map; r2 = fp + koff; call lookup
  // ---- stack ----
  void stack_access_block();
  void spill_fill_block();
  // ---- probes: accesses whose safety rests on the verifier's own arithmetic ----
  // A small scalar through a few ALU operations, then used as an index with no
  // bounds check of its own: only a verifier that tracks the arithmetic exactly
  // (or too generously) accepts it.
  void probe_block();
  void probe_ops(int x);  // 1-4 random ALU operations on x
  // base + idx (idx scaled now and then), idx not bounded here, into a map
  // value or the stack; `hint` is what the generator guesses idx may reach.
  void indexed_access(int idx, int64_t hint);
  // A narrow scalar spilled into a slot full of other bytes and filled back
  // at another width or offset, then used as an index.
  void partial_spill_block();
  // A scalar the runs vary over its edges (a packet byte or half, a masked
  // random number), in a new register; -1 when none is free.
  int varying_scalar(uint32_t avoid);
  void link_probe_block();       // x = y + c; bound x; index with y
  void reg_bound_probe_block();  // if x > y (y bounded); index with x
  void jset_probe_block();       // if x & ~(2^k - 1); index with x
  void packet_walk_block();      // p += stride in a loop, checked each step
  // ---- control ----
  void guard_block(int depth);
  // A counted loop: c = start; head: blocks; c += step; if c < n goto head.
  void loop_block(int depth);
  void call_block();
  // Things the verifier must refuse (mostly): context writes and variable
  // context offsets, 32-bit pointer arithmetic, data_end arithmetic, metadata.
  void mischief_block();
  ChoiceSource& c_;
  SoundnessGenOptions o_;
  std::vector<Insn> code_;
  std::vector<std::pair<size_t, int>> fix_;
  std::vector<int64_t> labels_;
  Model m_;
  uint32_t pinned_ = 0;
  int no_calls_ = 0;
  uint32_t vsize_[kSoundNumMaps] = {};
  uint32_t entries_ = 1;
  bool careful_ = false;
  std::vector<uint32_t> lens_;
  std::vector<uint64_t> values_;
};

}  // namespace userbpf::testing::soundgen
