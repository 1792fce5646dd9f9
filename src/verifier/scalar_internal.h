// The kernel's small bpf_reg_state setters, shared by the parts of the scalar
// domain (scalar.cpp, scalar_alu.cpp, scalar_branch.cpp).
#pragma once

#include <cstdint>

#include "verifier/scalar.h"

namespace userbpf::verifier::detail {

// __mark_reg_known
inline void mark_known(Scalar& r, uint64_t v) { r = Scalar::constant(v); }

// __mark_reg32_known: only the subregister becomes the constant.
inline void mark32_known(Scalar& r, uint64_t v) {
  r.var_off = r.var_off.const_subreg(static_cast<uint32_t>(v));
  r.s32_min = r.s32_max = static_cast<int32_t>(v);
  r.u32_min = r.u32_max = static_cast<uint32_t>(v);
}

inline void mark64_unbounded(Scalar& r) {
  r.smin = INT64_MIN;
  r.smax = INT64_MAX;
  r.umin = 0;
  r.umax = UINT64_MAX;
}

inline void mark32_unbounded(Scalar& r) {
  r.s32_min = INT32_MIN;
  r.s32_max = INT32_MAX;
  r.u32_min = 0;
  r.u32_max = UINT32_MAX;
}

// __mark_reg_unbounded: bounds forgotten, the tnum kept.
inline void mark_unbounded(Scalar& r) {
  mark64_unbounded(r);
  mark32_unbounded(r);
}

// zext_32_to_64 without the sync: high tnum bits zero, the 64-bit bounds copied
// from the 32-bit ones (signed only when they cannot be negative).
inline void zext_32_to_64(Scalar& r) {
  r.var_off = r.var_off.subreg();
  r.umin = r.u32_min;
  r.umax = r.u32_max;
  if (r.s32_min >= 0 && r.s32_max >= 0) {
    r.smin = r.s32_min;
    r.smax = r.s32_max;
  } else {
    r.smin = 0;
    r.smax = UINT32_MAX;
  }
}

// __update_reg_bounds / __update_reg32_bounds (scalar.cpp): what the tnum says
// of the bounds.
void update_bounds(Scalar& r);
void update_bounds32(Scalar& r);

// reg_bounds_sanity_check: no empty interval and a constant tnum agrees with
// the bounds.
inline bool bounds_sane(const Scalar& r) {
  if (r.umin > r.umax || r.smin > r.smax || r.u32_min > r.u32_max || r.s32_min > r.s32_max)
    return false;
  if (r.var_off.is_const()) {
    uint64_t v = r.var_off.value;
    if (r.umin != v || r.umax != v || r.smin != static_cast<int64_t>(v) ||
        r.smax != static_cast<int64_t>(v))
      return false;
  }
  if (r.var_off.subreg_is_const()) {
    auto v = static_cast<uint32_t>(r.var_off.value);
    if (r.u32_min != v || r.u32_max != v || r.s32_min != static_cast<int32_t>(v) ||
        r.s32_max != static_cast<int32_t>(v))
      return false;
  }
  return true;
}

}  // namespace userbpf::verifier::detail
