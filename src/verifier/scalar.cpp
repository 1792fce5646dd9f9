// The scalar domain's core: construction, membership, bounds synchronisation
// (reg_bounds_sync) and printing, following kernel/bpf/verifier.c and
// kernel/bpf/log.c of the 6.18 stable kernel step for step so that the same
// programs verify.  ALU transfer functions: scalar_alu.cpp; branches:
// scalar_branch.cpp.
#include "verifier/scalar.h"

#include <algorithm>
#include <cstdio>

#include "verifier/scalar_internal.h"

namespace userbpf::verifier {

using detail::mark_known;
using detail::update_bounds;
using detail::update_bounds32;
using detail::zext_32_to_64;

// ---- reg_bounds_sync ------------------------------------------------------------

// __update_reg32_bounds: what the tnum says of the low 32 bits.
void detail::update_bounds32(Scalar& r) {
  Tnum t = r.var_off.subreg();
  r.s32_min = std::max(r.s32_min, static_cast<int32_t>(t.value | (t.mask & 0x80000000u)));
  r.s32_max = std::min(r.s32_max, static_cast<int32_t>(t.value | (t.mask & 0x7fffffffu)));
  r.u32_min = std::max(r.u32_min, static_cast<uint32_t>(t.value));
  r.u32_max = std::min(r.u32_max, static_cast<uint32_t>(t.value | t.mask));
}

namespace {

constexpr uint64_t kHigh32 = ~uint64_t{0xffffffff};

void update_bounds64(Scalar& r) {
  const Tnum t = r.var_off;
  r.smin = std::max(r.smin, static_cast<int64_t>(t.value | (t.mask & (uint64_t{1} << 63))));
  r.smax = std::min(r.smax, static_cast<int64_t>(t.value | (t.mask & ~(uint64_t{1} << 63))));
  r.umin = std::max(r.umin, t.value);
  r.umax = std::min(r.umax, t.value | t.mask);

  // Where the u64 range and the tnum share a single value, the register is
  // that constant (6.18 stable, "tnum has a single possible value").
  uint64_t next = t.step(r.umin);
  bool umin_in = t.contains(r.umin);
  uint64_t tmax = t.umax();
  if (umin_in && next > r.umax)
    mark_known(r, r.umin);
  else if (!umin_in && next == tmax)
    mark_known(r, tmax);
  else if (!umin_in && next <= r.umax && t.step(next) > r.umax)
    mark_known(r, next);
}

}  // namespace

void detail::update_bounds(Scalar& r) {
  update_bounds32(r);
  update_bounds64(r);
}

namespace {

// __reg32_deduce_bounds: 32-bit bounds from the 64-bit ones when the upper
// halves pin the low halves to one contiguous range, then s32 <-> u32.
void deduce_bounds32(Scalar& r) {
  auto tighten_u32 = [&](uint32_t lo, uint32_t hi) {
    r.u32_min = std::max(r.u32_min, lo);
    r.u32_max = std::min(r.u32_max, hi);
  };
  auto tighten_s32 = [&](int32_t lo, int32_t hi) {
    r.s32_min = std::max(r.s32_min, lo);
    r.s32_max = std::min(r.s32_max, hi);
  };
  auto lo_u = [](uint64_t v) { return static_cast<uint32_t>(v); };
  auto lo_s = [](uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); };
  auto smin_u = static_cast<uint64_t>(r.smin), smax_u = static_cast<uint64_t>(r.smax);

