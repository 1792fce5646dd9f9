// Printing and comparison of abstract states (state.h).
#include "verifier/state.h"

#include <array>
#include <utility>
#include <vector>

namespace userbpf::verifier {

const char* reg_type_name(RegType t, bool maybe_null) {
  switch (t) {
    case RegType::NotInit: return "?";
    case RegType::Scalar: return "scalar";
    case RegType::Ctx: return "ctx";
    case RegType::ConstMapPtr: return maybe_null ? "map_ptr_or_null" : "map_ptr";
    case RegType::MapValue: return maybe_null ? "map_value_or_null" : "map_value";
    case RegType::MapKey: return "map_key";
    case RegType::Stack: return "fp";
    case RegType::PacketMeta: return "pkt_meta";
    case RegType::Packet: return "pkt";
    case RegType::PacketEnd: return "pkt_end";
    case RegType::Mem: return maybe_null ? "ringbuf_mem_or_null" : "ringbuf_mem";
    case RegType::Func: return "func";
  }
  return "?";
}

std::string reg_str(const Reg& r, const std::vector<std::string>* map_names) {
  if (r.type == RegType::NotInit) return "?";
  if (r.type == RegType::Scalar) {
    if (r.var.is_const()) return std::to_string(static_cast<int64_t>(r.var.const_value()));
    return "scalar(" + r.var.str() + (r.id ? ",id=" + std::to_string(r.id) : "") + ")";
  }
  std::string s = reg_type_name(r.type, r.maybe_null);
  std::string a;
  auto add = [&](const std::string& x) { a += (a.empty() ? "" : ",") + x; };
  if ((r.type == RegType::ConstMapPtr || r.type == RegType::MapValue || r.type == RegType::MapKey) && r.map >= 0) {
    if (map_names && static_cast<size_t>(r.map) < map_names->size())
      add("map=" + (*map_names)[static_cast<size_t>(r.map)]);
    else
      add("map#" + std::to_string(r.map));
  }
  if (r.id) add("id=" + std::to_string(r.id));
  if (r.ref_id) add("ref_obj_id=" + std::to_string(r.ref_id));
  if (r.off || r.type == RegType::Stack) add("off=" + std::to_string(r.off));
  if (r.is_pkt()) add("r=" + std::to_string(r.range));
  if (r.type == RegType::Mem) add("sz=" + std::to_string(r.mem_size));
  if (r.type == RegType::Func) add("insn=" + std::to_string(r.subprog));
  if (r.is_pointer() && !(r.var.is_const() && r.var.const_value() == 0)) add(r.var.str());
  return s + "(" + a + ")";
}

std::string frame_str(const Frame& f, uint32_t regs_mask, const std::vector<std::string>* map_names, bool with_stack) {
  std::string out;
  for (int i = 0; i < isa::kNumRegs; ++i) {
    if (!(regs_mask & (1u << i)) || f.regs[i].type == RegType::NotInit) continue;
    if (!out.empty()) out += ' ';
    out += "R" + std::to_string(i) + "=" + reg_str(f.regs[i], map_names);
  }
  for (size_t i = 0; with_stack && i < f.stack.size(); ++i) {
    const StackSlot& s = f.stack[i];
    std::string v;
    if (s.is_spill() && s.spill_size() == 8) {
      v = reg_str(s.spilled, map_names);
    } else {
      bool any = false;
      for (auto b : s.bytes) any |= b != SlotByte::Invalid;
      if (!any) continue;
      for (int k = 7; k >= 0; --k) v += "?mz?"[static_cast<int>(s.bytes[static_cast<size_t>(k)])];
    }
    if (!out.empty()) out += ' ';
    out += "fp-" + std::to_string(8 * (i + 1)) + "=" + v;
  }
  return out;
}

namespace {

// Ids of the old state mapped to ids of the new one, both ways (a bijection), so
// registers grouped in one are grouped the same way in the other.
class IdMap {
 public:
  bool check(uint32_t old_id, uint32_t cur_id) {
    if (old_id == 0) return true;  // nothing links the old register: any new id will do
    if (cur_id == 0) return false;
    // Few ids are live at once: a linear scan beats hashing (and allocates nothing).
    for (size_t i = 0; i < n_; ++i) {
      const auto& [o, c] = pairs(i);
      if (o == old_id || c == cur_id) return o == old_id && c == cur_id;
    }
    if (n_ < kInline) {
      inline_[n_] = {old_id, cur_id};
    } else {
      spill_.emplace_back(old_id, cur_id);
    }
    ++n_;
    return true;
  }
  bool exact(uint32_t a, uint32_t b) {
    if ((a == 0) != (b == 0)) return false;
    return check(a, b);
  }

