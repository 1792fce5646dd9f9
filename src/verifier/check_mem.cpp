// Loads, stores and atomics (the kernel's check_mem_access and friends): which
// memory a pointer kind may reach, bounds with fixed and variable offsets, stack
// spills and fills, context fields, packet ranges.
#include <algorithm>
#include <cstring>
#include <string>

#include <linux/bpf.h>

#include "hooks/ctx_layout.h"
#include "verifier/ctx_rules.h"
#include "verifier/env.h"

namespace userbpf::verifier {

using isa::Insn;
namespace op = isa::op;

namespace {

constexpr int64_t kMaxVarOff = int64_t{1} << 29;

std::string rw(Env::Access t) { return t == Env::Access::Write ? "write" : "read"; }

}  // namespace

// Region of `mem_size` bytes reached through `reg` at insn offset `off`
// (map values, ringbuf records, map keys): fixed plus variable offset in bounds.
static bool check_region(Env& env, int regno, const Reg& reg, int32_t off, uint32_t size, uint32_t mem_size,
                         const char* what, bool zero_ok) {
  const RegName R{regno};
  const int64_t fixed = static_cast<int64_t>(off) + reg.off;
  auto msg = [&](int64_t o) {
    return std::string("invalid access to ") + what + ", " + (std::strcmp(what, "map value") == 0 ? "value_size=" : "mem_size=") +
           std::to_string(mem_size) + " off=" + std::to_string(o) + " size=" + std::to_string(size);
  };
  const std::string why = std::string("the access may reach outside the ") + std::to_string(mem_size) + "-byte " + what;
  auto in_bounds = [&](int64_t o) {
    return o >= 0 && (size > 0 || zero_ok) && static_cast<int64_t>(size) <= mem_size && o <= mem_size - static_cast<int64_t>(size);
  };
  if (reg.var.is_const()) {
    const int64_t o = fixed + static_cast<int64_t>(reg.var.const_value());
    if (!in_bounds(o))
      return env.fail(msg(o), why, "check the index against the size of the value before the access", {regno});
    return true;
  }
  const int64_t smin = reg.var.smin;
  if (smin < 0 && (smin == INT64_MIN || fixed + smin != static_cast<int32_t>(fixed + smin) || smin + fixed < 0))
    return env.fail(R + " min value is negative, either use unsigned index or do a if (index >=0) check.",
                    "the variable part of the offset may be negative here",
                    "use an unsigned index, or check index >= 0 before the access", {regno});
  if (!in_bounds(fixed + smin))
    return env.fail(msg(fixed + smin), why, "", {regno});
  if (reg.var.umax >= static_cast<uint64_t>(kMaxVarOff))
    return env.fail(R + " unbounded memory access, make sure to bounds check any such access",
                    "nothing bounds the index added to this pointer",
                    "check it first: if (idx >= N) return ...; (N = number of elements)", {regno});
  const int64_t hi = fixed + static_cast<int64_t>(reg.var.umax);
  if (!in_bounds(hi))
    return env.fail(msg(hi), R + " may point up to offset " + std::to_string(hi) + ", so a " + std::to_string(size) +
                                 "-byte access may end past the " + std::to_string(mem_size) + "-byte " + what,
                    "tighten the bound check on the index (compare with N - 1 or use <, not <=)", {regno});
  return true;
}

// Read of constant data from a frozen (.rodata) map: the value is known.
static bool rodata_const(const Env& env, const Reg& reg, int32_t off, uint32_t size, uint64_t& out) {
  if (!reg.rdonly || !reg.var.is_const() || reg.map < 0 || size > sizeof(out)) return false;
  const loader::MapDef& md = env.maps[static_cast<size_t>(reg.map)];
  if (!md.is_global_data) return false;
  const int64_t o = static_cast<int64_t>(off) + reg.off + static_cast<int64_t>(reg.var.const_value());
  if (o < 0 || static_cast<size_t>(o) + size > md.initial_data.size()) return false;
  out = 0;
  std::memcpy(&out, md.initial_data.data() + o, size);
  return true;
}

bool Env::check_mem_access(int regno, int32_t off, uint32_t size, Access t, int value_reg, bool sign_ext,
                           const Insn* insn, bool atomic) {
  State& st = cur_.st;
  const Reg reg = st.reg(regno);
  const RegName R{regno};
  auto set_loaded = [&](const Scalar& s) {
    if (value_reg >= 0 && t == Access::Read) st.reg(value_reg) = Reg::scalar(s);
  };
  const Scalar loaded = Scalar::from_load(static_cast<uint8_t>(size), sign_ext);
  // Atomics need natural alignment everywhere; other accesses only on the stack.
  auto aligned = [&](const Reg& r, int64_t extra) {
    const Tnum t = r.var.var_off.add(Tnum::constant(static_cast<uint64_t>(extra)));
    return (t.value & (size - 1)) == 0 && (t.mask & (size - 1)) == 0;
  };
  if (atomic && !aligned(reg, static_cast<int64_t>(reg.off) + off))
    return fail("misaligned access off " + reg.var.var_off.str() + "+" + std::to_string(reg.off) + "+" +
                    std::to_string(off) + " size " + std::to_string(size),
                "atomic operations need a naturally aligned address", "", {regno});

  // One instruction may not access the context on one path and other memory on
  // another: the context access is rewritten in place.
  if (insn) {
    uint8_t& seen = mem_base_[static_cast<size_t>(pc_)];
    const uint8_t kind = reg.type == RegType::Ctx ? 1 : 2;
    if (seen && seen != kind)
      return fail("same insn cannot be used with different pointers",
                  "this instruction reaches the context on one path and other memory on another",
                  "use separate accesses for the context and for other memory", {regno});
    seen = kind;
  }
  switch (reg.type) {
    case RegType::MapValue: {
      if (reg.maybe_null) break;
      const maps::MapSpec* m = map_spec(reg.map);
      if (t == Access::Write && reg.rdonly)
        return fail("write into map forbidden, value_size=" + std::to_string(m->value_size) + " off=" +
                        std::to_string(static_cast<int64_t>(off) + reg.off) + " size=" + std::to_string(size),
                    "this map is read-only to programs (a const global in .rodata, or BPF_F_RDONLY_PROG)",
                    "drop the const qualifier if the program must change it", {regno});
      if (!check_region(*this, regno, reg, off, size, m->value_size, "map value", false)) return false;
      uint64_t v = 0;
      if (t == Access::Read && value_reg >= 0 && !sign_ext && rodata_const(*this, reg, off, size, v))
        set_loaded(Scalar::constant(v));
      else
        set_loaded(loaded);
      set_fact(pc_, kMemSafe | kNonNull | kMapValueAccess);
      return true;
    }
    case RegType::MapKey: {
      if (t == Access::Write)
        return fail(R + " cannot write into map_key", "keys handed to callbacks are read-only", "", {regno});
      const maps::MapSpec* m = map_spec(reg.map);
      if (!check_region(*this, regno, reg, off, size, m ? m->key_size : 0, "map key", false)) return false;
      set_loaded(loaded);
      set_fact(pc_, kMemSafe | kNonNull);
      return true;
    }
    case RegType::Mem: {
      if (reg.maybe_null) break;
      if (!check_region(*this, regno, reg, off, size, reg.mem_size, "memory", false)) return false;
      set_loaded(loaded);
      set_fact(pc_, kMemSafe | kNonNull);
      return true;
    }
    case RegType::Ctx: {
      if (reg.off != 0)
        return fail("dereference of modified ctx ptr " + R + " off=" + std::to_string(reg.off) + " disallowed",
                    "context fields must be accessed at a constant offset from the context pointer itself",
                    "read the field through the original ctx pointer (ctx->field)", {regno});
      if (!reg.var.is_const() || reg.var.const_value() != 0)
        return fail("variable ctx access var_off=" + reg.var.var_off.str() + " disallowed",
                    "context fields must be accessed at a constant offset", "", {regno});
      if (insn && op::mode(insn->opcode) == op::MEMSX)
        return fail("sign-extending load from ctx is not allowed here", "", "load it unsigned and convert");
      auto field = check_ctx_field(prog.prog_type, off, size, t == Access::Write);
      if (!field.ok()) return fail(field.error().message, "the program type's context does not allow this access",
                                   "see linux/bpf.h for the fields this program type may read or write", {regno});
      if (t == Access::Read && value_reg >= 0) {
        Reg& d = st.reg(value_reg);
        switch (field->kind) {
          case CtxFieldKind::PacketData: d = Reg::pointer(RegType::Packet); break;
          case CtxFieldKind::PacketEnd: d = Reg::pointer(RegType::PacketEnd); break;
          case CtxFieldKind::PacketMeta: d = Reg::pointer(RegType::PacketMeta); break;
          case CtxFieldKind::Scalar: d = Reg::scalar(loaded); break;
        }
      }
      set_fact(pc_, kMemSafe | kNonNull | kCtxAccess);
      facts_[static_cast<size_t>(pc_)].ctx_off = off;
      return true;
    }
    case RegType::Packet:
    case RegType::PacketMeta: {
      if (t == Access::Write && !may_write_packet(prog.prog_type))
        return fail("cannot write into packet", "this program type may only read packet data", "", {regno});
      if (reg.var.smin < 0)
        return fail(R + " min value is negative, either use unsigned index or do a if (index >=0) check.", "",
                    "use an unsigned offset", {regno});
      const int64_t o = static_cast<int64_t>(off) + reg.off;
      if (o < 0 || o + size > reg.range) {
        return fail("invalid access to packet, off=" + std::to_string(o) + " size=" + std::to_string(size) + ", " + R +
                        "(id=" + std::to_string(reg.id) + ",off=" + std::to_string(reg.off) + ",r=" +
                        std::to_string(reg.range) + ")",
                    "the program checked only " + std::to_string(reg.range) + " bytes from this pointer against data_end, but the access reaches byte " +
                        std::to_string(o + size),
                    "compare the pointer plus the access size with data_end first: if (p + " + std::to_string(o + size) +
                        " > data_end) return ...;",
                    {regno});
      }
      set_loaded(loaded);
      set_fact(pc_, kMemSafe | kNonNull | kPacketAccess);
      return true;
    }
    case RegType::Stack: {
      Frame& f = st.frames[reg.frame];
      const int64_t fixed = static_cast<int64_t>(off) + reg.off;
      const bool var = !reg.var.is_const();
      int64_t lo, hi;  // [lo, hi) bytes possibly touched
      if (!var) {
        lo = fixed + static_cast<int64_t>(reg.var.const_value());
        hi = lo + size;
      } else {
        if (reg.var.smax >= kMaxVarOff || reg.var.smin <= -kMaxVarOff)
          return fail("invalid unbounded variable-offset " + rw(t) + " stack " + R,
                      "nothing bounds the index added to the stack pointer", "check the index against the array size first",
                      {regno});
        lo = reg.var.smin + fixed;
        hi = reg.var.smax + fixed + size;
      }
      if (!aligned(reg, fixed))
        return fail("misaligned stack access off " + reg.var.var_off.str() + "+" + std::to_string(reg.off) + "+" +
                        std::to_string(off) + " size " + std::to_string(size),
                    "stack accesses must be aligned to their size", "", {regno});
      if (lo < -isa::kStackSize || hi > 0) {
        const std::string m = var ? "invalid variable-offset " + rw(t) + " stack " + R + " var_off=" + reg.var.var_off.str() +
                                        " off=" + std::to_string(fixed) + " size=" + std::to_string(size)
                                  : "invalid " + rw(t) + " stack off=" + std::to_string(lo) + " size=" + std::to_string(size);
        return fail(m, "the access reaches outside the 512-byte stack frame [fp-512, fp)",
                    var ? "bound the index so that the access stays inside the array" : "use a smaller offset from r10", {regno});
      }
      note_stack_depth(f, lo);
      if (insn) note_stack_access(reg.frame, lo, hi, var);
      uint16_t flags = kMemSafe | kNonNull;
      if (reg.frame + 1u == st.frames.size()) flags |= kStackAccess;
      set_fact(pc_, flags);
      if (t == Access::Write) {
        const Reg* val = value_reg >= 0 ? &st.reg(value_reg) : nullptr;
        const bool zero = val ? val->is_null_const() : (insn && op::cls(insn->opcode) == op::ST && insn->imm == 0);
        if (var) {
          for (int64_t b = lo; b < hi; ++b) {
            StackSlot& s = f.slot(stack_slot_of(b));
            s.scrub_spill();
            SlotByte& sb = s.bytes[stack_byte_of(b)];
            sb = (zero && sb == SlotByte::Zero) ? SlotByte::Zero : SlotByte::Misc;
          }
          return true;
        }
        StackSlot& s = f.slot(stack_slot_of(lo));
        const bool slot_aligned = (lo % 8) == 0;
        if (val && val->is_pointer() && size != 8)
          return fail("invalid size of register spill", "pointers can only be spilled to the stack whole (8 bytes)", "", {value_reg});
        if (slot_aligned && ((val && (val->is_pointer() || val->is_scalar())) || (!val && insn && op::cls(insn->opcode) == op::ST))) {
          Reg spilled = val ? *val : Reg::constant(static_cast<uint64_t>(static_cast<int64_t>(insn->imm)));
          if (size < 8 && spilled.var.umax > (size == 4 ? UINT32_MAX : size == 2 ? 0xffffu : 0xffu)) spilled.id = 0;
          s.spilled = spilled;
          for (size_t k = 0; k < 8; ++k) {
            if (k < size) {
              s.bytes[k] = SlotByte::Spill;
            } else if (s.bytes[k] == SlotByte::Spill) {
              s.bytes[k] = SlotByte::Misc;
            }
          }
          return true;
        }
        for (int64_t b = lo; b < hi; ++b) {
          StackSlot& sl = f.slot(stack_slot_of(b));
          sl.scrub_spill();
          sl.bytes[stack_byte_of(b)] = zero && !atomic ? SlotByte::Zero : SlotByte::Misc;
        }
        return true;
      }
      // Read.
      if (!var) {
        const StackSlot* s = f.slot_if(stack_slot_of(lo));
        if (s && s->is_spill()) {
          const bool at_start = stack_byte_of(lo) == 0;
          const int n = s->spill_size();
          if (s->spilled.is_pointer()) {
            if (!at_start || size != 8 || n != 8)
              return fail("invalid size of register fill", "only the whole 8 bytes of a spilled pointer can be read back",
                          "", {regno});
            if (value_reg >= 0) st.reg(value_reg) = s->spilled;
            return true;
          }
          if (at_start && static_cast<int>(size) <= n) {
            if (value_reg >= 0) {
              Reg r = s->spilled;
              if (size < 8) {
                r.var = r.var.truncate(static_cast<uint8_t>(size), sign_ext);
                if (static_cast<int>(size) != n || !(r.var == s->spilled.var) || sign_ext) r.id = 0;
              } else if (sign_ext) {
                r.id = 0;
              }
              st.reg(value_reg) = r;
            }
            return true;
          }
        }
        bool all_zero = true;
        for (int64_t b = lo; b < hi; ++b) {
          const StackSlot* sl = f.slot_if(stack_slot_of(b));
          const SlotByte sb = sl ? sl->bytes[stack_byte_of(b)] : SlotByte::Invalid;
          if (sb == SlotByte::Spill && sl->spilled.is_pointer())
            return fail("invalid size of register fill", "only the whole 8 bytes of a spilled pointer can be read back", "", {regno});
          const bool z = sb == SlotByte::Zero || (sb == SlotByte::Spill && sl->spilled.is_null_const());
          all_zero &= z;
        }
        set_loaded(all_zero ? Scalar::constant(0) : loaded);
        return true;
      }
      set_loaded(loaded);
      return true;
    }
    default: break;
  }
  return fail(R + " invalid mem access '" + reg_type_name(reg.type, reg.maybe_null) + "'",
              reg.type == RegType::Scalar ? R + " holds a number, not a pointer the program may dereference"
              : reg.maybe_null            ? R + " may be NULL here"
                                          : "this kind of pointer cannot be dereferenced",
              reg.maybe_null ? R + " may be NULL here: check the result of " +
                                   std::string(reg.type == RegType::Mem ? "bpf_ringbuf_reserve" : "bpf_map_lookup_elem") +
                                   " before dereferencing it (if (!p) return ...;)"
                             : "",
              {regno});
}

bool Env::check_load(const Insn& in, const isa::InsnSpec& spec) {
  if (!check_reg_init(in.src)) return false;
  if (in.dst == isa::kFramePointer) return fail("frame pointer is read only");
  const bool sx = op::mode(in.opcode) == op::MEMSX;
  return check_mem_access(in.src, in.off, spec.width, Access::Read, in.dst, sx, &in);
}

bool Env::check_store(const Insn& in, const isa::InsnSpec& spec) {
  if (!check_reg_init(in.dst)) return false;
  const bool reg = spec.kind == isa::Kind::StoreReg;
  if (reg && !check_reg_init(in.src)) return false;
  return check_mem_access(in.dst, in.off, spec.width, Access::Write, reg ? in.src : -1, false, &in);
}

bool Env::check_atomic(const Insn& in, const isa::InsnSpec& spec) {
  if (!check_reg_init(in.src) || !check_reg_init(in.dst)) return false;
  if (in.imm == op::CMPXCHG && !check_reg_init(0)) return false;
  const Reg& d = cur_.st.reg(in.dst);
  if (d.type == RegType::Ctx || d.is_pkt())
    return fail("BPF_ATOMIC stores into R" + std::to_string(in.dst) + " " + reg_type_name(d.type, false) + " is not allowed",
                "atomic operations work on the stack and map values only", "", {in.dst});
  const int fetch_reg = (in.imm & op::FETCH) ? (in.imm == op::CMPXCHG ? 0 : in.src) : -1;
  if (fetch_reg == isa::kFramePointer) return fail("frame pointer is read only");
  if (!check_mem_access(in.dst, in.off, spec.width, Access::Read, -1, false, &in, true)) return false;
  if (!check_mem_access(in.dst, in.off, spec.width, Access::Write, -1, false, &in, true)) return false;
  if (fetch_reg >= 0) cur_.st.reg(fetch_reg) = Reg::scalar(Scalar::from_load(static_cast<uint8_t>(spec.width), false));
  return true;
}

bool Env::check_legacy_load(const Insn& in, const isa::InsnSpec& spec) {
  const uint32_t t = prog.prog_type;
  if (t != BPF_PROG_TYPE_SOCKET_FILTER && t != BPF_PROG_TYPE_SCHED_CLS && t != BPF_PROG_TYPE_SCHED_ACT)
    return fail("BPF_LD_[ABS|IND] instructions not allowed for this program type");
  if (!check_reg_init(6)) return false;
  if (cur_.st.reg(6).type != RegType::Ctx || cur_.st.reg(6).off != 0)
    return fail("at the time of BPF_LD_ABS|IND R6 != pointer to skb", "legacy packet loads read the skb in R6",
                "keep the context pointer in R6", {6});
  if (op::mode(in.opcode) == op::IND && !check_reg_init(in.src)) return false;
  if (!cur_.st.refs.empty())
    return fail("BPF_LD_[ABS|IND] cannot be mixed with socket references");
  for (int r = 1; r <= 5; ++r) cur_.st.reg(r) = Reg{};
  cur_.st.reg(0) = Reg::scalar(Scalar::from_load(static_cast<uint8_t>(spec.width), false));
  return true;
}

}  // namespace userbpf::verifier
