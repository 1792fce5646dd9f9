// ALU, byte-swap and lddw instructions (the kernel's check_alu_op,
// adjust_scalar_min_max_vals and adjust_ptr_min_max_vals), for a privileged
// loader: pointer arithmetic is limited to adding or subtracting scalars.
#include <string>

#include "verifier/env.h"

namespace userbpf::verifier {

using isa::Insn;
namespace op = isa::op;

namespace {

constexpr int64_t kMaxVarOff = int64_t{1} << 29;  // BPF_MAX_VAR_OFF

const char* alu_sym(uint8_t alu_op) {
  switch (alu_op) {
    case op::ADD: return "+=";
    case op::SUB: return "-=";
    case op::MUL: return "*=";
    case op::DIV: return "/=";
    case op::OR: return "|=";
    case op::AND: return "&=";
    case op::LSH: return "<<=";
    case op::RSH: return ">>=";
    case op::NEG: return "neg";
    case op::MOD: return "%=";
    case op::XOR: return "^=";
    case op::MOV: return "=";
    case op::ARSH: return "s>>=";
    default: return "?";
  }
}

}  // namespace

bool Env::check_lddw(const Insn& in) {
  if (in.dst == isa::kFramePointer) return fail("frame pointer is read only");
  const Insn& hi = insns[static_cast<size_t>(pc_) + 1];
  Reg& dst = cur_.st.reg(in.dst);
  switch (in.src) {
    case 0: dst = Reg::constant(isa::lddw_imm(in, hi)); break;
    case isa::pseudo::MAP_FD:
    case isa::pseudo::MAP_IDX: {
      // Map references were resolved and checked before exploration (check_structure).
      dst = Reg::pointer(RegType::ConstMapPtr);
      dst.map = in.imm;
      break;
    }
    case isa::pseudo::MAP_VALUE:
    case isa::pseudo::MAP_IDX_VALUE: {
      dst = Reg::pointer(RegType::MapValue, hi.imm);
      dst.map = in.imm;
      dst.rdonly = map_is_rdonly(in.imm);
      break;
    }
    case isa::pseudo::FUNC:
      dst = Reg::pointer(RegType::Func);
      dst.subprog = pc_ + 1 + in.imm;
      break;
    default:
      return fail("unsupported lddw source " + std::to_string(in.src) + " (BTF ids and kfuncs need the kernel)");
  }
  return true;
}

bool Env::check_alu(const Insn& in, const isa::InsnSpec& spec) {
  State& st = cur_.st;
  const uint8_t aop = op::alu_op(in.opcode);
  const bool is64 = op::cls(in.opcode) == op::ALU64;
  const bool x = spec.uses_src_reg;
  const RegName d{in.dst};

  if (spec.kind == isa::Kind::Endian) {
    if (!check_reg_init(in.dst)) return false;
    if (in.dst == isa::kFramePointer) return fail("frame pointer is read only");
    Reg& r = st.reg(in.dst);
    if (r.is_pointer()) {
      r = Reg::unknown();  // a privileged loader may turn pointers into numbers
      return true;
    }
    const bool swap = !(op::cls(in.opcode) == op::ALU && !(in.opcode & op::X));  // le on x86 only truncates
    r.var = Scalar::endian(r.var, static_cast<uint8_t>(in.imm), swap);
    r.id = 0;
    return true;
  }
  if (x && !check_reg_init(in.src)) return false;
  if (aop != op::MOV && !check_reg_init(in.dst)) return false;
  if (in.dst == isa::kFramePointer) return fail("frame pointer is read only", "r10 is the frame pointer; programs may only read it",
                                                "copy it first: r1 = r10; r1 += -8");
  Reg& dst = st.reg(in.dst);

  if (aop == op::MOV) {
    if (!x) {
      dst = Reg::constant(is64 ? static_cast<uint64_t>(static_cast<int64_t>(in.imm)) : static_cast<uint32_t>(in.imm));
      if (!is64) set_fact(pc_, kFits32);
      return true;
    }
    Reg& src = st.reg(in.src);
    if (in.off != 0) {  // movsx
      if (src.is_pointer()) {
        dst = Reg::unknown();
      } else {
        Scalar v = Scalar::sign_extend(src.var, static_cast<uint8_t>(in.off), !is64);
        dst = Reg::scalar(v);
      }
      if (!is64) set_fact(pc_, kFits32);
      return true;
    }
    if (is64) {
      // Copies share an id so that a bound learned on one applies to both.
      if (src.is_scalar() && !src.var.is_const() && src.id == 0) src.id = new_id();
      dst = src;
      return true;
    }
    if (src.is_pointer()) {
      dst = Reg::scalar(Scalar::urange(0, UINT32_MAX));
    } else {
      const bool fits = src.var.umax <= UINT32_MAX;
      if (fits && !src.var.is_const() && src.id == 0) src.id = new_id();
      Reg r = Reg::scalar(src.var.truncate(4, false));
      r.id = fits ? src.id : 0;
      dst = r;
    }
    set_fact(pc_, kFits32);
    return true;
  }

  if ((aop == op::DIV || aop == op::MOD) && !x && in.imm == 0)
    return fail("div by zero", "the divisor is the constant 0", "divide by a non-zero constant");
  if ((aop == op::LSH || aop == op::RSH || aop == op::ARSH) && !x && (in.imm < 0 || in.imm >= (is64 ? 64 : 32)))
    return fail("invalid shift " + std::to_string(in.imm), "shifts must be by less than the operand width");

  Reg src_k;
  if (!x) src_k = Reg::constant(is64 ? static_cast<uint64_t>(static_cast<int64_t>(in.imm)) : static_cast<uint32_t>(in.imm));
  const Reg& src = x ? st.reg(in.src) : src_k;  // may alias dst: read what is needed before dst changes

  if (aop == op::NEG) {
    if (dst.is_pointer()) {
      dst = Reg::unknown();
      return true;
    }
    dst.var = Scalar::alu(op::NEG, dst.var, dst.var, !is64);
    dst.id = 0;
    if (!is64) set_fact(pc_, kFits32);
    return true;
  }

  if (dst.is_pointer() || src.is_pointer()) {
    if (dst.is_pointer() && src.is_pointer()) {
      if (aop == op::SUB) {
        dst = Reg::unknown();  // pointer difference: a number to a privileged loader
        return true;
      }
      return fail(d + " pointer " + alu_sym(aop) + " pointer prohibited", "two pointers can only be subtracted",
                  "", {in.dst, in.src});
    }
    const bool ptr_is_dst = dst.is_pointer();
    const Reg ptr = ptr_is_dst ? dst : src;
    const Reg off = ptr_is_dst ? src : dst;
    const int ptr_regno = ptr_is_dst ? in.dst : in.src;
    const std::string tname = reg_type_name(ptr.type, ptr.maybe_null);
    if (!is64) {
      if (aop == op::SUB) {
        dst = Reg::unknown();
        return true;
      }
      return fail(d + " 32-bit pointer arithmetic prohibited", "32-bit arithmetic would cut the pointer in half",
                  "use 64-bit arithmetic on pointers", {ptr_regno});
    }
    // The number moves the pointer: its value decides every later access.
    if (x || !ptr_is_dst) mark_precise(ptr_is_dst ? in.src : in.dst);
    if (ptr.maybe_null)
      return fail(d + " pointer arithmetic on " + tname + " prohibited, null-check it first",
                  "the pointer may still be NULL here", "compare it with 0 (if (!p) return ...) before using it", {ptr_regno});
    switch (ptr.type) {
      case RegType::ConstMapPtr:
        if (off.is_const() && off.var.const_value() == 0 && aop == op::ADD) {
          dst = ptr;
          return true;
        }
        [[fallthrough]];
      case RegType::PacketEnd:
        return fail(d + " pointer arithmetic on " + tname + " prohibited", "this kind of pointer cannot be moved",
                    "", {ptr_regno});
      default: break;
    }
    auto sane = [&](const Reg& r, bool is_off) -> bool {
      if (is_off && r.var.is_const()) {
        const int64_t v = static_cast<int64_t>(r.var.const_value());
        if (v >= kMaxVarOff || v <= -kMaxVarOff)
          return fail("math between " + tname + " pointer and " + std::to_string(v) + " is not allowed",
                      "the offset is far outside any object", "", {in.dst});
      }
      if (r.off >= kMaxVarOff || r.off <= -kMaxVarOff)
        return fail(tname + " pointer offset " + std::to_string(r.off) + " is not allowed", "", "", {in.dst});
      if (r.var.smin == INT64_MIN)
        return fail("math between " + tname + " pointer and register with unbounded min value is not allowed",
                    "the number added to the pointer has no lower bound, so the result could point anywhere",
                    "bound it first, e.g. if (idx >= N) return ...; or idx &= N-1", {in.dst, in.src});
      if (r.var.smin >= kMaxVarOff || r.var.smin <= -kMaxVarOff)
        return fail("value " + std::to_string(r.var.smin) + " makes " + tname + " pointer be out of bounds", "", "", {in.dst});
      return true;
    };
    if (!sane(off, true) || !sane(ptr, false)) return false;
    Reg res = ptr;
    switch (aop) {
      case op::ADD:
        if (off.var.is_const()) {
          const int64_t v = static_cast<int64_t>(off.var.const_value());
          const int64_t no = static_cast<int64_t>(ptr.off) + v;
          if (no == static_cast<int32_t>(no)) {
            res.off = static_cast<int32_t>(no);
            break;
          }
        }
        res.var = Scalar::alu(op::ADD, ptr.var, off.var, false);
        if (res.is_pkt()) {
          res.id = new_id();
          res.range = 0;
        }
        break;
      case op::SUB:
        if (!ptr_is_dst) return fail(d + " tried to subtract pointer from scalar", "", "", {in.dst, in.src});
        if (ptr.type == RegType::Stack)
          return fail(d + " subtraction from stack pointer prohibited", "", "add a negative number instead", {in.dst});
        if (off.var.is_const()) {
          const int64_t v = static_cast<int64_t>(off.var.const_value());
          const int64_t no = static_cast<int64_t>(ptr.off) - v;
          if (no == static_cast<int32_t>(no)) {
            res.off = static_cast<int32_t>(no);
            break;
          }
        }
        res.var = Scalar::alu(op::SUB, ptr.var, off.var, false);
        if (res.is_pkt()) {
          res.id = new_id();
          res.range = 0;
        }
        break;
      case op::AND:
      case op::OR:
      case op::XOR:
        return fail(d + " bitwise operator " + alu_sym(aop) + " on pointer prohibited",
                    "bit operations on pointers are not allowed", "", {ptr_regno});
      default:
        return fail(d + " pointer arithmetic with " + alu_sym(aop) + " operator prohibited",
                    "only adding and subtracting numbers moves a pointer", "", {ptr_regno});
    }
    if (!sane(res, false)) return false;
    dst = res;
    return true;
  }

  // scalar op scalar
  const bool is_signed = in.off == 1 && (aop == op::DIV || aop == op::MOD);
  if (aop == op::DIV || aop == op::MOD) {
    // A 32-bit division divides by the low 32 bits only.
    const bool nonzero = !x || (is64 ? !src.var.contains(0)
                                     : (src.var.u32_min > 0 || (src.var.var_off.value & 0xffffffffu) != 0));
    if (nonzero) {
      set_fact(pc_, kDivisorNonZero);
      if (x) mark_precise(in.src);  // the JIT drops its zero check on this fact
    }
  }
  const bool src_const = src.is_const();
  const uint64_t src_value = src.var.const_value();
  dst.var = Scalar::alu(aop, dst.var, src.var, !is64, is_signed);
  // "r2 = r1; r2 += K" keeps r2 linked to r1 with a known delta, so a bound
  // learned on either applies to both (the kernel's BPF_ADD_CONST ids).
  if (aop == op::ADD && is64 && dst.id && src_const && !dst.linked_add && src_value <= INT32_MAX) {
    dst.linked_add = true;
    dst.off = static_cast<int32_t>(src_value);
  } else {
    dst.id = 0;
    dst.off = 0;
    dst.linked_add = false;
  }
  if (!is64) set_fact(pc_, kFits32);
  return true;
}

}  // namespace userbpf::verifier
