// Conditional jumps (the kernel's check_cond_jmp_op): dead branches from known
// values, bounds learned on each side, NULL checks propagated to every copy of a
// pointer, packet ranges learned from comparisons with data_end.
#include <string>

#include "verifier/env.h"

namespace userbpf::verifier {

using isa::Insn;
namespace op = isa::op;

namespace {

constexpr uint64_t kMaxPacketOff = 0xffff;

// Pointer kinds that can never be NULL (the kernel's reg_not_null).
bool not_null(const Reg& r) {
  if (r.maybe_null) return false;
  return r.type == RegType::MapValue || r.type == RegType::MapKey || r.type == RegType::Mem ||
         r.type == RegType::ConstMapPtr;
}

void propagate_linked(State& st, const Reg& known) {
  if (!known.is_scalar() || known.id == 0) return;
  const Reg r = known;
  st.for_each_reg([&](Reg& o) {
    if (!o.is_scalar() || o.id != r.id) return;
    if (o.off == r.off) {
      o.var = r.var;
    } else {
      // o = r + (o.off - r.off)
      const int64_t delta = static_cast<int64_t>(o.off) - r.off;
      o.var = Scalar::alu(isa::op::ADD, r.var, Scalar::constant(static_cast<uint64_t>(delta)), false);
    }
  });
}

// `ptr` (packet or meta pointer) compared with its end: on the side where
// ptr <= end (or ptr < end when `right_open`), every pointer of the same group
// may access `ptr.off` (+1) bytes.
void mark_pkt_range(State& st, const Reg& ptr, bool right_open) {
  if (ptr.off < 0 || (ptr.off == 0 && right_open)) return;
  if (ptr.var.umax > kMaxPacketOff || ptr.var.umax + static_cast<uint64_t>(ptr.off) > kMaxPacketOff) return;
  const uint32_t range = static_cast<uint32_t>(ptr.off) + (right_open ? 1 : 0);
  st.for_each_reg([&](Reg& o) {
    if (o.type == ptr.type && o.id == ptr.id && o.range < range) o.range = range;
  });
}

}  // namespace

void Env::mark_ptr_or_null(uint32_t id, bool is_null) {
  State& st = cur_.st;
  uint32_t ref = 0;
  st.for_each_reg([&](Reg& r) {
    if (!r.is_pointer() || !r.maybe_null || r.id != id) return;
    if (is_null) {
      if (r.ref_id) ref = r.ref_id;
      r = Reg::constant(0);
    } else {
      r.maybe_null = false;
      r.id = 0;
    }
  });
  if (is_null && ref) {
    for (size_t i = 0; i < st.refs.size(); ++i)
      if (st.refs[i].id == ref) {
        st.refs.erase(st.refs.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
  }
}

void Env::sync_linked_scalars(const Reg& r) { propagate_linked(cur_.st, r); }

bool Env::check_cond_jump(const Insn& in, const isa::InsnSpec& spec) {
  State& st = cur_.st;
  const uint8_t jop = op::alu_op(in.opcode);
  const bool is32 = op::cls(in.opcode) == op::JMP32;
  const bool x = spec.uses_src_reg;
  if (!check_reg_init(in.dst)) return false;
  if (x && !check_reg_init(in.src)) return false;
  const int32_t target = static_cast<int32_t>(isa::jump_target(in, spec, static_cast<size_t>(pc_)));
  const int32_t next = pc_ + 1;
  const Reg src_k = Reg::constant(static_cast<uint64_t>(static_cast<int64_t>(in.imm)));
  const Reg dst = st.reg(in.dst);
  const Reg src = x ? st.reg(in.src) : src_k;

  auto go = [&](int32_t to, uint16_t fact) {
    set_fact(pc_, fact);
    st.pc = to;
    return true;
  };

  if (dst.is_pointer() || src.is_pointer()) {
    const bool eq = jop == op::JEQ || jop == op::JNE;
    // NULL checks: "if (p == 0)" / "if (p != 0)".
    if (!is32 && eq && dst.is_pointer() && src.is_null_const()) {
      if (x) mark_precise(in.src);
      if (dst.maybe_null) {
        const uint32_t id = dst.id;
        const bool null_when_taken = jop == op::JEQ;
        State other = st;
        // Taken side.
        std::swap(cur_.st, other);
        mark_ptr_or_null(id, null_when_taken);
        std::swap(cur_.st, other);
        push_branch(std::move(other), target);
        mark_ptr_or_null(id, !null_when_taken);
        return go(next, 0);
      }
      if (not_null(dst)) return jop == op::JEQ ? go(next, kDeadBranchTaken) : go(target, kDeadBranchFallthrough);
    }
    // Packet pointers against their end.
    if (!is32 && x) {
      auto is_data = [](const Reg& r, const Reg& other) {
        return (r.type == RegType::Packet && other.type == RegType::PacketEnd) ||
               (r.type == RegType::PacketMeta && other.type == RegType::Packet);
      };
      int ptr_side = 0;  // 1: dst is the checked pointer, 2: src is
      if (is_data(dst, src)) ptr_side = 1;
      else if (is_data(src, dst)) ptr_side = 2;
      if (ptr_side && (jop == op::JGT || jop == op::JGE || jop == op::JLT || jop == op::JLE)) {
        // Normalise to "ptr OP end".
        uint8_t o = jop;
        if (ptr_side == 2) o = jop == op::JGT ? op::JLT : jop == op::JLT ? op::JGT : jop == op::JGE ? op::JLE : op::JGE;
        const Reg& ptr = ptr_side == 1 ? dst : src;
        State taken = st;
        // ptr > end: in bounds when not taken (ptr <= end).  ptr >= end: not taken, ptr < end.
        // ptr < end: taken, right open.  ptr <= end: taken.
        if (o == op::JGT) mark_pkt_range(st, ptr, false);
        if (o == op::JGE) mark_pkt_range(st, ptr, true);
        if (o == op::JLT) mark_pkt_range(taken, ptr, true);
        if (o == op::JLE) mark_pkt_range(taken, ptr, false);
        push_branch(std::move(taken), target);
        return go(next, 0);
      }
    }
    // Any other comparison involving a pointer: both ways, nothing learned.
    push_branch(st, target);
    return go(next, 0);
  }

  // A branch found dead depends on the exact values compared.
  auto mark_operands = [&] {
    mark_precise(in.dst);
    if (x) mark_precise(in.src);
  };
  const int taken = branch_taken(dst.var, src.var, jop, is32);
  if (taken == 1) {
    mark_operands();
    return go(target, kDeadBranchFallthrough);
  }
  if (taken == 0) {
    mark_operands();
    return go(next, kDeadBranchTaken);
  }

  note_linked_jump(in, x);
  State other = st;
  {
    Reg& od = other.reg(in.dst);
    Reg os = x ? other.reg(in.src) : src_k;
    const bool live = refine_branch(od.var, os.var, jop, is32, true);
    if (x) other.reg(in.src).var = os.var;
    propagate_linked(other, od);
    if (x) propagate_linked(other, other.reg(in.src));
    if (live) push_branch(std::move(other), target);
    else mark_operands();
    Reg& cd = st.reg(in.dst);
    Reg cs = x ? st.reg(in.src) : src_k;
    const bool live2 = refine_branch(cd.var, cs.var, jop, is32, false);
    if (x) st.reg(in.src).var = cs.var;
    propagate_linked(st, cd);
    if (x) propagate_linked(st, st.reg(in.src));
    if (!live2) {
      if (!live) return go(next, 0);  // cannot happen for a sound refine_branch
      mark_operands();
      // Only the taken side is possible: continue there instead.
      Path& top = stack_.back();
      st = std::move(top.st);
      stack_.pop_back();
      if (cur_.parent) --cur_.parent->branches;
      return go(target, kDeadBranchFallthrough);
    }
  }
  return go(next, 0);
}

}  // namespace userbpf::verifier
