// Tristate numbers: what is known of each bit of a 64-bit value.  A bit is known
// (mask bit 0, value bit gives it) or unknown (mask bit 1, value bit 0).  The
// verifier's bit-level half of scalar knowledge; Scalar (scalar.h) pairs it with
// signed/unsigned intervals.  Operations over-approximate: for every x in a and y
// in b, op(x, y) is in op(a, b).
#pragma once

#include <cstdint>
#include <string>

namespace userbpf::verifier {

struct Tnum {
  uint64_t value = 0;
  uint64_t mask = ~uint64_t{0};  // default: nothing known

  static constexpr Tnum constant(uint64_t v) { return {v, 0}; }
  static constexpr Tnum unknown() { return {0, ~uint64_t{0}}; }
  // Smallest tnum holding every value of [min, max] (unsigned).
  static Tnum range(uint64_t min, uint64_t max);

  bool is_const() const { return mask == 0; }
  bool is_unknown() const { return mask == ~uint64_t{0}; }
  bool contains(uint64_t v) const { return (v & ~mask) == value; }
  // Every value of `other` is a value of this.
  bool subsumes(const Tnum& other) const {
    if (other.mask & ~mask) return false;
    return (other.value & ~mask) == value;
  }
  uint64_t umin() const { return value; }
  uint64_t umax() const { return value | mask; }
  bool operator==(const Tnum&) const = default;

  Tnum add(const Tnum& b) const;
  Tnum sub(const Tnum& b) const;
  Tnum mul(const Tnum& b) const;
  Tnum mul_slow(const Tnum& b) const;  // the shift-and-add loop behind mul()
  Tnum and_(const Tnum& b) const;
  Tnum or_(const Tnum& b) const;
  Tnum xor_(const Tnum& b) const;
  Tnum neg() const;
  Tnum lshift(uint8_t shift) const;
  Tnum rshift(uint8_t shift) const;
  // Arithmetic shift of the low `width` (32 or 64) bits; a 32-bit result is
  // zero-extended to 64 bits.
  Tnum arshift(uint8_t shift, uint8_t width) const;
  // Values in both (caller knows they intersect).
  Tnum intersect(const Tnum& b) const;
  // Every value of either (tnum union / join).
  Tnum join(const Tnum& b) const;
  // Low `bytes` bytes (1, 2, 4 or 8) zero-extended.
  Tnum cast(uint8_t bytes) const;
  Tnum subreg() const { return cast(4); }          // low 32 bits
  Tnum clear_subreg() const;                       // high 32 bits, low ones zero
  Tnum with_subreg(const Tnum& sub) const;         // high of this, low 32 of sub
  Tnum const_subreg(uint32_t v) const;             // high of this, low 32 = v
  bool subreg_is_const() const { return (mask & 0xffffffffu) == 0; }
  // Byte swap of the low `bits` (16, 32, 64) bits; higher bits become zero
  // (tnum_bswap16/32/64).
  Tnum bswap(uint8_t bits) const;
  // Some value is in both: the bits known in both agree (tnum_overlap).
  bool overlaps(const Tnum& b) const;
  // The smallest member greater than z (tnum_step); umax() when z >= umax(),
  // umin() when z < umin().
  uint64_t step(uint64_t z) const;

  // "(0x0; 0xff)" as the kernel prints var_off.
  std::string str() const;
};

}  // namespace userbpf::verifier
