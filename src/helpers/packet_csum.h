// Internet checksum arithmetic as the kernel does it on x86-64 (include/net/checksum.h,
// arch/x86/include/asm/checksum_64.h), for the packet helpers.  Values are raw
// memory contents read as little-endian host integers, like the kernel's
// __wsum / __sum16 on a little-endian machine.  Internal to src/helpers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace userbpf::helpers::csum {

// 32-bit ones' complement add with end-around carry.
inline uint32_t add(uint32_t a, uint32_t b) {
  const uint32_t r = a + b;
  return r + (r < b);
}
inline uint32_t sub(uint32_t a, uint32_t b) { return add(a, ~b); }

// The buffer summed as little-endian 32-bit words (a short tail zero padded),
// plus seed, folded to 32 bits: csum_partial's value modulo 2^32 - 1.
inline uint32_t partial(const uint8_t* p, size_t len, uint32_t seed) {
  uint64_t s = seed;
  size_t i = 0;
  for (; i + 4 <= len; i += 4)
    s += static_cast<uint64_t>(p[i]) | static_cast<uint64_t>(p[i + 1]) << 8 | static_cast<uint64_t>(p[i + 2]) << 16 |
         static_cast<uint64_t>(p[i + 3]) << 24;
  uint64_t tail = 0;
  for (size_t k = 0; i < len; ++i, ++k) tail |= static_cast<uint64_t>(p[i]) << (8 * k);
  s += tail;
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

// csum_fold: 32 -> 16 bits with end-around carry, complemented.
inline uint16_t fold(uint32_t sum) {
  uint32_t s = (sum & 0xffff) + (sum >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

// csum_from32to16: 32 -> 16 bits, not complemented (bpf_csum_diff's result).
inline uint16_t from32to16(uint32_t sum) {
  sum += (sum >> 16) | (sum << 16);
  return static_cast<uint16_t>(sum >> 16);
}

inline uint16_t add16(uint16_t a, uint16_t b) {
  const uint16_t r = static_cast<uint16_t>(a + b);
  return static_cast<uint16_t>(r + (r < b));
}
inline uint16_t sub16(uint16_t a, uint16_t b) { return add16(a, static_cast<uint16_t>(~b)); }

// csum_replace4 / csum_replace2 / csum_replace_by_diff on a stored checksum.
inline uint16_t replace4(uint16_t sum, uint32_t from, uint32_t to) {
  return fold(add(sub(~static_cast<uint32_t>(sum), from), to));
}
inline uint16_t replace2(uint16_t sum, uint16_t from, uint16_t to) {
  return static_cast<uint16_t>(~add16(sub16(static_cast<uint16_t>(~sum), from), to));
}
inline uint16_t replace_by_diff(uint16_t sum, uint32_t diff) { return fold(add(diff, ~static_cast<uint32_t>(sum))); }

}  // namespace userbpf::helpers::csum