  if ((r.umin >> 32) == (r.umax >> 32)) {
    tighten_u32(lo_u(r.umin), lo_u(r.umax));
    if (lo_s(r.umin) <= lo_s(r.umax)) tighten_s32(lo_s(r.umin), lo_s(r.umax));
  }
  if ((r.smin >> 32) == (r.smax >> 32)) {
    if (lo_u(smin_u) <= lo_u(smax_u)) tighten_u32(lo_u(smin_u), lo_u(smax_u));
    if (lo_s(smin_u) <= lo_s(smax_u)) tighten_s32(lo_s(smin_u), lo_s(smax_u));
  }
  // Upper halves N and N+1 with the low halves going from negative to
  // non-negative: still one s32 range.
  if (static_cast<uint32_t>(r.umin >> 32) + 1 == static_cast<uint32_t>(r.umax >> 32) &&
      lo_s(r.umin) < 0 && lo_s(r.umax) >= 0)
    tighten_s32(lo_s(r.umin), lo_s(r.umax));
  if (static_cast<uint32_t>(smin_u >> 32) + 1 == static_cast<uint32_t>(smax_u >> 32) &&
      lo_s(smin_u) < 0 && lo_s(smax_u) >= 0)
    tighten_s32(lo_s(smin_u), lo_s(smax_u));
  if (static_cast<int32_t>(r.u32_min) <= static_cast<int32_t>(r.u32_max))
    tighten_s32(static_cast<int32_t>(r.u32_min), static_cast<int32_t>(r.u32_max));
  if (static_cast<uint32_t>(r.s32_min) <= static_cast<uint32_t>(r.s32_max)) {
    tighten_u32(static_cast<uint32_t>(r.s32_min), static_cast<uint32_t>(r.s32_max));
  } else if (r.u32_max < static_cast<uint32_t>(r.s32_min)) {
    // The u32 range meets only the non-negative part of the s32 range.
    r.s32_min = static_cast<int32_t>(r.u32_min);
    r.u32_max = std::min(r.u32_max, static_cast<uint32_t>(r.s32_max));
  } else if (static_cast<uint32_t>(r.s32_max) < r.u32_min) {
    // ... only the negative part.
    r.s32_max = static_cast<int32_t>(r.u32_max);
    r.u32_min = std::max(r.u32_min, static_cast<uint32_t>(r.s32_min));
  }
}

// __reg64_deduce_bounds: s64 <-> u64 when a range stays within one sign half,
// and the one-sided overlap of a u64 range with a sign-crossing s64 range.
void deduce_bounds64(Scalar& r) {
  if (static_cast<int64_t>(r.umin) <= static_cast<int64_t>(r.umax)) {
    r.smin = std::max(r.smin, static_cast<int64_t>(r.umin));
    r.smax = std::min(r.smax, static_cast<int64_t>(r.umax));
  }
  if (static_cast<uint64_t>(r.smin) <= static_cast<uint64_t>(r.smax)) {
    r.umin = std::max(r.umin, static_cast<uint64_t>(r.smin));
    r.umax = std::min(r.umax, static_cast<uint64_t>(r.smax));
  } else if (r.umax < static_cast<uint64_t>(r.smin)) {
    // The u64 range meets only the non-negative part of the s64 range.
    r.smin = static_cast<int64_t>(r.umin);
    r.umax = std::min(r.umax, static_cast<uint64_t>(r.smax));
  } else if (static_cast<uint64_t>(r.smax) < r.umin) {
    // ... only the negative part.
    r.smax = static_cast<int64_t>(r.umax);
    r.umin = std::max(r.umin, static_cast<uint64_t>(r.smin));
  }
}

// __reg_deduce_mixed_bounds: the 32-bit bounds tighten the low halves of the
// 64-bit ones; a sign-extended value with a non-negative subregister is small.
void deduce_mixed_bounds(Scalar& r) {
  uint64_t new_umin = (r.umin & kHigh32) | r.u32_min;
  uint64_t new_umax = (r.umax & kHigh32) | r.u32_max;
  r.umin = std::max(r.umin, new_umin);
  r.umax = std::min(r.umax, new_umax);
  auto new_smin = static_cast<int64_t>((static_cast<uint64_t>(r.smin) & kHigh32) | r.u32_min);
  auto new_smax = static_cast<int64_t>((static_cast<uint64_t>(r.smax) & kHigh32) | r.u32_max);
  r.smin = std::max(r.smin, new_smin);
  r.smax = std::min(r.smax, new_smax);

  if (r.s32_min >= 0 && r.smin >= INT32_MIN && r.smax <= INT32_MAX) {
    r.smin = r.s32_min;
    r.smax = r.s32_max;
    r.umin = static_cast<uint64_t>(r.s32_min);
    r.umax = static_cast<uint64_t>(r.s32_max);
    r.var_off = r.var_off.intersect(
        Tnum::range(static_cast<uint64_t>(r.smin), static_cast<uint64_t>(r.smax)));
  }
}

void deduce_bounds(Scalar& r) {
  deduce_bounds32(r);
  deduce_bounds64(r);
  deduce_mixed_bounds(r);
}

// __reg_bound_offset: bits the unsigned ranges pin down.
void bound_offset(Scalar& r) {
  Tnum var64 = r.var_off.intersect(Tnum::range(r.umin, r.umax));
  Tnum var32 = var64.subreg().intersect(Tnum::range(r.u32_min, r.u32_max));
  r.var_off = var64.clear_subreg().or_(var32);
}

}  // namespace

// ---- construction and queries ----------------------------------------------------

Scalar Scalar::constant(uint64_t v) {
  Scalar r;
  r.var_off = Tnum::constant(v);
  r.smin = r.smax = static_cast<int64_t>(v);
  r.umin = r.umax = v;
  r.s32_min = r.s32_max = static_cast<int32_t>(static_cast<uint32_t>(v));
  r.u32_min = r.u32_max = static_cast<uint32_t>(v);
  return r;
}

Scalar Scalar::urange(uint64_t lo, uint64_t hi) {
  Scalar r;
  r.umin = lo;
  r.umax = hi;
  r.sync();
  return r;
}

Scalar Scalar::srange(int64_t lo, int64_t hi) {
  Scalar r;
  r.smin = lo;
  r.smax = hi;
  r.sync();
  return r;
}

bool Scalar::is_unknown() const { return *this == Scalar{}; }

