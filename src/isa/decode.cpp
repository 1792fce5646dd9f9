// Bytes <-> slots, and field-level validation of a program against the table.
#include <cstring>

#include "userbpf/isa.h"

namespace userbpf::isa {

Result<std::vector<Insn>> from_bytes(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return make_error(ErrorKind::Malformed, "empty program");
  if (bytes.size() % sizeof(Insn) != 0)
    return make_error(ErrorKind::Malformed, "bytecode length " + std::to_string(bytes.size()) +
                                                " is not a multiple of 8 (truncated instruction)");
  std::vector<Insn> out(bytes.size() / sizeof(Insn));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

std::vector<uint8_t> to_bytes(std::span<const Insn> insns) {
  std::vector<uint8_t> out(insns.size() * sizeof(Insn));
  if (!insns.empty()) std::memcpy(out.data(), insns.data(), out.size());
  return out;
}

int64_t jump_target(const Insn& insn, const InsnSpec& s, size_t pc) {
  const int64_t next = static_cast<int64_t>(pc) + 1;
  if (s.op == Op::JA32 || s.op == Op::CALL_LOCAL) return next + insn.imm;
  return next + insn.off;
}

namespace {

std::string hex8(uint8_t v) {
  static const char* d = "0123456789abcdef";
  return std::string("0x") + d[v >> 4] + d[v & 15];
}

Error field_error(size_t pc, const Insn& insn, const std::string& what) {
  return make_error(ErrorKind::Malformed,
                    "invalid instruction (opcode " + hex8(insn.opcode) + "): " + what + " [" + disassemble(insn) + "]",
                    static_cast<int64_t>(pc));
}

// Register numbers in range (what decoding relies on).
Status check_registers(size_t pc, const Insn& insn, const InsnSpec& s) {
  if (insn.dst >= kNumRegs) return field_error(pc, insn, "dst register r" + std::to_string(insn.dst) + " does not exist");
  if (insn.src >= kNumRegs && s.uses_src_reg)
    return field_error(pc, insn, "src register r" + std::to_string(insn.src) + " does not exist");
  return ok_status();
}

// Reserved fields, register numbers and cpu version of one instruction.
Status check_fields(size_t pc, const Insn& insn, const InsnSpec& s, const ValidateOptions& opts) {
  if (s.cpu > opts.max_cpu)
    return field_error(pc, insn, std::string(s.asm_name) + " needs cpu v" + std::to_string(s.cpu));
  if ((s.zero & kZeroDst) && insn.dst != 0) return field_error(pc, insn, "dst register must be 0");
  if ((s.zero & kZeroSrc) && insn.src != 0) return field_error(pc, insn, "src register must be 0");
  if ((s.zero & kZeroOff) && insn.off != 0) return field_error(pc, insn, "offset must be 0");
  if ((s.zero & kZeroImm) && insn.imm != 0) return field_error(pc, insn, "immediate must be 0");
  if (Status st = check_registers(pc, insn, s); !st) return st;
  // r10 is read-only: anything that writes dst as a register must not name it.
  const bool writes_dst = s.kind == Kind::Alu || s.kind == Kind::Endian || s.kind == Kind::Load ||
                          s.kind == Kind::LoadImm64;
  if (writes_dst && insn.dst == kFramePointer) return field_error(pc, insn, "r10 (frame pointer) is read-only");
  // Fetching atomics write the old value back into src.
  if (s.kind == Kind::Atomic && (insn.imm & op::FETCH) && insn.src == kFramePointer)
    return field_error(pc, insn, "r10 (frame pointer) is read-only");
  return ok_status();
}

}  // namespace

Status validate(std::span<const Insn> prog, const ValidateOptions& opts, std::vector<const InsnSpec*>* specs_out) {
  if (prog.empty()) return make_error(ErrorKind::Malformed, "empty program");
  // Each slot's spec; nullptr marks the second slot of an lddw.
  std::vector<const InsnSpec*> own;
  std::vector<const InsnSpec*>& specs = specs_out ? *specs_out : own;
  specs.assign(prog.size(), nullptr);
  // First pass: opcodes, fields, LDDW pairs.
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const Insn& insn = prog[pc];
    const InsnSpec* s = lookup(insn);
    if (!s)
      return make_error(ErrorKind::Malformed, "unknown opcode " + hex8(insn.opcode) + " [" + disassemble(insn) + "]",
                        static_cast<int64_t>(pc));
    specs[pc] = s;
    if (Status st = opts.verified ? check_registers(pc, insn, *s) : check_fields(pc, insn, *s, opts); !st) return st;
    if (s->op == Op::CALLX) {
      const int reg = insn.dst != 0 ? insn.dst : insn.imm;
      if (insn.dst != 0 && insn.imm != 0) return field_error(pc, insn, "callx takes its register in dst or imm, not both");
      if (reg < 0 || reg >= kFramePointer) return field_error(pc, insn, "callx register out of range");
    }
    if (s->op == Op::CALL_HELPER && (insn.imm < 0 || insn.imm >= kMaxHelperId))
      return field_error(pc, insn, "helper id " + std::to_string(insn.imm) + " out of range");
    if (s->op == Op::CALL_KFUNC && !opts.allow_unresolved_pseudo)
      return field_error(pc, insn, "kfunc calls are not supported");
    if (s->kind == Kind::LoadImm64) {
      if (pc + 1 >= prog.size()) return field_error(pc, insn, "lddw is missing its second slot");
      const Insn& hi = prog[pc + 1];
      if (hi.opcode != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0)
        return field_error(pc + 1, hi, "second slot of lddw must have only an immediate");
      if (insn.src > pseudo::MAP_IDX_VALUE) return field_error(pc, insn, "unknown lddw pseudo source");
      if (insn.src != 0 && !opts.allow_unresolved_pseudo)
        return field_error(pc, insn, "lddw pseudo source " + std::to_string(insn.src) + " was not resolved");
      ++pc;  // its second slot keeps a nullptr spec
    }
  }
  // Second pass: control-flow targets.
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const InsnSpec* s = specs[pc];
    if (!s || (s->kind != Kind::Jump && s->op != Op::CALL_LOCAL)) continue;
    const Insn& insn = prog[pc];
    const int64_t target = jump_target(insn, *s, pc);
    if (target < 0 || target >= static_cast<int64_t>(prog.size()))
      return make_error(ErrorKind::Malformed,
                        "jump out of range: target " + std::to_string(target) + " [" + disassemble(insn) + "]",
                        static_cast<int64_t>(pc));
    if (!specs[static_cast<size_t>(target)])
      return make_error(ErrorKind::Malformed, "jump into the middle of an lddw [" + disassemble(insn) + "]",
                        static_cast<int64_t>(pc));
  }
  return ok_status();
}

}  // namespace userbpf::isa
