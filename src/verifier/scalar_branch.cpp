// Conditional jumps over scalars: whether a branch is decided
// (is_scalar_branch_taken) and what each side learns (regs_refine_cond_op via
// reg_set_min_max), as in kernel/bpf/verifier.c of the 6.18 kernel.
#include <algorithm>
#include <bit>
#include <utility>

#include "userbpf/isa.h"
#include "verifier/scalar.h"
#include "verifier/scalar_internal.h"

namespace userbpf::verifier {

namespace op = isa::op;

namespace {

// The false side of JSET has no eBPF opcode; the kernel marks it with BPF_X.
constexpr uint8_t kJsetFalse = op::JSET | op::X;

bool is_const(const Scalar& r, bool is32) {
  return is32 ? r.var_off.subreg_is_const() : r.var_off.is_const();
}

uint64_t const_value(const Scalar& r, bool is32) {
  return is32 ? r.var_off.subreg().value : r.var_off.value;
}

// "a op b" rewritten as "b op' a".
uint8_t flip_opcode(uint8_t jmp_op) {
  switch (jmp_op) {
    case op::JGE: return op::JLE;
    case op::JGT: return op::JLT;
    case op::JLE: return op::JGE;
    case op::JLT: return op::JGT;
    case op::JSGE: return op::JSLE;
    case op::JSGT: return op::JSLT;
    case op::JSLE: return op::JSGE;
    case op::JSLT: return op::JSGT;
    default: return jmp_op;  // JEQ, JNE, JSET
  }
}

// The condition that holds on the fall-through side.
uint8_t rev_opcode(uint8_t jmp_op) {
  switch (jmp_op) {
    case op::JEQ: return op::JNE;
    case op::JNE: return op::JEQ;
    case op::JSET: return kJsetFalse;
    case kJsetFalse: return op::JSET;
    case op::JGE: return op::JLT;
    case op::JGT: return op::JLE;
    case op::JLE: return op::JGT;
    case op::JLT: return op::JGE;
    case op::JSGE: return op::JSLT;
    case op::JSGT: return op::JSLE;
    case op::JSLE: return op::JSGT;
    case op::JSLT: return op::JSGE;
    default: return 0;
  }
}

// Comparing a register with itself.
int same_reg_taken(const Scalar& r, uint8_t jmp_op, bool is32) {
  switch (jmp_op) {
    case op::JGE:
    case op::JLE:
    case op::JSGE:
    case op::JSLE:
    case op::JEQ:
      return 1;
    case op::JGT:
    case op::JLT:
    case op::JSGT:
    case op::JSLT:
    case op::JNE:
      return 0;
    case op::JSET: {
      Tnum t = is32 ? r.var_off.subreg() : r.var_off;
      if (t.is_const()) return t.value != 0;
      int64_t smin = is32 ? r.s32_min : r.smin, smax = is32 ? r.s32_max : r.smax;
      return smin <= 0 && smax >= 0 ? -1 : 1;
    }
    default:
      return -1;
  }
}

// JEQ / JNE: 1 when the two can never be equal.
bool never_equal(const Scalar& a, const Scalar& b, bool is32) {
  Tnum t1 = is32 ? a.var_off.subreg() : a.var_off;
  Tnum t2 = is32 ? b.var_off.subreg() : b.var_off;
  if (!t1.overlaps(t2)) return true;
  uint64_t umin1 = is32 ? a.u32_min : a.umin, umax1 = is32 ? a.u32_max : a.umax;
  uint64_t umin2 = is32 ? b.u32_min : b.umin, umax2 = is32 ? b.u32_max : b.umax;
  int64_t smin1 = is32 ? a.s32_min : a.smin, smax1 = is32 ? a.s32_max : a.smax;
  int64_t smin2 = is32 ? b.s32_min : b.smin, smax2 = is32 ? b.s32_max : b.smax;
  if (umin1 > umax2 || umax1 < umin2) return true;
  if (smin1 > smax2 || smax1 < smin2) return true;
  if (!is32) {
    // The subregisters can rule equality out where the 64-bit ranges cannot.
    if (a.u32_min > b.u32_max || a.u32_max < b.u32_min) return true;
    if (a.s32_min > b.s32_max || a.s32_max < b.s32_min) return true;
  }
  return false;
}

// regs_refine_cond_op: narrow r1 and r2 to the values where "r1 op r2" holds.
void refine_cond_op(Scalar* r1, Scalar* r2, uint8_t jmp_op, bool is32) {
  switch (jmp_op) {  // GE/GT/SGE/SGT reuse the LE/LT/SLE/SLT code
    case op::JGE:
    case op::JGT:
    case op::JSGE:
    case op::JSGT:
      jmp_op = flip_opcode(jmp_op);
      std::swap(r1, r2);
      break;
    default:
      break;
  }

  switch (jmp_op) {
    case op::JEQ:
      if (is32) {
        r1->u32_min = std::max(r1->u32_min, r2->u32_min);
        r1->u32_max = std::min(r1->u32_max, r2->u32_max);
        r1->s32_min = std::max(r1->s32_min, r2->s32_min);
        r1->s32_max = std::min(r1->s32_max, r2->s32_max);
        r2->u32_min = r1->u32_min;
        r2->u32_max = r1->u32_max;
        r2->s32_min = r1->s32_min;
        r2->s32_max = r1->s32_max;
        Tnum t = r1->var_off.subreg().intersect(r2->var_off.subreg());
        r1->var_off = r1->var_off.with_subreg(t);
        r2->var_off = r2->var_off.with_subreg(t);
      } else {
        r1->umin = std::max(r1->umin, r2->umin);
        r1->umax = std::min(r1->umax, r2->umax);
        r1->smin = std::max(r1->smin, r2->smin);
        r1->smax = std::min(r1->smax, r2->smax);
        r2->umin = r1->umin;
        r2->umax = r1->umax;
        r2->smin = r1->smin;
        r2->smax = r1->smax;
        r1->var_off = r1->var_off.intersect(r2->var_off);
        r2->var_off = r1->var_off;
      }
      break;
    case op::JNE: {
      // Only a constant that sits on an edge of the other's range helps.
      if (!is_const(*r2, is32)) std::swap(r1, r2);
      if (!is_const(*r2, is32)) break;
      uint64_t val = const_value(*r2, is32);
      if (is32) {
        if (r1->u32_min == static_cast<uint32_t>(val)) r1->u32_min++;
        if (r1->u32_max == static_cast<uint32_t>(val)) r1->u32_max--;
        if (r1->s32_min == static_cast<int32_t>(val)) r1->s32_min++;
        if (r1->s32_max == static_cast<int32_t>(val)) r1->s32_max--;
      } else {
        if (r1->umin == val) r1->umin++;
        if (r1->umax == val) r1->umax--;
        if (r1->smin == static_cast<int64_t>(val)) r1->smin++;
        if (r1->smax == static_cast<int64_t>(val)) r1->smax--;
      }
      break;
    }
    case op::JSET: {
      if (!is_const(*r2, is32)) std::swap(r1, r2);
      if (!is_const(*r2, is32)) break;
      uint64_t val = const_value(*r2, is32);
      // "Some bit of val is set" pins a bit only when val has a single one.
      if (!std::has_single_bit(val)) break;
      if (is32)
        r1->var_off = r1->var_off.with_subreg(r1->var_off.subreg().or_(Tnum::constant(val)));
      else
        r1->var_off = r1->var_off.or_(Tnum::constant(val));
      break;
    }
    case kJsetFalse: {
      if (!is_const(*r2, is32)) std::swap(r1, r2);
      if (!is_const(*r2, is32)) break;
      uint64_t val = const_value(*r2, is32);
      // The kernel forgets the ranges first so a dead branch cannot leave
      // contradicting bounds behind.
      detail::mark_unbounded(*r1);
      if (is32)
        r1->var_off = r1->var_off.with_subreg(r1->var_off.subreg().and_(Tnum::constant(~val)));
      else
        r1->var_off = r1->var_off.and_(Tnum::constant(~val));
      break;
    }
    case op::JLE:
      if (is32) {
        r1->u32_max = std::min(r1->u32_max, r2->u32_max);
        r2->u32_min = std::max(r1->u32_min, r2->u32_min);
      } else {
        r1->umax = std::min(r1->umax, r2->umax);
        r2->umin = std::max(r1->umin, r2->umin);
      }
      break;
    case op::JLT:  // the +-1 wrap only happens on branches is_branch_taken rules out
      if (is32) {
        r1->u32_max = std::min(r1->u32_max, r2->u32_max - 1);
        r2->u32_min = std::max(r1->u32_min + 1, r2->u32_min);
      } else {
        r1->umax = std::min(r1->umax, r2->umax - 1);
        r2->umin = std::max(r1->umin + 1, r2->umin);
      }
      break;
    case op::JSLE:
      if (is32) {
        r1->s32_max = std::min(r1->s32_max, r2->s32_max);
        r2->s32_min = std::max(r1->s32_min, r2->s32_min);
      } else {
        r1->smax = std::min(r1->smax, r2->smax);
        r2->smin = std::max(r1->smin, r2->smin);
      }
      break;
    case op::JSLT:
      if (is32) {
        r1->s32_max = std::min<int32_t>(r1->s32_max,
                                        static_cast<int32_t>(static_cast<uint32_t>(r2->s32_max) - 1));
        r2->s32_min = std::max<int32_t>(static_cast<int32_t>(static_cast<uint32_t>(r1->s32_min) + 1),
                                        r2->s32_min);
      } else {
        r1->smax = std::min<int64_t>(r1->smax,
                                     static_cast<int64_t>(static_cast<uint64_t>(r2->smax) - 1));
        r2->smin = std::max<int64_t>(static_cast<int64_t>(static_cast<uint64_t>(r1->smin) + 1),
                                     r2->smin);
      }
      break;
    default:
      break;
  }
}

// reg_set_min_max's tail: sync, and where the refinement contradicted itself
// (a dead branch is_branch_taken did not see) forget the bounds and go on, as
// reg_bounds_sanity_check does outside the kernel's self-tests.
void settle(Scalar& r) {
  r.sync();
  if (!detail::bounds_sane(r)) detail::mark_unbounded(r);
}

}  // namespace

int branch_taken(const Scalar& a, const Scalar& b, uint8_t jmp_op, bool is32) {
  // The same object on both sides is one register compared with itself.
  if (&a == &b) return same_reg_taken(a, jmp_op, is32);

  uint64_t umin1 = is32 ? a.u32_min : a.umin, umax1 = is32 ? a.u32_max : a.umax;
  uint64_t umin2 = is32 ? b.u32_min : b.umin, umax2 = is32 ? b.u32_max : b.umax;
  int64_t smin1 = is32 ? a.s32_min : a.smin, smax1 = is32 ? a.s32_max : a.smax;
  int64_t smin2 = is32 ? b.s32_min : b.smin, smax2 = is32 ? b.s32_max : b.smax;

  switch (jmp_op) {
    case op::JEQ: {
      Tnum t1 = is32 ? a.var_off.subreg() : a.var_off;
      Tnum t2 = is32 ? b.var_off.subreg() : b.var_off;
      if (t1.is_const() && t2.is_const()) return t1.value == t2.value;
      return never_equal(a, b, is32) ? 0 : -1;
    }
    case op::JNE: {
      Tnum t1 = is32 ? a.var_off.subreg() : a.var_off;
      Tnum t2 = is32 ? b.var_off.subreg() : b.var_off;
      if (t1.is_const() && t2.is_const()) return t1.value != t2.value;
      return never_equal(a, b, is32) ? 1 : -1;
    }
    case op::JSET: {
      const Scalar* r1 = &a;
      const Scalar* r2 = &b;
      if (!is_const(*r2, is32)) std::swap(r1, r2);
      if (!is_const(*r2, is32)) return -1;
      Tnum t1 = is32 ? r1->var_off.subreg() : r1->var_off;
      uint64_t val = const_value(*r2, is32);
      if (~t1.mask & t1.value & val) return 1;       // a tested bit is known set
      if (!((t1.mask | t1.value) & val)) return 0;   // every tested bit is known clear
      return -1;
    }
    case op::JGT:
      if (umin1 > umax2) return 1;
      if (umax1 <= umin2) return 0;
      return -1;
    case op::JSGT:
      if (smin1 > smax2) return 1;
      if (smax1 <= smin2) return 0;
      return -1;
    case op::JLT:
      if (umax1 < umin2) return 1;
      if (umin1 >= umax2) return 0;
      return -1;
    case op::JSLT:
      if (smax1 < smin2) return 1;
      if (smin1 >= smax2) return 0;
      return -1;
    case op::JGE:
      if (umin1 >= umax2) return 1;
      if (umax1 < umin2) return 0;
      return -1;
    case op::JSGE:
      if (smin1 >= smax2) return 1;
      if (smax1 < smin2) return 0;
      return -1;
    case op::JLE:
      if (umax1 <= umin2) return 1;
      if (umin1 > umax2) return 0;
      return -1;
    case op::JSLE:
      if (smax1 <= smin2) return 1;
      if (smin1 > smax2) return 0;
      return -1;
    default:
      return -1;
  }
}

bool refine_branch(Scalar& a, Scalar& b, uint8_t jmp_op, bool is32, bool taken) {
  int pred = branch_taken(a, b, jmp_op, is32);
  // A decided branch is followed without refinement, and its other side is
  // not explored (check_cond_jmp_op).
  if (pred >= 0) return pred == (taken ? 1 : 0);
  if (&a == &b) return true;  // a register compared with itself learns nothing

  refine_cond_op(&a, &b, taken ? jmp_op : rev_opcode(jmp_op), is32);
  settle(a);
  settle(b);
  return true;
}

}  // namespace userbpf::verifier