 private:
  static constexpr size_t kInline = 16;
  const std::pair<uint32_t, uint32_t>& pairs(size_t i) const { return i < kInline ? inline_[i] : spill_[i - kInline]; }
  std::array<std::pair<uint32_t, uint32_t>, kInline> inline_{};
  std::vector<std::pair<uint32_t, uint32_t>> spill_;
  size_t n_ = 0;
};

// Is every value `cur` may hold one `old` was verified with?
bool reg_subsumes(const Reg& old, const Reg& cur, IdMap& ids, bool exact) {
  if (old.type == RegType::NotInit) return true;
  if (old.type != cur.type) return false;
  if (old.type == RegType::Scalar) {
    // No path below `old` decided anything on this number: any number will do.
    if (!exact && !old.precise) return true;
    return old.var.subsumes(cur.var) && ids.check(old.id, cur.id) &&
           (old.id == 0 || (old.off == cur.off && old.linked_add == cur.linked_add));
  }
  if (old.maybe_null != cur.maybe_null || old.rdonly != cur.rdonly || old.off != cur.off || old.map != cur.map ||
      old.mem_size != cur.mem_size || old.frame != cur.frame || old.subprog != cur.subprog)
    return false;
  if (!old.var.subsumes(cur.var)) return false;
  // A packet pointer checked against more bytes is fine; fewer is not.
  if (old.is_pkt() && old.range > cur.range) return false;
  if (!ids.check(old.id, cur.id)) return false;
  return ids.exact(old.ref_id, cur.ref_id);
}

bool reg_equal(const Reg& a, const Reg& b, IdMap& ids) {
  if (a.type != b.type) return false;
  if (a.type == RegType::NotInit) return true;
  if (a.maybe_null != b.maybe_null || a.rdonly != b.rdonly || a.off != b.off || a.map != b.map ||
      a.mem_size != b.mem_size || a.frame != b.frame || a.subprog != b.subprog || a.range != b.range ||
      !(a.var == b.var))
    return false;
  return ids.exact(a.id, b.id) && ids.exact(a.ref_id, b.ref_id);
}


bool slot_subsumes(const StackSlot* old, const StackSlot* cur, IdMap& ids, bool exact) {
  static const StackSlot kEmpty{};
  if (!old) old = &kEmpty;
  if (!cur) cur = &kEmpty;
  size_t k = 0;
  if (old->is_spill()) {
    const int n = old->spill_size();
    if (cur->is_spill()) {
      if (cur->spill_size() != n || !reg_subsumes(old->spilled, cur->spilled, ids, exact)) return false;
    } else {
      // A whole spilled unknown (or imprecise) number reads like any bytes that
      // are not a pointer.
      if (n != 8 || !old->spilled.is_scalar() || (!old->spilled.var.is_unknown() && (exact || old->spilled.precise)))
        return false;
    }
    k = static_cast<size_t>(n);
  }
  const bool cur_ptr = cur->is_spill() && cur->spilled.is_pointer();
  for (; k < 8; ++k) {
    const SlotByte c = cur->bytes[k];
    switch (old->bytes[k]) {
      case SlotByte::Invalid:
      case SlotByte::Misc:
        // Reading it gives an unknown number (uninitialised stack reads are allowed
        // to a privileged loader); a spilled pointer in cur would read as a pointer.
        if (c == SlotByte::Spill && cur_ptr) return false;
        break;
      case SlotByte::Zero:
        if (c == SlotByte::Zero) break;
        if (c == SlotByte::Spill && cur->spilled.is_null_const()) break;
        return false;
      case SlotByte::Spill:
        return false;
    }
  }
  return true;
}

bool refs_match(const State& a, const State& b, IdMap& ids) {
  if (a.refs.size() != b.refs.size()) return false;
  for (size_t i = 0; i < a.refs.size(); ++i)
    if (!ids.exact(a.refs[i].id, b.refs[i].id)) return false;
  return true;
}

}  // namespace

bool state_subsumes(const State& old, const State& cur, uint32_t live_regs, bool exact) {
  if (old.frames.size() != cur.frames.size()) return false;
  IdMap ids;
  if (!refs_match(old, cur, ids)) return false;
  for (size_t f = 0; f < old.frames.size(); ++f) {
    const Frame& fo = old.frames[f];
    const Frame& fc = cur.frames[f];
    if (fo.callsite != fc.callsite || fo.subprog != fc.subprog || fo.in_callback != fc.in_callback) return false;
    const bool top = f + 1 == old.frames.size();
    // Caller frames: r0-r5 are overwritten when the callee returns.
    const uint32_t mask = top ? live_regs : 0x3c0u;
    for (int r = 0; r < isa::kNumRegs - 1; ++r)
      if ((mask & (1u << r)) && !reg_subsumes(fo.regs[r], fc.regs[r], ids, exact)) return false;
    const size_t n = std::max(fo.stack.size(), fc.stack.size());
    for (size_t i = 0; i < n; ++i)
      if (!slot_subsumes(fo.slot_if(i), fc.slot_if(i), ids, exact)) return false;
  }
  return true;
}

bool state_equal(const State& a, const State& b) {
  if (a.frames.size() != b.frames.size()) return false;
  IdMap ids;
  if (!refs_match(a, b, ids)) return false;
  for (size_t f = 0; f < a.frames.size(); ++f) {
    const Frame& fa = a.frames[f];
    const Frame& fb = b.frames[f];
    if (fa.callsite != fb.callsite || fa.subprog != fb.subprog) return false;
    for (int r = 0; r < isa::kNumRegs; ++r)
      if (!reg_equal(fa.regs[r], fb.regs[r], ids)) return false;
    const size_t n = std::max(fa.stack.size(), fb.stack.size());
    static const StackSlot kEmpty{};
    for (size_t i = 0; i < n; ++i) {
      const StackSlot* x = fa.slot_if(i) ? fa.slot_if(i) : &kEmpty;
      const StackSlot* y = fb.slot_if(i) ? fb.slot_if(i) : &kEmpty;
      if (x->bytes != y->bytes) return false;
      if (x->is_spill() && !reg_equal(x->spilled, y->spilled, ids)) return false;
    }
  }
  return true;
}

uint64_t state_fingerprint(const State& s) {
  uint64_t h = s.frames.size();
  for (const Frame& f : s.frames) {
    for (const Reg& r : f.regs) {
      h = (h ^ (static_cast<uint64_t>(r.type) | static_cast<uint64_t>(static_cast<uint32_t>(r.off)) << 8)) *
          0x9e3779b97f4a7c15ull;
      if (r.type == RegType::NotInit) continue;
      h = (h ^ r.var.var_off.value) * 0xff51afd7ed558ccdull;
      h = (h ^ r.var.var_off.mask) * 0xc4ceb9fe1a85ec53ull;
    }
  }
  return h;
}

}  // namespace userbpf::verifier
