// The eBPF instruction set (RFC 9669, cpu v1-v4) as one table that every stage
// draws from: decoder, field validator, disassembler, assembler, interpreter,
// verifier and JIT.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/result.h"

namespace userbpf::isa {

// One 64-bit instruction slot, little-endian layout of the kernel's struct bpf_insn.
struct Insn {
  uint8_t opcode = 0;
  uint8_t dst : 4 = 0;
  uint8_t src : 4 = 0;
  int16_t off = 0;
  int32_t imm = 0;
};
static_assert(sizeof(Insn) == 8);

// An instruction from its fields (dst and src keep their low 4 bits).
constexpr Insn make_insn(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
  Insn i;
  i.opcode = opcode;
  i.dst = dst & 0xf;
  i.src = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

inline constexpr int kNumRegs = 11;        // r0..r10
inline constexpr int kFramePointer = 10;   // r10, read-only
inline constexpr int kStackSize = 512;     // bytes per call frame
inline constexpr int kMaxCallDepth = 8;    // bpf-to-bpf frames
inline constexpr int kMaxHelperId = 1u << 16;

// Opcode fields (RFC 9669 section 3).
namespace op {
inline constexpr uint8_t LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05,
                         JMP32 = 0x06, ALU64 = 0x07;
inline constexpr uint8_t K = 0x00, X = 0x08;
inline constexpr uint8_t W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
inline constexpr uint8_t IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, MEMSX = 0x80,
                         ATOMIC = 0xc0;
// ALU operations (bits 4-7).
inline constexpr uint8_t ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50,
                         LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0, MOV = 0xb0,
                         ARSH = 0xc0, END = 0xd0;
// Jump operations (bits 4-7).
inline constexpr uint8_t JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50,
                         JSGT = 0x60, JSGE = 0x70, CALL = 0x80, EXIT = 0x90, JLT = 0xa0,
                         JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0;
// Atomic operations (imm field).
inline constexpr int32_t FETCH = 0x01, XCHG = 0xe0 | FETCH, CMPXCHG = 0xf0 | FETCH;
inline constexpr uint8_t cls(uint8_t opcode) { return opcode & 0x07; }
inline constexpr uint8_t alu_op(uint8_t opcode) { return opcode & 0xf0; }
inline constexpr uint8_t size(uint8_t opcode) { return opcode & 0x18; }
inline constexpr uint8_t mode(uint8_t opcode) { return opcode & 0xe0; }
}  // namespace op

// Pseudo sources of LDDW (linux/bpf.h BPF_PSEUDO_*).
namespace pseudo {
inline constexpr uint8_t MAP_FD = 1, MAP_VALUE = 2, BTF_ID = 3, FUNC = 4, MAP_IDX = 5,
                         MAP_IDX_VALUE = 6;
// CALL sources.
inline constexpr uint8_t CALL_HELPER = 0, CALL_LOCAL = 1, CALL_KFUNC = 2;
}  // namespace pseudo

// Semantic operations: what the interpreter and JIT dispatch on.  The X-macro
// keeps the enum and its printable names in one place.
#define USERBPF_ALU_OPS(X, W)                                                               \
  X(ADD##W##_IMM) X(ADD##W##_REG) X(SUB##W##_IMM) X(SUB##W##_REG) X(MUL##W##_IMM)           \
  X(MUL##W##_REG) X(DIV##W##_IMM) X(DIV##W##_REG) X(SDIV##W##_IMM) X(SDIV##W##_REG)         \
  X(OR##W##_IMM) X(OR##W##_REG) X(AND##W##_IMM) X(AND##W##_REG) X(LSH##W##_IMM)             \
  X(LSH##W##_REG) X(RSH##W##_IMM) X(RSH##W##_REG) X(NEG##W) X(MOD##W##_IMM) X(MOD##W##_REG) \
  X(SMOD##W##_IMM) X(SMOD##W##_REG) X(XOR##W##_IMM) X(XOR##W##_REG) X(MOV##W##_IMM)         \
  X(MOV##W##_REG) X(MOVSX8_##W) X(MOVSX16_##W) X(ARSH##W##_IMM) X(ARSH##W##_REG)
#define USERBPF_JMP_OPS(X, W)                                                                \
  X(JEQ##W##_IMM) X(JEQ##W##_REG) X(JGT##W##_IMM) X(JGT##W##_REG) X(JGE##W##_IMM)            \
  X(JGE##W##_REG) X(JSET##W##_IMM) X(JSET##W##_REG) X(JNE##W##_IMM) X(JNE##W##_REG)          \
  X(JSGT##W##_IMM) X(JSGT##W##_REG) X(JSGE##W##_IMM) X(JSGE##W##_REG) X(JLT##W##_IMM)        \
  X(JLT##W##_REG) X(JLE##W##_IMM) X(JLE##W##_REG) X(JSLT##W##_IMM) X(JSLT##W##_REG)          \
  X(JSLE##W##_IMM) X(JSLE##W##_REG)
#define USERBPF_OPS(X)                                                                       \
  USERBPF_ALU_OPS(X, 64) USERBPF_ALU_OPS(X, 32) X(MOVSX32_64)                                \
  X(LE16) X(LE32) X(LE64) X(BE16) X(BE32) X(BE64) X(BSWAP16) X(BSWAP32) X(BSWAP64)           \
  X(JA) X(JA32) USERBPF_JMP_OPS(X, 64) USERBPF_JMP_OPS(X, 32)                               \
  X(CALL_HELPER) X(CALL_LOCAL) X(CALL_KFUNC) X(CALLX) X(EXIT)                                \
  X(LDDW)                                                                                    \
  X(LDABSB) X(LDABSH) X(LDABSW) X(LDINDB) X(LDINDH) X(LDINDW)                                \
  X(LDXB) X(LDXH) X(LDXW) X(LDXDW) X(LDXSB) X(LDXSH) X(LDXSW)                                \
  X(STB) X(STH) X(STW) X(STDW) X(STXB) X(STXH) X(STXW) X(STXDW)                              \
  X(ATOMIC_ADD32) X(ATOMIC_OR32) X(ATOMIC_AND32) X(ATOMIC_XOR32)                             \
  X(ATOMIC_FETCH_ADD32) X(ATOMIC_FETCH_OR32) X(ATOMIC_FETCH_AND32) X(ATOMIC_FETCH_XOR32)     \
  X(ATOMIC_XCHG32) X(ATOMIC_CMPXCHG32)                                                       \
  X(ATOMIC_ADD64) X(ATOMIC_OR64) X(ATOMIC_AND64) X(ATOMIC_XOR64)                             \
  X(ATOMIC_FETCH_ADD64) X(ATOMIC_FETCH_OR64) X(ATOMIC_FETCH_AND64) X(ATOMIC_FETCH_XOR64)     \
  X(ATOMIC_XCHG64) X(ATOMIC_CMPXCHG64)

enum class Op : uint16_t {
#define USERBPF_X(name) name,
  USERBPF_OPS(USERBPF_X)
#undef USERBPF_X
  INVALID
};
inline constexpr size_t kNumOps = static_cast<size_t>(Op::INVALID);
const char* op_name(Op op);

// What an instruction does, for stages that reason by family.
enum class Kind : uint8_t {
  Alu,        // ALU/ALU64 arithmetic, mov, movsx, neg
  Endian,     // le/be/bswap
  Jump,       // ja, gotol, conditional jumps
  Call,       // helper, local, kfunc, callx
  Exit,
  LoadImm64,  // lddw (two slots)
  LegacyLoad, // ld_abs / ld_ind (packet conformance group)
  Load,       // ldx, ldxs (sign-extending)
  Store,      // st (immediate)
  StoreReg,   // stx
  Atomic,
};

// Fields that must be zero for the encoding to be valid.
enum ZeroField : uint8_t { kZeroDst = 1, kZeroSrc = 2, kZeroOff = 4, kZeroImm = 8 };

// Which field (besides the opcode) tells instructions sharing an opcode apart.
enum class Match : uint8_t { None, Off, Imm, Src };

struct InsnSpec {
  Op op;
  uint8_t opcode;
  Match match;
  int32_t match_value;
  Kind kind;
  uint8_t cpu;        // lowest -mcpu version that has it (1..4)
  uint8_t zero;       // ZeroField mask
  uint8_t width;      // ALU/JMP: operand bits (32/64); memory: access bytes (1/2/4/8)
  bool uses_src_reg;  // reads the src register (X forms, stx, atomics, ldx base)
  const char* asm_name;  // uBPF/conformance mnemonic: "add32", "ldxb", "jne", "be16", ...
  const char* group;     // RFC 9669 conformance group: base32, base64, atom32, ...
};

std::span<const InsnSpec> all_specs();
// The spec for this slot, or nullptr when the encoding is not a valid instruction.
const InsnSpec* lookup(const Insn& insn);
const InsnSpec& spec(Op op);

// Raw bytes -> instruction slots (length must be a multiple of 8).
Result<std::vector<Insn>> from_bytes(std::span<const uint8_t> bytes);
std::vector<uint8_t> to_bytes(std::span<const Insn> insns);

struct ValidateOptions {
  int max_cpu = 4;                 // reject instructions newer than this cpu version
  bool allow_unresolved_pseudo = true;  // LDDW pseudo sources / kfunc calls left for the loader
  // The verifier accepted the program (and checked every field): only what
  // decoding relies on is checked again (opcodes, register numbers, callx and
  // helper operands, lddw pairs, jump targets).
  bool verified = false;
};
// Field-level validation of a whole program: every opcode known, reserved fields
// zero, registers in range, LDDW complete, jump/call targets inside the program and
// not into the middle of an LDDW.  Says nothing about memory safety (the verifier's job).
// `specs`, when given, receives each slot's spec (nullptr for an lddw's second
// slot), for callers that go on to decode the program.
Status validate(std::span<const Insn> prog, const ValidateOptions& opts = {},
                std::vector<const InsnSpec*>* specs = nullptr);

// Target slot index of a jump or local call at pc (pc + 1 + offset).
int64_t jump_target(const Insn& insn, const InsnSpec& spec, size_t pc);
inline bool is_lddw(const Insn& insn) { return insn.opcode == (op::LD | op::IMM | op::DW); }
inline uint64_t lddw_imm(const Insn& lo, const Insn& hi) {
  return static_cast<uint32_t>(lo.imm) | (static_cast<uint64_t>(static_cast<uint32_t>(hi.imm)) << 32);
}

// Disassembly in llvm-objdump's BPF syntax ("r0 = 1", "if r1 > r2 goto +3", ...).
// `next` is the following slot, needed for LDDW; pass nullptr when absent.
std::string disassemble(const Insn& insn, const Insn* next = nullptr);
// "IDX:\tTEXT" lines for a whole program, LDDW occupying two indexes as objdump does.
std::string disassemble_program(std::span<const Insn> prog);

// Assembler for both llvm-objdump syntax ("r0 = 1") and the uBPF/conformance
// syntax ("mov32 %r0, 1"), line by line, with labels ("name:") in either.
Result<std::vector<Insn>> assemble(std::string_view text);

}  // namespace userbpf::isa
