// Tristate-number arithmetic with the kernel's algorithms (kernel/bpf/tnum.c), so
// that every transfer function loses exactly the precision the kernel loses.
#include "verifier/tnum.h"

#include <bit>
#include <cstdio>

namespace userbpf::verifier {

Tnum Tnum::range(uint64_t min, uint64_t max) {
  uint64_t chi = min ^ max;
  int bits = 64 - std::countl_zero(chi);  // fls64
  if (bits > 63) return unknown();         // 1 << 64 would be undefined
  uint64_t delta = (uint64_t{1} << bits) - 1;
  return {min & ~delta, delta};
}

Tnum Tnum::add(const Tnum& b) const {
  uint64_t sm = mask + b.mask;
  uint64_t sv = value + b.value;
  uint64_t sigma = sm + sv;
  uint64_t chi = sigma ^ sv;  // bits a carry could reach
  uint64_t mu = chi | mask | b.mask;
  return {sv & ~mu, mu};
}

Tnum Tnum::sub(const Tnum& b) const {
  uint64_t dv = value - b.value;
  uint64_t alpha = dv + mask;
  uint64_t beta = dv - b.mask;
  uint64_t chi = alpha ^ beta;  // bits a borrow could reach
  uint64_t mu = chi | mask | b.mask;
  return {dv & ~mu, mu};
}

// Long multiplication over the bits of this: a known-1 bit adds the shifted
// multiplicand, an unknown bit joins "added" and "not added" (the kernel's
// tnum_mul since 6.18).
Tnum Tnum::mul(const Tnum& b) const {
  // Fast path with the loop's exact result: an unknown times a non-zero
  // constant c is any multiple of c's lowest set bit.
  if (is_unknown() && b.is_const() && b.value != 0) return {0, ~uint64_t{0} << __builtin_ctzll(b.value)};
  if (is_const() && b.is_const()) return constant(value * b.value);
  // Loops multiply the same values again and again: remember the last product.
  struct Memo {
    Tnum a, b, r;
    bool valid = false;
  };
  thread_local Memo memo;
  if (memo.valid && memo.a == *this && memo.b == b) return memo.r;
  const Tnum r = mul_slow(b);
  memo = {*this, b, r, true};
  return r;
}

Tnum Tnum::mul_slow(const Tnum& b) const {
  Tnum a = *this;
  Tnum m = b;
  Tnum acc = constant(0);
  for (int shift = 0; a.value || a.mask; ++shift) {
    // m has `shift` low zero bits: once every bit of acc from there up is
    // unknown, adding m can change nothing any more.
    const uint64_t low = shift == 0 ? 0 : (~uint64_t{0} >> (64 - shift));
    if (shift < 64 && (acc.mask | low) == ~uint64_t{0}) break;
    if (a.value & 1)
      acc = acc.add(m);
    else if (a.mask & 1)
      acc = acc.join(acc.add(m));
    a = a.rshift(1);
    m = m.lshift(1);
  }
  return acc;
}

Tnum Tnum::and_(const Tnum& b) const {
  uint64_t alpha = value | mask;
  uint64_t beta = b.value | b.mask;
  uint64_t v = value & b.value;
  return {v, alpha & beta & ~v};
}

Tnum Tnum::or_(const Tnum& b) const {
  uint64_t v = value | b.value;
  uint64_t mu = mask | b.mask;
  return {v, mu & ~v};
}

Tnum Tnum::xor_(const Tnum& b) const {
  uint64_t v = value ^ b.value;
  uint64_t mu = mask | b.mask;
  return {v & ~mu, mu};
}

Tnum Tnum::neg() const { return constant(0).sub(*this); }

// Shift amounts are masked like the hardware does so that a caller's mistake is
// an imprecise result, never undefined behaviour.
Tnum Tnum::lshift(uint8_t shift) const {
  shift &= 63;
  return {value << shift, mask << shift};
}

Tnum Tnum::rshift(uint8_t shift) const {
  shift &= 63;
  return {value >> shift, mask >> shift};
}

Tnum Tnum::arshift(uint8_t shift, uint8_t width) const {
  if (width == 32) {
    shift &= 31;
    auto v = static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(value)) >> shift);
    auto m = static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(mask)) >> shift);
    return {v, m};
  }
  shift &= 63;
  return {static_cast<uint64_t>(static_cast<int64_t>(value) >> shift),
          static_cast<uint64_t>(static_cast<int64_t>(mask) >> shift)};
}

// Where a and b disagree on a known bit the result says 1 (kernel behaviour);
// callers only intersect tnums that share a value.
Tnum Tnum::intersect(const Tnum& b) const {
  uint64_t v = value | b.value;
  uint64_t mu = mask & b.mask;
  return {v & ~mu, mu};
}

Tnum Tnum::join(const Tnum& b) const {
  uint64_t v = value & b.value;
  uint64_t mu = (value ^ b.value) | mask | b.mask;  // disagreeing bits become unknown
  return {v & ~mu, mu};
}

Tnum Tnum::cast(uint8_t bytes) const {
  if (bytes >= 8) return *this;
  uint64_t keep = (uint64_t{1} << (bytes * 8)) - 1;
  return {value & keep, mask & keep};
}

Tnum Tnum::clear_subreg() const { return rshift(32).lshift(32); }

Tnum Tnum::with_subreg(const Tnum& sub) const { return clear_subreg().or_(sub.subreg()); }

Tnum Tnum::const_subreg(uint32_t v) const { return with_subreg(constant(v)); }

Tnum Tnum::bswap(uint8_t bits) const {
  switch (bits) {
    case 16:
      return {__builtin_bswap16(static_cast<uint16_t>(value)), __builtin_bswap16(static_cast<uint16_t>(mask))};
    case 32:
      return {__builtin_bswap32(static_cast<uint32_t>(value)), __builtin_bswap32(static_cast<uint32_t>(mask))};
    default:
      return {__builtin_bswap64(value), __builtin_bswap64(mask)};
  }
}

bool Tnum::overlaps(const Tnum& b) const {
  uint64_t known_in_both = ~mask & ~b.mask;
  return (value & known_in_both) == (b.value & known_in_both);
}

// Members are value + s for the submasks s of mask, so this is the smallest
// submask above d = z - value: fill d's low part (up to its highest bit outside
// the mask, which a larger submask must clear) and every non-mask bit with ones,
// and let +1 carry into the lowest free mask bit.
uint64_t Tnum::step(uint64_t z) const {
  uint64_t tmax = umax();
  if (z >= tmax) return tmax;
  if (z < value) return value;
  uint64_t d = z - value;
  int top = 64 - std::countl_zero(d & ~mask);  // z < tmax keeps this below 64
  uint64_t low = top >= 64 ? ~uint64_t{0} : (uint64_t{1} << top) - 1;
  uint64_t filled = d | low | ~mask;
  return value | ((filled + 1) & mask);
}

std::string Tnum::str() const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "(0x%llx; 0x%llx)", static_cast<unsigned long long>(value),
                static_cast<unsigned long long>(mask));
  return buf;
}

}  // namespace userbpf::verifier
