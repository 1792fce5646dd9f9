// What the verifier knows of a scalar (or of a pointer's variable offset): a tnum
// plus signed and unsigned bounds over 64 and 32 bits, kept consistent with each
// other (the kernel's bpf_reg_state value fields and reg_bounds_sync).  Every
// transfer function over-approximates the concrete operation: for all concrete
// x in a, y in b, op(x, y) is in alu(op, a, b).  Precision follows the kernel's
// verifier (kernel/bpf/verifier.c, scalar_min_max_* and reg_set_min_max) so that
// the same programs verify.
#pragma once

#include <cstdint>
#include <string>

#include "verifier/tnum.h"

namespace userbpf::verifier {

struct Scalar {
  Tnum var_off = Tnum::unknown();
  int64_t smin = INT64_MIN, smax = INT64_MAX;
  uint64_t umin = 0, umax = UINT64_MAX;
  int32_t s32_min = INT32_MIN, s32_max = INT32_MAX;
  uint32_t u32_min = 0, u32_max = UINT32_MAX;

  static Scalar unknown() { return {}; }
  static Scalar constant(uint64_t v);
  // Unsigned 64-bit range [lo, hi] (tnum and the other bounds derived).
  static Scalar urange(uint64_t lo, uint64_t hi);
  // Signed 64-bit range [lo, hi].
  static Scalar srange(int64_t lo, int64_t hi);

  bool is_const() const { return var_off.is_const(); }
  uint64_t const_value() const { return var_off.value; }
  bool subreg_is_const() const { return var_off.subreg_is_const(); }
  bool is_unknown() const;  // nothing known at all
  // `v` is a possible concrete value: inside every bound and the tnum.
  bool contains(uint64_t v) const;
  // Every value of `other` is a value of this (for state pruning: an old, safe
  // state subsumes a new one).  Compares all four intervals and the tnum.
  bool subsumes(const Scalar& other) const;
  bool operator==(const Scalar&) const = default;

  // reg_bounds_sync: bring the five views into agreement (tnum <-> bounds,
  // 32 <-> 64 bit, signed <-> unsigned).  Call after changing any field.
  void sync();
  // Result of a 32-bit operation: the high 32 bits become zero and the 64-bit
  // bounds follow the 32-bit ones (zext_32_to_64 + sync).
  void zext32();
  // The 32-bit bounds derived from the 64-bit ones only (after 64-bit ops).
  // sync() already does this; exposed for tests.

  // ALU transfer function.  `alu_op` is isa::op::ADD ... isa::op::ARSH, MOV (b
  // copied), NEG (b ignored), DIV / MOD (eBPF semantics: x/0 = 0, x%0 = x; with
  // `is_signed` the sdiv/smod of cpu v4, off == 1).  `alu32` operates on the low
  // 32 bits and zero-extends.  Shifts by an amount that may be >= the width give
  // an unknown result (the kernel's rule), never UB.
  // Precision is the 6.18 kernel's: shifts are tracked only for a constant,
  // in-range amount and DIV / MOD not at all (even for two constants); such a
  // result is unknown in all 64 bits, also for alu32 (the kernel returns before
  // zero-extending).  BPF_END goes through endian(), not here.
  static Scalar alu(uint8_t alu_op, const Scalar& a, const Scalar& b, bool alu32, bool is_signed = false);
  // movsx (cpu v4): sign-extend the low `from_bits` (8, 16, 32) to 64 bits, or to
  // 32 bits and zero-extend when `to32`.
  static Scalar sign_extend(const Scalar& a, uint8_t from_bits, bool to32);
  // Byte swaps: le16/le32/le64 truncate (x86 is little-endian), be* and bswap* swap.
  // `bits` 16/32/64; `swap` whether bytes are reversed.
  static Scalar endian(const Scalar& a, uint8_t bits, bool swap);
  // A load of `bytes` bytes (zero-extended) or, with `sign`, sign-extended
  // (ldxs): the range of values such a load can produce.
  static Scalar from_load(uint8_t bytes, bool sign);
  // The value truncated to `bytes` bytes then zero- or sign-extended (a narrow
  // fill of a spilled scalar, coerce_reg_to_size).
  Scalar truncate(uint8_t bytes, bool sign) const;

  // Join: every value of either (used where two paths' knowledge is merged).
  Scalar join(const Scalar& b) const;

  // "smin=..,smax=..,umin=..,umax=..,var_off=(..; ..)" leaving out bounds that
  // say nothing, or the constant for constants (kernel-log style).
  std::string str() const;
};

// maybe_fork_scalars: before AND / OR with a constant source the kernel splits a
// destination known to be in [-1, 0] (by its 64-bit signed bounds, else by its
// 32-bit ones) into two verifier states, one with the destination 0 and one
// with -1 (only the subregister for the 32-bit case), and runs the instruction
// on each.  Returns true and sets both inputs when that split applies; alu() on
// the unsplit input is still sound, only less precise than the kernel.
bool alu_fork(uint8_t alu_op, const Scalar& dst, const Scalar& src, Scalar& zero, Scalar& minus_one);

// Conditional jump comparisons.  `jmp_op` is isa::op::JEQ ... JSLE (JSET too);
// `is32` for JMP32 (compare the low 32 bits).
// 1: always taken for every pair of values, 0: never, -1: depends.
// Passing the same object as a and b means one register compared with itself.
int branch_taken(const Scalar& a, const Scalar& b, uint8_t jmp_op, bool is32);
// Narrow a and b to the values for which (a op b) == taken holds
// (reg_set_min_max).  Returns false when no pair of values satisfies it (the
// branch is dead).  Both are left sync()ed.
// As in the kernel: a side branch_taken() decides is dead (false) or followed
// unrefined (true); a side whose refinement contradicts itself, which
// branch_taken() could not see, is still returned live with that register's
// bounds forgotten (reg_bounds_sanity_check), so such dead code is checked like
// the kernel checks it.
bool refine_branch(Scalar& a, Scalar& b, uint8_t jmp_op, bool is32, bool taken);

}  // namespace userbpf::verifier