bool Scalar::contains(uint64_t v) const {
  auto s = static_cast<int64_t>(v);
  auto u32 = static_cast<uint32_t>(v);
  auto s32 = static_cast<int32_t>(u32);
  return var_off.contains(v) && umin <= v && v <= umax && smin <= s && s <= smax &&
         u32_min <= u32 && u32 <= u32_max && s32_min <= s32 && s32 <= s32_max;
}

// range_within + tnum_in, as regsafe() compares scalars.
bool Scalar::subsumes(const Scalar& o) const {
  return umin <= o.umin && o.umax <= umax && smin <= o.smin && o.smax <= smax &&
         u32_min <= o.u32_min && o.u32_max <= u32_max && s32_min <= o.s32_min &&
         o.s32_max <= s32_max && var_off.subsumes(o.var_off);
}

void Scalar::sync() {
  // Constants are most of what loops compute: when the bounds already hold the
  // value, the full sequence below ends with every bound equal to it.
  if (var_off.mask == 0) {
    const uint64_t v = var_off.value;
    const auto v32 = static_cast<uint32_t>(v);
    if (umin <= v && v <= umax && smin <= static_cast<int64_t>(v) && static_cast<int64_t>(v) <= smax &&
        u32_min <= v32 && v32 <= u32_max && s32_min <= static_cast<int32_t>(v32) && static_cast<int32_t>(v32) <= s32_max) {
      umin = umax = v;
      smin = smax = static_cast<int64_t>(v);
      u32_min = u32_max = v32;
      s32_min = s32_max = static_cast<int32_t>(v32);
      return;
    }
  }
  update_bounds(*this);
  // Each pass can enable another (32 <-> 64, signed <-> unsigned); the kernel
  // runs three.
  for (int i = 0; i < 3; ++i) {
    const Scalar before = *this;
    deduce_bounds(*this);
    if (*this == before) break;  // a pass that changes nothing ends the sequence
  }
  bound_offset(*this);
  update_bounds(*this);
}

void Scalar::zext32() {
  zext_32_to_64(*this);
  sync();
}

Scalar Scalar::join(const Scalar& b) const {
  Scalar r;
  r.var_off = var_off.join(b.var_off);
  r.smin = std::min(smin, b.smin);
  r.smax = std::max(smax, b.smax);
  r.umin = std::min(umin, b.umin);
  r.umax = std::max(umax, b.umax);
  r.s32_min = std::min(s32_min, b.s32_min);
  r.s32_max = std::max(s32_max, b.s32_max);
  r.u32_min = std::min(u32_min, b.u32_min);
  r.u32_max = std::max(u32_max, b.u32_max);
  r.sync();
  return r;
}


// ---- printing ---------------------------------------------------------------------------

namespace {

// The log's number style: decimal for small magnitudes, else hex.
std::string snum(int64_t v) {
  char buf[32];
  if (v >= INT16_MIN && v <= INT16_MAX)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string unum(uint64_t v) {
  char buf[32];
  if (v <= UINT16_MAX)
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

// print_scalar_ranges: equal bounds share one value ("smin=umin=0"), bounds that
// say nothing are left out, and the tnum follows unless unknown.
std::string Scalar::str() const {
  if (var_off.is_const()) return snum(static_cast<int64_t>(var_off.value));
  auto s32v = [](int32_t v) {
    return v >= INT16_MIN && v <= INT16_MAX ? static_cast<uint64_t>(static_cast<int64_t>(v))
                                            : static_cast<uint64_t>(static_cast<uint32_t>(v));
  };
  struct Field {
    const char* name;
    uint64_t val;
    bool omit;
  } f[] = {
      {"smin", static_cast<uint64_t>(smin), smin == INT64_MIN},
      {"smax", static_cast<uint64_t>(smax), smax == INT64_MAX},
      {"umin", umin, umin == 0},
      {"umax", umax, umax == UINT64_MAX},
      {"smin32", s32v(s32_min), s32_min == INT32_MIN},
      {"smax32", s32v(s32_max), s32_max == INT32_MAX},
      {"umin32", u32_min, u32_min == 0},
      {"umax32", u32_max, u32_max == UINT32_MAX},
  };
  std::string out;
  for (size_t i = 0; i < std::size(f); ++i) {
    if (f[i].omit) continue;
    bool neg1 = f[i].name[0] == 's' && static_cast<int64_t>(f[i].val) < 0;
    if (!out.empty()) out += ',';
    out += f[i].name;
    out += '=';
    for (size_t j = i + 2; j < std::size(f); j += 2) {
      if (f[j].omit || f[j].val != f[i].val) continue;
      bool neg2 = f[j].name[0] == 's' && static_cast<int64_t>(f[j].val) < 0;
      if (neg1 != neg2) continue;  // -1 and 0xffffffff are not one number
      f[j].omit = true;
      out += f[j].name;
      out += '=';
    }
    out += f[i].name[0] == 's' ? snum(static_cast<int64_t>(f[i].val)) : unum(f[i].val);
  }
  if (!var_off.is_unknown()) {
    if (!out.empty()) out += ',';
    out += "var_off=" + var_off.str();
  }
  return out;
}


}  // namespace userbpf::verifier
