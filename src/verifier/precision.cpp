// Precision tracking (the kernel's mark_chain_precision / backtrack_insn).
//
// States kept for pruning start with every scalar imprecise: an imprecise
// scalar of a kept state matches any scalar of a new state.  When a check
// depends on a scalar's value (a pointer offset, a helper's size argument, a
// branch found dead, a constant map key, ...) the path is walked backwards from
// that instruction to find every register and stack slot the value came from,
// and those are marked precise in each kept state the path went through.  A
// kept state is only used for pruning once every path below it is finished, so
// by then it carries every mark its own exploration needed.  When a new state
// is pruned, the marks of the state that covered it are walked back along the
// new path in turn.
//
// The walk needs only instructions plus a short history per path (HistEntry):
// where control did not fall through, which stack slots loads and stores used,
// and which scalars a jump refined together.  Where it cannot follow (callback
// frames, more frames than it tracks) it falls back to marking every scalar
// precise in every kept state above, as the kernel does.
#include <bit>

#include "verifier/env.h"

namespace userbpf::verifier {

using isa::Insn;
using isa::Kind;
using isa::Op;
namespace op = isa::op;

namespace {

uint64_t slot_bits(int64_t lo, int64_t hi) {
  // Bytes [lo, hi) of a frame (negative offsets) to slot bits.
  if (hi <= lo || lo < -isa::kStackSize || hi > 0) return 0;
  const size_t first = stack_slot_of(hi - 1), last = stack_slot_of(lo);
  uint64_t bits = 0;
  for (size_t i = first; i <= last && i < 64; ++i) bits |= uint64_t{1} << i;
  return bits;
}

// Marks every scalar (register or spill) of `st` with `id` precise and adds it to `out`.
void close_over_id(State& st, uint32_t id, BtSet& out) {
  for (size_t fi = 0; fi < st.frames.size() && fi < BtSet::kFrames; ++fi) {
    Frame& fr = st.frames[fi];
    for (int r = 0; r < isa::kNumRegs; ++r) {
      Reg& reg = fr.regs[r];
      if (reg.is_scalar() && reg.id == id && !reg.precise) {
        reg.precise = true;
        out.f[fi].regs |= static_cast<uint16_t>(1u << r);
      }
    }
    for (size_t i = 0; i < fr.stack.size() && i < 64; ++i) {
      StackSlot& sl = fr.stack[i];
      if (sl.is_spill() && sl.spilled.is_scalar() && sl.spilled.id == id && !sl.spilled.precise) {
        sl.spilled.precise = true;
        out.f[fi].slots |= uint64_t{1} << i;
      }
    }
  }
}

// The precise scalars of `st` (registers in `top_regs` of the last frame and
// `caller_regs` of the others, and spilled scalars of every frame).
BtSet precise_scalars(const State& st, uint32_t top_regs, uint32_t caller_regs) {
  BtSet s;
  const size_t top = st.frames.size() - 1;
  for (size_t fi = 0; fi < st.frames.size() && fi < BtSet::kFrames; ++fi) {
    const Frame& fr = st.frames[fi];
    const uint32_t mask = fi == top ? top_regs : caller_regs;
    for (int r = 0; r < isa::kNumRegs; ++r)
      if ((mask & (1u << r)) && fr.regs[r].is_scalar() && fr.regs[r].precise)
        s.f[fi].regs |= static_cast<uint16_t>(1u << r);
    for (size_t i = 0; i < fr.stack.size() && i < 64; ++i)
      if (fr.stack[i].is_spill() && fr.stack[i].spilled.is_scalar() && fr.stack[i].spilled.precise)
        s.f[fi].slots |= uint64_t{1} << i;
  }
  return s;
}

}  // namespace

void Env::mark_precise(int regno) {
  if (!opts.precision_tracking || !cur_.st.reg(regno).is_scalar()) return;
  BtSet s;
  const size_t depth = cur_.st.frames.size() - 1;
  if (depth >= BtSet::kFrames) return mark_all_precise(cur_.parent);
  s.f[depth].regs = static_cast<uint16_t>(1u << regno);
  mark_chain_precision(s);
}

void Env::mark_precise_slot(size_t frame, size_t slot) {
  if (!opts.precision_tracking || slot >= 64) return;
  if (frame >= BtSet::kFrames) return mark_all_precise(cur_.parent);
  BtSet s;
  s.f[frame].slots = uint64_t{1} << slot;
  mark_chain_precision(s);
}

void Env::note_stack_access(size_t frame, int64_t lo, int64_t hi, bool var) {
  if (!opts.precision_tracking) return;
  HistEntry e;
  e.kind = HistEntry::StackAccess;
  e.frame = static_cast<uint8_t>(frame < 255 ? frame : 255);
  e.var = var;
  e.pc = pc_;
  e.slots = slot_bits(lo, hi);
  cur_.hist.push_back(e);
}

void Env::note_linked_jump(const Insn& in, bool x) {
  if (!opts.precision_tracking) return;
  const State& st = cur_.st;
  const uint32_t a = st.reg(in.dst).is_scalar() ? st.reg(in.dst).id : 0;
  const uint32_t b = x && st.reg(in.src).is_scalar() ? st.reg(in.src).id : 0;
  if (!a && !b) return;
  HistEntry e;
  e.kind = HistEntry::Linked;
  e.pc = pc_;
  const size_t top = st.frames.size() - 1;
  for (size_t fi = 0; fi < st.frames.size(); ++fi) {
    const Frame& fr = st.frames[fi];
    for (int r = 0; r < isa::kNumRegs; ++r) {
      const Reg& reg = fr.regs[r];
      if (!reg.is_scalar() || !reg.id || (reg.id != a && reg.id != b)) continue;
      if (fi == top) e.regs |= static_cast<uint16_t>(1u << r);
      else e.var = true;
    }
    for (size_t i = 0; i < fr.stack.size(); ++i) {
      const StackSlot& sl = fr.stack[i];
      if (!sl.is_spill() || !sl.spilled.is_scalar() || !sl.spilled.id || (sl.spilled.id != a && sl.spilled.id != b)) continue;
      if (fi == top && i < 64) e.slots |= uint64_t{1} << i;
      else e.var = true;
    }
  }
  cur_.hist.push_back(e);
}

// Walks `hist[0, n)` backwards from the entry of instruction `i` to the entry of
// `seg_start`, turning `s` (values at the entry of i) into the values they came
// from.  False when the walk cannot follow the path.
bool Env::backtrack_segment(const HistEntry* hist, size_t n, int32_t seg_start, int32_t i, int& depth, BtSet& s) {
  while (!s.empty()) {
    if (n == 0 && i == seg_start) return true;
    int32_t p;
    bool entered_callee = false;
    if (n > 0 && hist[n - 1].kind == HistEntry::Jump && hist[n - 1].pc == i) {
      p = hist[n - 1].prev;
      --n;
      const isa::InsnSpec* ps = specs_[static_cast<size_t>(p)];
      if (ps->kind == Kind::Call) {
        // From the callee's first instruction back to the call: its r1-r5 are the caller's.
        if (ps->op != Op::CALL_LOCAL || depth == 0) return false;
        BtSet::Frame& callee = s.f[static_cast<size_t>(depth)];
        s.f[static_cast<size_t>(depth - 1)].regs |= callee.regs & 0x3e;
        callee = {};
        --depth;
        entered_callee = true;
      } else if (ps->kind == Kind::Exit) {
        // From the instruction after a call back into the callee's exit: r0 is the callee's.
        if (i == 0 || !specs_[static_cast<size_t>(i - 1)] || specs_[static_cast<size_t>(i - 1)]->op != Op::CALL_LOCAL)
          return false;  // a callback returning
        if (static_cast<size_t>(depth) + 1 >= BtSet::kFrames) return false;
        BtSet::Frame& caller = s.f[static_cast<size_t>(depth)];
        const bool r0 = caller.regs & 1;
        caller.regs &= static_cast<uint16_t>(~0x3fu);
        ++depth;
        s.f[static_cast<size_t>(depth)] = {};
        if (r0) s.f[static_cast<size_t>(depth)].regs = 1;
      }
    } else {
      p = seq_prev_[static_cast<size_t>(i)];
      if (p < 0) return false;
    }
    const HistEntry* stack = nullptr;
    const HistEntry* linked = nullptr;
    while (n > 0 && hist[n - 1].kind != HistEntry::Jump && hist[n - 1].pc == p) {
      if (hist[n - 1].kind == HistEntry::StackAccess) stack = &hist[n - 1];
      else linked = &hist[n - 1];
      --n;
    }
    if (!backtrack_insn(p, depth, entered_callee, stack, linked, s)) return false;
    i = p;
  }
  return true;
}

// `s` holds the values needed after instruction p; make it the values needed before.
bool Env::backtrack_insn(int32_t p, int depth, bool entered_callee, const HistEntry* stack, const HistEntry* linked,
                         BtSet& s) {
  const Insn& in = insns[static_cast<size_t>(p)];
  const isa::InsnSpec* spec = specs_[static_cast<size_t>(p)];
  BtSet::Frame& f = s.f[static_cast<size_t>(depth)];
  const uint16_t dst = static_cast<uint16_t>(1u << in.dst), src = static_cast<uint16_t>(1u << in.src);
  switch (spec->kind) {
    case Kind::Alu:
    case Kind::Endian:
      if (!(f.regs & dst)) return true;
      if (spec->kind == Kind::Alu && op::alu_op(in.opcode) == op::MOV) {
        f.regs &= static_cast<uint16_t>(~dst);
        if (spec->uses_src_reg) f.regs |= src;
      } else if (spec->uses_src_reg) {
        f.regs |= src;
      }
      return true;
    case Kind::LoadImm64:
      f.regs &= static_cast<uint16_t>(~dst);
      return true;
    case Kind::Load:
      if (!(f.regs & dst)) return true;
      f.regs &= static_cast<uint16_t>(~dst);
      if (stack) {
        if (stack->frame >= BtSet::kFrames) return false;
        s.f[stack->frame].slots |= stack->slots;
      }
      return true;
    case Kind::Store:
    case Kind::StoreReg: {
      if (!stack) return true;
      if (stack->frame >= BtSet::kFrames) return false;
      BtSet::Frame& tf = s.f[stack->frame];
      if (!(tf.slots & stack->slots)) return true;
      // A whole slot written at a known offset holds only the stored value; any
      // other write leaves part of what was there.
      if (!stack->var && spec->width == 8) tf.slots &= ~stack->slots;
      if (spec->kind == Kind::StoreReg) f.regs |= src;
      return true;
    }
    case Kind::Atomic:
      // The slot and the fetched register are unknown numbers afterwards.
      return true;
    case Kind::LegacyLoad:
      f.regs &= static_cast<uint16_t>(~0x3fu);
      return true;
    case Kind::Jump: {
      if (spec->op == Op::JA || spec->op == Op::JA32) return true;
      // "dst <op> src" refines each with the other.
      if (spec->uses_src_reg && (f.regs & (dst | src))) f.regs |= dst | src;
      if (linked) {
        const uint16_t ops = static_cast<uint16_t>(dst | (spec->uses_src_reg ? src : 0));
        if ((f.regs & (linked->regs | ops)) || (f.slots & linked->slots)) {
          if (linked->var) return false;
          f.regs |= linked->regs | ops;
          f.slots |= linked->slots;
        }
      }
      return true;
    }
    case Kind::Call:
      // A static callee was walked already; helpers and global functions return
      // a fresh r0 and clobber r1-r5.
      if (!entered_callee) f.regs &= static_cast<uint16_t>(~0x3fu);
      return true;
    case Kind::Exit:
      return true;
  }
  return false;
}

void Env::slim_checkpoint(Checkpoint& cp) {
  constexpr uint32_t kAllRegs = (1u << isa::kNumRegs) - 1;
  cp.precise_set = precise_scalars(cp.st, kAllRegs, kAllRegs);
  cp.slim = true;
  spare_states_.push_back(std::move(cp.st));
  cp.st = State{};
}

void Env::mark_in_checkpoint(Checkpoint& cp, BtSet& s) {
  if (cp.slim) {
    // Whatever was not marked here yet goes on up (it may not even be a number
    // here: marking more above is safe).
    for (size_t fi = 0; fi < BtSet::kFrames; ++fi) {
      s.f[fi].regs &= static_cast<uint16_t>(~cp.precise_set.f[fi].regs);
      s.f[fi].slots &= ~cp.precise_set.f[fi].slots;
      cp.precise_set.f[fi].regs |= s.f[fi].regs;
      cp.precise_set.f[fi].slots |= s.f[fi].slots;
    }
    return;
  }
  BtSet out;
  State& st = cp.st;
  for (size_t fi = 0; fi < BtSet::kFrames; ++fi) {
    if (!s.f[fi].regs && !s.f[fi].slots) continue;
    if (fi >= st.frames.size()) continue;
    Frame& fr = st.frames[fi];
    for (uint16_t m = s.f[fi].regs; m; m &= static_cast<uint16_t>(m - 1)) {
      const int r = std::countr_zero(m);
      if (r >= isa::kNumRegs) continue;
      Reg& reg = fr.regs[r];
      if (!reg.is_scalar() || reg.precise) continue;
      reg.precise = true;
      out.f[fi].regs |= static_cast<uint16_t>(1u << r);
      if (reg.id) close_over_id(st, reg.id, out);
    }
    for (uint64_t m = s.f[fi].slots; m; m &= m - 1) {
      const size_t i = static_cast<size_t>(std::countr_zero(m));
      if (i >= fr.stack.size()) continue;
      StackSlot& sl = fr.stack[i];
      // Bytes that are not a spill are compared exactly anyway.
      if (!sl.is_spill() || !sl.spilled.is_scalar() || sl.spilled.precise) continue;
      sl.spilled.precise = true;
      out.f[fi].slots |= uint64_t{1} << i;
      if (sl.spilled.id) close_over_id(st, sl.spilled.id, out);
    }
  }
  s = out;
}

void Env::mark_all_precise(Checkpoint* cp) {
  for (; cp && !cp->all_precise; cp = cp->parent) {
    cp->st.for_each_reg([](Reg& r) {
      if (r.is_scalar()) r.precise = true;
    });
    if (cp->slim)
      for (auto& f : cp->precise_set.f) f = {static_cast<uint16_t>(0xffff), ~uint64_t{0}};
    cp->all_precise = true;
  }
}

void Env::mark_chain_precision(BtSet s) {
  if (!opts.precision_tracking || s.empty()) return;
  int depth = static_cast<int>(cur_.st.frames.size()) - 1;
  // Entries the current instruction made already describe its effect, not its inputs.
  size_t n = cur_.hist.size();
  while (n > 0 && cur_.hist[n - 1].kind != HistEntry::Jump && cur_.hist[n - 1].pc == pc_) --n;
  if (!backtrack_segment(cur_.hist.data(), n, cur_.seg_start, pc_, depth, s)) return mark_all_precise(cur_.parent);
  for (Checkpoint* cp = cur_.parent; cp && !s.empty(); cp = cp->parent) {
    if (cp->all_precise) return;
    if (depth != static_cast<int>(cp->nframes) - 1) return mark_all_precise(cp);
    mark_in_checkpoint(*cp, s);
    if (s.empty()) return;
    if (!backtrack_segment(hist_arena_.data() + cp->hist_at, cp->hist_len, cp->seg_start, cp->pc, depth, s))
      return mark_all_precise(cp->parent);
  }
}

void Env::propagate_precision(const State& old) {
  if (!opts.precision_tracking) return;
  if (old.frames.size() > BtSet::kFrames) return mark_all_precise(cur_.parent);
  // The registers state pruning compared: the live ones here, r6-r9 of callers.
  mark_chain_precision(precise_scalars(old, live_in_[static_cast<size_t>(pc_)], 0x3c0u));
}

}  // namespace userbpf::verifier
