// strtol / strtoul / strncmp with the kernel's rules (kernel/bpf/helpers.c and
// lib/kstrtox.c): leading white space, one optional '-', base 0/8/10/16 with
// an optional 0x prefix for 16, at most 63 characters after the sign looked at,
// overflow reported as -ERANGE.
#include <linux/bpf.h>

#include <cstring>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

constexpr uint64_t kBaseMask = 0x1f;  // BPF_STRTOX_BASE_MASK
constexpr size_t kMaxDigits = 63;     // the kernel copies into a char[64]

// The kernel's isspace(): ASCII white space and Latin-1 NBSP.
bool k_isspace(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0; }
bool k_isxdigit(char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// Characters consumed (> 0) with the magnitude in res and the sign in neg, or -errno.
long parse_ull(const vm::ExecContext* ctx, uint64_t buf, uint64_t buf_len, uint64_t flags, uint64_t& res, bool& neg) {
  unsigned base = static_cast<unsigned>(flags & kBaseMask);
  if (buf_len == 0) return -EINVAL;
  if (base != 0 && base != 8 && base != 10 && base != 16) return -EINVAL;
  if (flags & ~kBaseMask) return -EINVAL;
  const uint8_t* p = program_read_ptr(ctx, buf, buf_len);
  if (!p) return -EFAULT;
  size_t i = 0;
  while (i < buf_len && k_isspace(p[i])) ++i;
  neg = i < buf_len && p[i] == '-';
  if (neg) ++i;
  if (i == buf_len) return -EINVAL;
  // A NUL-terminated copy bounds every look-ahead below.
  char str[kMaxDigits + 1];
  const size_t n = std::min<size_t>(buf_len - i, kMaxDigits);
  std::memcpy(str, p + i, n);
  str[n] = '\0';
  const char* s = str;
  if (base == 0) base = s[0] != '0' ? 10 : ((s[1] | 0x20) == 'x' && k_isxdigit(s[2])) ? 16 : 8;
  if (base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x') s += 2;
  uint64_t v = 0;
  size_t digits = 0;
  bool overflow = false;
  for (;; ++s, ++digits) {
    const char c = *s;
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = static_cast<unsigned>((c | 0x20) - 'a' + 10);
    else break;
    if (d >= base) break;
    if (v > (UINT64_MAX - d) / base) overflow = true;
    v = v * base + d;
  }
  if (overflow) return -ERANGE;
  if (digits == 0) return -EINVAL;
  res = v;
  return static_cast<long>(i + static_cast<size_t>(s - str));
}

// long bpf_strtol(buf, buf_len, flags, long *res)
uint64_t strtol_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  uint8_t* out = program_write_ptr(ctx, r4, 8);
  if (!out) return err(EFAULT);
  uint64_t mag = 0;
  bool neg = false;
  const long n = parse_ull(ctx, r1, r2, r3, mag, neg);
  if (n < 0) return ret(n);
  // The magnitude must fit the sign: LONG_MIN is fine, LONG_MAX + 1 is not.
  const int64_t v = static_cast<int64_t>(neg ? 0 - mag : mag);
  if (neg ? v > 0 : v < 0) return err(ERANGE);
  std::memcpy(out, &v, 8);
  return ret(n);
}

// long bpf_strtoul(buf, buf_len, flags, unsigned long *res): a '-' is -EINVAL.
uint64_t strtoul_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  uint8_t* out = program_write_ptr(ctx, r4, 8);
  if (!out) return err(EFAULT);
  uint64_t v = 0;
  bool neg = false;
  const long n = parse_ull(ctx, r1, r2, r3, v, neg);
  if (n < 0) return ret(n);
  if (neg) return err(EINVAL);
  std::memcpy(out, &v, 8);
  return ret(n);
}

// long bpf_strncmp(s1, s1_sz, s2): the kernel's strncmp, -1 / 0 / 1.
uint64_t strncmp_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const uint32_t n = static_cast<uint32_t>(r2);
  const uint8_t* s1 = program_read_ptr(ctx, r1, n);
  if (!s1) return err(EFAULT);
  const uint64_t s2_extent = n ? accessible_extent(*ctx, r3, false) : 0;
  const uint8_t* s2 = reinterpret_cast<const uint8_t*>(r3);
  for (uint32_t i = 0; i < n; ++i) {
    if (i >= s2_extent) return err(EFAULT);  // s2 runs off its memory before its NUL
    const uint8_t a = s1[i], b = s2[i];
    if (a != b) return a < b ? ret(-1) : 1;
    if (a == 0) break;
  }
  return 0;
}

}  // namespace

void register_string_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_strtol, strtol_helper);
  add(reg, BPF_FUNC_strtoul, strtoul_helper);
  add(reg, BPF_FUNC_strncmp, strncmp_helper);
}

}  // namespace userbpf::helpers::detail
