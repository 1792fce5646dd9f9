// ALU transfer functions of the scalar domain (adjust_scalar_min_max_vals and
// the MOV / NEG / END / movsx paths of check_alu_op, coerce_reg_to_size{,_sx})
// as in kernel/bpf/verifier.c of the 6.18 stable kernel.
#include <algorithm>
#include <limits>
#include <optional>

#include "userbpf/isa.h"
#include "verifier/scalar.h"
#include "verifier/scalar_internal.h"

namespace userbpf::verifier {

namespace op = isa::op;
using detail::mark32_known;
using detail::mark32_unbounded;
using detail::mark64_unbounded;
using detail::mark_known;
using detail::mark_unbounded;
using detail::update_bounds;
using detail::update_bounds32;
using detail::zext_32_to_64;

namespace {

// ---- ALU bounds (scalar{32,}_min_max_*) -------------------------------------------------

template <typename T>
bool add_ovf(T a, T b, T* out) {
  return __builtin_add_overflow(a, b, out);
}
template <typename T>
bool sub_ovf(T a, T b, T* out) {
  return __builtin_sub_overflow(a, b, out);
}
template <typename T>
bool mul_ovf(T a, T b, T* out) {
  return __builtin_mul_overflow(a, b, out);
}

// One routine for both widths: S/U are the signed/unsigned types; Bounds
// refers to the 32- or 64-bit fields of the destination, Src copies the
// source's.
template <typename S, typename U>
struct Bounds {
  S& smin;
  S& smax;
  U& umin;
  U& umax;
};
template <typename S, typename U>
struct Src {
  S smin, smax;
  U umin, umax;
};
Bounds<int64_t, uint64_t> b64(Scalar& r) { return {r.smin, r.smax, r.umin, r.umax}; }
Bounds<int32_t, uint32_t> b32(Scalar& r) { return {r.s32_min, r.s32_max, r.u32_min, r.u32_max}; }
Src<int64_t, uint64_t> s64(const Scalar& r) { return {r.smin, r.smax, r.umin, r.umax}; }
Src<int32_t, uint32_t> s32(const Scalar& r) { return {r.s32_min, r.s32_max, r.u32_min, r.u32_max}; }

template <typename S, typename U>
void bounds_add(Bounds<S, U> d, Src<S, U> s) {
  if (add_ovf(d.smin, s.smin, &d.smin) || add_ovf(d.smax, s.smax, &d.smax)) {
    d.smin = std::numeric_limits<S>::min();
    d.smax = std::numeric_limits<S>::max();
  }
  // All or none of the sums wrapping keeps the range; some wrapping loses it.
  bool min_ovf = add_ovf(d.umin, s.umin, &d.umin);
  bool max_ovf = add_ovf(d.umax, s.umax, &d.umax);
  if (!min_ovf && max_ovf) {
    d.umin = 0;
    d.umax = std::numeric_limits<U>::max();
  }
}

template <typename S, typename U>
void bounds_sub(Bounds<S, U> d, Src<S, U> s) {
  if (sub_ovf(d.smin, s.smax, &d.smin) || sub_ovf(d.smax, s.smin, &d.smax)) {
    d.smin = std::numeric_limits<S>::min();
    d.smax = std::numeric_limits<S>::max();
  }
  bool min_ovf = sub_ovf(d.umin, s.umax, &d.umin);
  bool max_ovf = sub_ovf(d.umax, s.umin, &d.umax);
  if (min_ovf && !max_ovf) {
    d.umin = 0;
    d.umax = std::numeric_limits<U>::max();
  }
}

template <typename S, typename U>
void bounds_mul(Bounds<S, U> d, Src<S, U> s) {
  if (mul_ovf(d.umax, s.umax, &d.umax) || mul_ovf(d.umin, s.umin, &d.umin)) {
    d.umin = 0;
    d.umax = std::numeric_limits<U>::max();
  }
  S p[4];
  if (mul_ovf(d.smin, s.smin, &p[0]) || mul_ovf(d.smin, s.smax, &p[1]) ||
      mul_ovf(d.smax, s.smin, &p[2]) || mul_ovf(d.smax, s.smax, &p[3])) {
    d.smin = std::numeric_limits<S>::min();
    d.smax = std::numeric_limits<S>::max();
  } else {
    d.smin = *std::min_element(p, p + 4);
    d.smax = *std::max_element(p, p + 4);
  }
}

// Signed bounds of a bitwise result: the unsigned ones when they stay within
// one sign half, else nothing.
template <typename S, typename U>
void signed_from_unsigned(Bounds<S, U> d) {
  if (static_cast<S>(d.umin) <= static_cast<S>(d.umax)) {
    d.smin = static_cast<S>(d.umin);
    d.smax = static_cast<S>(d.umax);
  } else {
    d.smin = std::numeric_limits<S>::min();
    d.smax = std::numeric_limits<S>::max();
  }
}

// AND / OR / XOR after var_off already holds the result tnum.
void bitwise32(uint8_t alu_op, Scalar& d, const Scalar& s) {
  Tnum t = d.var_off.subreg();
  if (s.var_off.subreg_is_const() && d.var_off.subreg_is_const()) {
    mark32_known(d, t.value);
    return;
  }
  if (alu_op == op::AND) {
    d.u32_min = static_cast<uint32_t>(t.value);  // bitwise minimum
    d.u32_max = std::min(d.u32_max, s.u32_max);
  } else if (alu_op == op::OR) {
    d.u32_min = std::max(d.u32_min, s.u32_min);
    d.u32_max = static_cast<uint32_t>(t.value | t.mask);
  } else {
    d.u32_min = static_cast<uint32_t>(t.value);
    d.u32_max = static_cast<uint32_t>(t.value | t.mask);
  }
  signed_from_unsigned(b32(d));
}

void bitwise64(uint8_t alu_op, Scalar& d, const Scalar& s) {
  if (s.var_off.is_const() && d.var_off.is_const()) {
    mark_known(d, d.var_off.value);
    return;
  }
  const Tnum& t = d.var_off;
  if (alu_op == op::AND) {
    d.umin = t.value;
    d.umax = std::min(d.umax, s.umax);
  } else if (alu_op == op::OR) {
    d.umin = std::max(d.umin, s.umin);
    d.umax = t.value | t.mask;
  } else {
    d.umin = t.value;
    d.umax = t.value | t.mask;
  }
  signed_from_unsigned(b64(d));
  update_bounds(d);
}

// __scalar32_min_max_lsh
void lsh32_bounds(Scalar& d, uint64_t umin_val, uint64_t umax_val) {
  d.s32_min = INT32_MIN;
  d.s32_max = INT32_MAX;
  if (umax_val > 31 || d.u32_max > (uint64_t{1} << (31 - umax_val))) {
    d.u32_min = 0;
    d.u32_max = UINT32_MAX;
  } else {
    d.u32_min <<= umin_val;
    d.u32_max <<= umax_val;
  }
}

// __scalar64_min_max_lsh; <<32 keeps the signed bounds (the compiler's
// "<<32 s>>32" sign-extension idiom).
void lsh64_bounds(Scalar& d, uint64_t umin_val, uint64_t umax_val) {
  if (umin_val == 32 && umax_val == 32) {
    d.smax = static_cast<int64_t>(static_cast<uint64_t>(static_cast<int64_t>(d.s32_max)) << 32);
    d.smin = static_cast<int64_t>(static_cast<uint64_t>(static_cast<int64_t>(d.s32_min)) << 32);
  } else {
    d.smax = INT64_MAX;
    d.smin = INT64_MIN;
  }
  if (d.umax > (uint64_t{1} << (63 - umax_val))) {
    d.umin = 0;
    d.umax = UINT64_MAX;
  } else {
    d.umin <<= umin_val;
    d.umax <<= umax_val;
  }
}

void shift32(uint8_t alu_op, Scalar& d, const Scalar& s) {
  uint32_t umin_val = s.u32_min, umax_val = s.u32_max;
  Tnum sub = d.var_off.subreg();
  if (alu_op == op::LSH) {
    lsh32_bounds(d, umin_val, umax_val);
    d.var_off = sub.lshift(static_cast<uint8_t>(umin_val)).subreg();
  } else if (alu_op == op::RSH) {
    d.s32_min = INT32_MIN;
    d.s32_max = INT32_MAX;
    d.var_off = sub.rshift(static_cast<uint8_t>(umin_val));
    d.u32_min >>= umax_val;
    d.u32_max >>= umin_val;
  } else {  // ARSH: the amount is a known constant here
    d.s32_min = d.s32_min >> umin_val;
    d.s32_max = d.s32_max >> umin_val;
    d.var_off = sub.arshift(static_cast<uint8_t>(umin_val), 32);
    d.u32_min = 0;
    d.u32_max = UINT32_MAX;
  }
  mark64_unbounded(d);
  update_bounds32(d);
}

void shift64(uint8_t alu_op, Scalar& d, const Scalar& s) {
  uint64_t umin_val = s.umin, umax_val = s.umax;
  if (alu_op == op::LSH) {
    lsh64_bounds(d, umin_val, umax_val);  // reads the unshifted 32-bit bounds
    lsh32_bounds(d, umin_val, umax_val);
    d.var_off = d.var_off.lshift(static_cast<uint8_t>(umin_val));
  } else if (alu_op == op::RSH) {
    d.smin = INT64_MIN;
    d.smax = INT64_MAX;
    d.var_off = d.var_off.rshift(static_cast<uint8_t>(umin_val));
    d.umin >>= umax_val;
    d.umax >>= umin_val;
    mark32_unbounded(d);
  } else {
    d.smin >>= umin_val;
    d.smax >>= umin_val;
    d.var_off = d.var_off.arshift(static_cast<uint8_t>(umin_val), 64);
    d.umin = 0;
    d.umax = UINT64_MAX;
    mark32_unbounded(d);
  }
  update_bounds(d);
}

// is_safe_to_compute_dst_reg_range: shifts need a known in-range amount;
// division and modulo are never tracked (6.18 leaves the result unknown, even
// for two constants).
bool safe_to_compute(uint8_t alu_op, const Scalar& s, bool alu32) {
  bool src_const = alu32 ? s.var_off.subreg_is_const() && s.s32_min == s.s32_max &&
                               s.u32_min == s.u32_max
                         : s.var_off.is_const() && s.smin == s.smax && s.umin == s.umax;
  switch (alu_op) {
    case op::ADD:
    case op::SUB:
    case op::AND:
    case op::OR:
    case op::XOR:
    case op::MUL:
      return true;
    case op::LSH:
    case op::RSH:
    case op::ARSH:
      return src_const && s.umax < (alu32 ? 32u : 64u);
    default:
      return false;
  }
}

// ---- narrowing and sign extension -----------------------------------------------

// coerce_reg_to_size: keep the low `size` bytes, zero-extended.
void coerce_to_size(Scalar& r, int size) {
  r.var_off = r.var_off.cast(static_cast<uint8_t>(size));
  uint64_t mask = (uint64_t{1} << (size * 8)) - 1;
  if ((r.umin & ~mask) == (r.umax & ~mask)) {
    r.umin &= mask;
    r.umax &= mask;
  } else {
    r.umin = 0;
    r.umax = mask;
  }
  r.smin = static_cast<int64_t>(r.umin);
  r.smax = static_cast<int64_t>(r.umax);
  if (size < 4) mark32_unbounded(r);
  r.sync();
}

int64_t sext(uint64_t v, int size) {
  switch (size) {
    case 1: return static_cast<int8_t>(v);
    case 2: return static_cast<int16_t>(v);
    default: return static_cast<int32_t>(v);
  }
}

// coerce_reg_to_size_sx (6.18): exact for constants and for a signed range whose
// values share their upper bits and whose low parts keep one sign; otherwise
// just the range of the narrow signed type.
void coerce_to_size_sx(Scalar& r, int size) {
  if (r.var_off.is_const()) {
    mark_known(r, static_cast<uint64_t>(sext(r.var_off.value, size)));
    return;
  }
  int bits = size * 8;
  uint64_t top_max = (static_cast<uint64_t>(r.smax) >> bits) << bits;
  uint64_t top_min = (static_cast<uint64_t>(r.smin) >> bits) << bits;
  if (top_max == top_min) {
    int64_t a = sext(static_cast<uint64_t>(r.smax), size);
    int64_t b = sext(static_cast<uint64_t>(r.smin), size);
    int64_t hi = std::max(a, b), lo = std::min(a, b);
    if ((hi >= 0) == (lo >= 0)) {
      r.smin = lo;
      r.smax = hi;
      r.umin = static_cast<uint64_t>(lo);
      r.umax = static_cast<uint64_t>(hi);
      r.s32_min = static_cast<int32_t>(lo);
      r.s32_max = static_cast<int32_t>(hi);
      r.u32_min = static_cast<uint32_t>(lo);
      r.u32_max = static_cast<uint32_t>(hi);
      r.var_off = Tnum::range(static_cast<uint64_t>(lo), static_cast<uint64_t>(hi));
      return;
    }
  }
  // set_sext64_default_val
  int64_t smax = size == 1 ? INT8_MAX : size == 2 ? INT16_MAX : INT32_MAX;
  r.smin = -smax - 1;
  r.smax = smax;
  r.s32_min = static_cast<int32_t>(-smax - 1);
  r.s32_max = static_cast<int32_t>(smax);
  r.umin = 0;
  r.umax = UINT64_MAX;
  r.u32_min = 0;
  r.u32_max = UINT32_MAX;
  r.var_off = Tnum::unknown();
}

// coerce_subreg_to_size_sx (6.18): the same on the subregister (size 1 or 2);
// the upper half is left for zext_32_to_64.
void coerce_subreg_to_size_sx(Scalar& r, int size) {
  if (r.var_off.is_const()) {
    auto v = static_cast<uint64_t>(sext(r.var_off.value, size));
    r.var_off = Tnum::constant(v);
    r.s32_min = r.s32_max = static_cast<int32_t>(v);
    r.u32_min = r.u32_max = static_cast<uint32_t>(v);
    return;
  }
  int bits = size * 8;
  uint32_t top_max = (static_cast<uint32_t>(r.s32_max) >> bits) << bits;
  uint32_t top_min = (static_cast<uint32_t>(r.s32_min) >> bits) << bits;
  if (top_max == top_min) {
    auto a = static_cast<int32_t>(sext(static_cast<uint32_t>(r.s32_max), size));
    auto b = static_cast<int32_t>(sext(static_cast<uint32_t>(r.s32_min), size));
    int32_t hi = std::max(a, b), lo = std::min(a, b);
    if ((lo >= 0) == (hi >= 0)) {
      r.s32_min = lo;
      r.s32_max = hi;
      r.u32_min = static_cast<uint32_t>(lo);
      r.u32_max = static_cast<uint32_t>(hi);
      r.var_off = Tnum::range(static_cast<uint64_t>(static_cast<int64_t>(lo)),
                              static_cast<uint64_t>(static_cast<int64_t>(hi)))
                      .subreg();
      return;
    }
  }
  // set_sext32_default_val
  r.s32_min = size == 1 ? INT8_MIN : INT16_MIN;
  r.s32_max = size == 1 ? INT8_MAX : INT16_MAX;
  r.u32_min = 0;
  r.u32_max = UINT32_MAX;
  r.var_off = Tnum::unknown().subreg();
}

// The concrete result of an ALU operation on two constants, when the verifier
// tracks it (DIV / MOD are never tracked; shifts only by less than the width).
std::optional<uint64_t> fold_constants(uint8_t alu_op, uint64_t x, uint64_t y, bool alu32) {
  const unsigned width = alu32 ? 32 : 64;
  if ((alu_op == op::LSH || alu_op == op::RSH || alu_op == op::ARSH) && y >= width) return std::nullopt;
  if (alu32) {
    const auto x32 = static_cast<uint32_t>(x), y32 = static_cast<uint32_t>(y);
    switch (alu_op) {
      case op::ADD: return static_cast<uint32_t>(x32 + y32);
      case op::SUB: return static_cast<uint32_t>(x32 - y32);
      case op::MUL: return static_cast<uint32_t>(x32 * y32);
      case op::AND: return x32 & y32;
      case op::OR: return x32 | y32;
      case op::XOR: return x32 ^ y32;
      case op::LSH: return static_cast<uint32_t>(x32 << y32);
      case op::RSH: return x32 >> y32;
      case op::ARSH: return static_cast<uint32_t>(static_cast<int32_t>(x32) >> y32);
      case op::NEG: return static_cast<uint32_t>(0u - x32);
      default: return std::nullopt;
    }
  }
  switch (alu_op) {
    case op::ADD: return x + y;
    case op::SUB: return x - y;
    case op::MUL: return x * y;
    case op::AND: return x & y;
    case op::OR: return x | y;
    case op::XOR: return x ^ y;
    case op::LSH: return x << y;
    case op::RSH: return x >> y;
    case op::ARSH: return static_cast<uint64_t>(static_cast<int64_t>(x) >> y);
    case op::NEG: return 0 - x;
    default: return std::nullopt;
  }
}

}  // namespace

// ---- ALU -----------------------------------------------------------------------------

// adjust_scalar_min_max_vals (and the BPF_MOV / BPF_NEG paths of check_alu_op).
Scalar Scalar::alu(uint8_t alu_op, const Scalar& a, const Scalar& b, bool alu32, bool is_signed) {
  (void)is_signed;  // sdiv/smod are as untracked as div/mod
  if (alu_op == op::MOV) {
    Scalar r = b;
    if (alu32) r.zext32();
    return r;
  }

  // Two constants (loops spend most of their time here): the tnum of a
  // constant result is exact, and the kernel's bounds sync pins every bound to
  // it, so the result is the concrete value.
  if (a.is_const() && b.is_const()) {
    if (auto r = fold_constants(alu_op, a.const_value(), b.const_value(), alu32)) return constant(*r);
  }
  Scalar d = a;
  if (alu_op == op::NEG) {
    // 0 - x through the subtraction bounds, the tnum by tnum_neg.
    mark_known(d, 0);
    bounds_sub(b32(d), s32(a));
    bounds_sub(b64(d), s64(a));
    d.var_off = a.var_off.neg();
  } else if (!safe_to_compute(alu_op, b, alu32)) {
    return unknown();  // not even zero-extended for alu32, as in the kernel
  } else {
    switch (alu_op) {
      case op::ADD:
        bounds_add(b32(d), s32(b));
        bounds_add(b64(d), s64(b));
        d.var_off = d.var_off.add(b.var_off);
        break;
      case op::SUB:
        bounds_sub(b32(d), s32(b));
        bounds_sub(b64(d), s64(b));
        d.var_off = d.var_off.sub(b.var_off);
        break;
      case op::MUL:
        d.var_off = d.var_off.mul(b.var_off);
        bounds_mul(b32(d), s32(b));
        bounds_mul(b64(d), s64(b));
        break;
      case op::AND:
      case op::OR:
      case op::XOR:
        d.var_off = alu_op == op::AND  ? d.var_off.and_(b.var_off)
                    : alu_op == op::OR ? d.var_off.or_(b.var_off)
                                       : d.var_off.xor_(b.var_off);
        bitwise32(alu_op, d, b);
        bitwise64(alu_op, d, b);
        break;
      default:  // LSH, RSH, ARSH
        if (alu32)
          shift32(alu_op, d, b);
        else
          shift64(alu_op, d, b);
        break;
    }
  }
  if (alu32) zext_32_to_64(d);
  d.sync();
  return d;
}

bool alu_fork(uint8_t alu_op, const Scalar& dst, const Scalar& src, Scalar& zero,
              Scalar& minus_one) {
  if ((alu_op != op::AND && alu_op != op::OR) || !src.var_off.is_const()) return false;
  zero = minus_one = dst;
  if (dst.smin == -1 && dst.smax == 0) {
    mark_known(zero, 0);
    mark_known(minus_one, UINT64_MAX);
  } else if (dst.s32_min == -1 && dst.s32_max == 0) {
    mark32_known(zero, 0);
    mark32_known(minus_one, UINT64_MAX);
  } else {
    return false;
  }
  return true;
}

Scalar Scalar::sign_extend(const Scalar& a, uint8_t from_bits, bool to32) {
  Scalar r = a;
  if (to32) {
    if (from_bits < 32) coerce_subreg_to_size_sx(r, from_bits / 8);
    r.zext32();
    return r;
  }
  if (from_bits < 64) coerce_to_size_sx(r, from_bits / 8);
  r.sync();
  return r;
}

// scalar_byte_swap: a swap moves the tnum's bytes and forgets the bounds; the
// 16/32-bit forms then truncate.  No zero-extension step: the truncation is it.
Scalar Scalar::endian(const Scalar& a, uint8_t bits, bool swap) {
  Scalar r = a;
  if (swap) {
    r.var_off = r.var_off.bswap(bits);
    mark_unbounded(r);
  }
  if (bits == 16 || bits == 32) coerce_to_size(r, bits / 8);
  r.sync();
  return r;
}

Scalar Scalar::from_load(uint8_t bytes, bool sign) { return unknown().truncate(bytes, sign); }

Scalar Scalar::truncate(uint8_t bytes, bool sign) const {
  Scalar r = *this;
  if (bytes >= 8) return r;
  if (sign) {
    coerce_to_size_sx(r, bytes);
    r.sync();
  } else {
    coerce_to_size(r, bytes);
  }
  return r;
}

}  // namespace userbpf::verifier
