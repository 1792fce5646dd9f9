// Differential tests: userbpf's interpreter and JIT against the kernel
// (BPF_PROG_TEST_RUN) on random and hand-written programs.  The kernel reports
// only a u32, so every program runs there twice (as is and with `r0 >>= 32`
// before exit) to get all 64 bits of r0.  Skipped when this process cannot load
// BPF programs.
#include <gtest/gtest.h>

#include <array>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support/kernel_bpf.h"
#include "support/random_prog.h"
#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace userbpf::testing {
namespace {

using isa::Insn;
namespace op = isa::op;

constexpr size_t kPacketSize = 64;

std::array<uint8_t, kPacketSize> packet() {
  std::array<uint8_t, kPacketSize> p{};
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 7 + 1);
  return p;
}

Result<uint64_t> userbpf_r0(std::span<const Insn> prog, const char* engine_name) {
  auto engine = vm::make_engine(engine_name, prog);
  if (!engine) return engine.error();
  // The programs never read the context, but r1 gets a real region like a ctx would.
  std::array<uint8_t, kPacketSize> input = packet();
  vm::ExecContext ctx;
  ctx.regions.push_back({reinterpret_cast<uintptr_t>(input.data()), input.size(), true, "ctx"});
  ctx.args[0] = reinterpret_cast<uintptr_t>(input.data());
  return engine.value()->run(ctx);
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

// Empty when both agree, otherwise a report naming the program.
std::string compare(const std::string& what, std::span<const Insn> prog) {
  const auto data = packet();
  const Result<uint64_t> kernel = kernel_r0_64(prog, KernelProgType::SocketFilter, data);
  const std::string listing = "\n" + isa::disassemble_program(prog);
  if (!kernel) return what + ": kernel: " + kernel.error().str() + listing;
  for (const char* engine : {"interp", "jit"}) {
    const Result<uint64_t> ours = userbpf_r0(prog, engine);
    if (!ours)
      return what + ": userbpf " + engine + " failed: " + ours.error().str() + " (kernel r0 " + hex(*kernel) + ")" +
             listing;
    if (*ours != *kernel)
      return what + ": r0 mismatch: kernel " + hex(*kernel) + " userbpf " + engine + " " + hex(*ours) + listing;
  }
  return {};
}

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

#define REQUIRE_KERNEL_BPF()                                                                 \
  do {                                                                                       \
    if (!kernel_bpf_available()) GTEST_SKIP() << "kernel BPF unavailable: " << kernel_bpf_unavailable_reason(); \
  } while (0)

TEST(RandomProg, DeterministicPerSeed) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const auto a = random_program(seed), b = random_program(seed);
    ASSERT_EQ(isa::to_bytes(a), isa::to_bytes(b)) << "seed " << seed;
    EXPECT_TRUE(isa::validate(a).ok()) << "seed " << seed << ": " << isa::validate(a).error().str();
  }
  EXPECT_NE(isa::to_bytes(random_program(1)), isa::to_bytes(random_program(2)));
}

// Generator check on the kernel alone: longer programs, plain `r0 = rN` tail.
TEST(KernelDiff, RandomProgramsPassKernelVerifier) {
  REQUIRE_KERNEL_BPF();
  RandomProgOptions o;
  o.min_body = 80;
  o.max_body = 160;
  o.mix_state = false;
  int rejected = 0;
  for (uint64_t seed = 1'000'000; seed < 1'000'300; ++seed) {
    const auto prog = random_program(seed, o);
    const KernelProgram k = KernelProgram::load(prog);
    if (k.loaded()) continue;
    if (++rejected <= 3)
      ADD_FAILURE() << "seed " << seed << " refused (" << std::strerror(k.err()) << ")\n"
                    << isa::disassemble_program(prog) << "\nverifier log:\n" << k.verifier_log();
  }
  EXPECT_EQ(rejected, 0);
}

// USERBPF_KDIFF_SEEDS / USERBPF_KDIFF_SEED_BASE widen or move the run, e.g. to
// replay one failing seed: USERBPF_KDIFF_SEED_BASE=1234 USERBPF_KDIFF_SEEDS=1.
TEST(KernelDiff, RandomProgramsMatchKernel) {
  REQUIRE_KERNEL_BPF();
  const uint64_t base = env_or("USERBPF_KDIFF_SEED_BASE", 1);
  const uint64_t count = env_or("USERBPF_KDIFF_SEEDS", 10000);
  int failures = 0;
  for (uint64_t seed = base; seed < base + count; ++seed) {
    const auto prog = random_program(seed);
    const std::string diff = compare("seed " + std::to_string(seed), prog);
    if (diff.empty()) continue;
    if (++failures <= 5) ADD_FAILURE() << diff;
  }
  EXPECT_EQ(failures, 0) << "of " << count << " random programs";
}

// ---- hand-written edge cases ---------------------------------------------------

constexpr uint8_t A64 = op::ALU64, A32 = op::ALU;
constexpr int16_t kSigned = 1;  // off of sdiv/smod

// Tiny builder: enough to spell the edge programs readably.
struct Prog {
  std::vector<Insn> v;
  Prog& raw(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    Insn i;
    i.opcode = code;
    i.dst = dst;
    i.src = src;
    i.off = off;
    i.imm = imm;
    v.push_back(i);
    return *this;
  }
  Prog& ld(uint8_t dst, uint64_t val) {  // lddw
    raw(op::LD | op::IMM | op::DW, dst, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(val)));
    return raw(0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(val >> 32)));
  }
  Prog& alu(uint8_t cls, uint8_t code, uint8_t dst, int32_t imm, int16_t off = 0) {
    return raw(cls | code | op::K, dst, 0, off, imm);
  }
  Prog& alux(uint8_t cls, uint8_t code, uint8_t dst, uint8_t src, int16_t off = 0) {
    return raw(cls | code | op::X, dst, src, off, 0);
  }
  Prog& end(uint8_t code, uint8_t dst, int32_t bits) { return raw(code, dst, 0, 0, bits); }
  Prog& stx(uint8_t size, int16_t off, uint8_t src) { return raw(op::STX | op::MEM | size, 10, src, off, 0); }
  Prog& st(uint8_t size, int16_t off, int32_t imm) { return raw(op::ST | op::MEM | size, 10, 0, off, imm); }
  Prog& ldx(uint8_t mode_size, uint8_t dst, int16_t off) { return raw(op::LDX | mode_size, dst, 10, off, 0); }
  Prog& atomic(uint8_t size, int16_t off, uint8_t src, int32_t aop) {
    return raw(op::STX | op::ATOMIC | size, 10, src, off, aop);
  }
  Prog& jmp(uint8_t cls, uint8_t code, uint8_t dst, int32_t imm, int16_t off) {
    return raw(cls | code | op::K, dst, 0, off, imm);
  }
  Prog& jmpx(uint8_t cls, uint8_t code, uint8_t dst, uint8_t src, int16_t off) {
    return raw(cls | code | op::X, dst, src, off, 0);
  }
  Prog& exit() { return raw(op::JMP | op::EXIT, 0, 0, 0, 0); }
  // r0 = r0 * K ^ rN: fold another value into the result.
  Prog& fold(uint8_t r) { return alu(A64, op::MUL, 0, 0x01000193).alux(A64, op::XOR, 0, r); }
};

// r0 = a <op> b with both operands in registers (r0, r1), 64 or 32 bits.
Prog binop(uint8_t cls, uint8_t code, uint64_t a, uint64_t b, int16_t off = 0) {
  Prog p;
  return p.ld(0, a).ld(1, b).alux(cls, code, 0, 1, off).exit();
}
Prog binop_imm(uint8_t cls, uint8_t code, uint64_t a, int32_t imm, int16_t off = 0) {
  Prog p;
  return p.ld(0, a).alu(cls, code, 0, imm, off).exit();
}
Prog unop(uint64_t a, auto&& body) {
  Prog p;
  p.ld(0, a);
  body(p);
  return p.exit();
}
// A stack slot at r10-8 holding `mem`, r0/r1 preset, the atomic op, then r0, r1 and
// the slot folded together so all three effects are checked.
Prog atomic_case(uint8_t size, int32_t aop, uint64_t mem, uint64_t r0, uint64_t r1) {
  Prog p;
  p.ld(2, mem).stx(op::DW, -8, 2).ld(0, r0).ld(1, r1).atomic(size, -8, 1, aop);
  p.ldx(op::MEM | op::DW, 3, -8).alux(A64, op::MOV, 4, 0).alux(A64, op::MOV, 0, 3).fold(4).fold(1);
  return p.exit();
}
// r0 = 1 when the jump is taken, 2 otherwise.
Prog branch(uint8_t cls, uint8_t code, uint64_t a, uint64_t b) {
  Prog p;
  p.ld(1, a).ld(2, b).alu(A64, op::MOV, 0, 1).jmpx(cls, code, 1, 2, 1).alu(A64, op::MOV, 0, 2);
  return p.exit();
}
Prog branch_imm(uint8_t cls, uint8_t code, uint64_t a, int32_t imm) {
  Prog p;
  p.ld(1, a).alu(A64, op::MOV, 0, 1).jmp(cls, code, 1, imm, 1).alu(A64, op::MOV, 0, 2);
  return p.exit();
}
Prog load_case(uint8_t mode_size, uint64_t mem, int16_t off) {
  Prog p;
  return p.ld(1, mem).stx(op::DW, -8, 1).ldx(mode_size, 0, static_cast<int16_t>(-8 + off)).exit();
}

struct Edge {
  const char* name;
  Prog prog;
};

std::vector<Edge> edge_programs() {
  const uint64_t I64_MIN = 0x8000000000000000ull, M1 = ~0ull;
  const uint64_t V = 0x1122334455667788ull;
  std::vector<Edge> e = {
      // Signed division overflow and division by zero (kernel semantics: x/0 = 0,
      // x%0 = x, and the 32-bit forms zero the upper half).
      {"sdiv64 INT64_MIN / -1", binop(A64, op::DIV, I64_MIN, M1, kSigned)},
      {"sdiv64 imm INT64_MIN / -1", binop_imm(A64, op::DIV, I64_MIN, -1, kSigned)},
      {"smod64 INT64_MIN % -1", binop(A64, op::MOD, I64_MIN, M1, kSigned)},
      {"smod64 imm INT64_MIN % -1", binop_imm(A64, op::MOD, I64_MIN, -1, kSigned)},
      {"sdiv32 INT32_MIN / -1, upper bits set", binop(A32, op::DIV, 0xdead000080000000ull, M1, kSigned)},
      {"smod32 INT32_MIN % -1", binop(A32, op::MOD, 0xdead000080000000ull, 0x12345678ffffffffull, kSigned)},
      {"sdiv32 imm INT32_MIN / -1", binop_imm(A32, op::DIV, 0x80000000ull, -1, kSigned)},
      {"smod64 by zero", binop(A64, op::MOD, static_cast<uint64_t>(-7), 0, kSigned)},
      {"smod32 by zero, upper bits", binop(A32, op::MOD, 0xdeadbeeffffffff9ull, 0, kSigned)},
      {"sdiv64 by zero", binop(A64, op::DIV, static_cast<uint64_t>(-7), 0, kSigned)},
      {"sdiv32 by zero", binop(A32, op::DIV, 0xffffffff80000000ull, 0xabcd00000000ull, kSigned)},
      {"mod32 by zero (low half zero), upper bits", binop(A32, op::MOD, 0x1234567800000005ull, 0x100000000ull)},
      {"mod64 by zero", binop(A64, op::MOD, 0x1234567800000005ull, 0)},
      {"div32 by zero", binop(A32, op::DIV, 0x1234567800000005ull, 0xffffffff00000000ull)},
      {"div64 by zero", binop(A64, op::DIV, 0x1234567800000005ull, 0)},
      {"div64 by 2^32 (not zero)", binop(A64, op::DIV, 0x1234567800000005ull, 0x100000000ull)},
      {"div64 imm -1 (divisor 2^64-1)", binop_imm(A64, op::DIV, 100, -1)},
      {"div32 imm -1 (divisor 2^32-1)", binop_imm(A32, op::DIV, 0xfffffffffffffffeull, -1)},
      {"mod64 imm -3", binop_imm(A64, op::MOD, M1, -3)},
      {"sdiv64 -100 / 7", binop_imm(A64, op::DIV, static_cast<uint64_t>(-100), 7, kSigned)},
      {"smod64 -100 % 7", binop_imm(A64, op::MOD, static_cast<uint64_t>(-100), 7, kSigned)},
      {"smod32 -100 % -7", binop(A32, op::MOD, 0xffffff9cull, static_cast<uint64_t>(-7), kSigned)},
      {"smod64 100 % -7", binop(A64, op::MOD, 100, static_cast<uint64_t>(-7), kSigned)},
      // Register shift amounts are masked to the width.
      {"lsh64 by 63", binop(A64, op::LSH, 0x3, 63)},
      {"lsh64 by 64", binop(A64, op::LSH, V, 64)},
      {"lsh64 by 65", binop(A64, op::LSH, V, 65)},
      {"rsh32 by 32 (upper bits dropped)", binop(A32, op::RSH, 0xffffffff87654321ull, 32)},
      {"rsh32 by 0x7fffffff21", binop(A32, op::RSH, 0xffffffff87654321ull, 0x7fffffff21ull)},
      {"lsh32 by 31", binop(A32, op::LSH, 0xffffffff00000003ull, 31)},
      {"arsh64 negative by 63", binop(A64, op::ARSH, I64_MIN | 5, 63)},
      {"arsh64 negative by 64", binop(A64, op::ARSH, I64_MIN | 5, 64)},
      {"arsh64 negative by 4", binop(A64, op::ARSH, 0xf000000000000000ull, 4)},
      {"arsh32 negative by 4", binop_imm(A32, op::ARSH, 0x1234567880000000ull, 4)},
      {"arsh32 negative by 33", binop(A32, op::ARSH, 0x80000000ull, 33)},
      {"arsh32 positive low, negative upper", binop_imm(A32, op::ARSH, 0x800000007fffffffull, 31)},
      {"rsh64 imm 63", binop_imm(A64, op::RSH, I64_MIN, 63)},
      // Sign extension.
      {"movsx8 of 0x80", unop(0x80, [](Prog& p) { p.alux(A64, op::MOV, 0, 0, 8); })},
      {"movsx8 ignores upper bits", unop(0x123456789abcde7full, [](Prog& p) { p.alux(A64, op::MOV, 0, 0, 8); })},
      {"movsx8_32 of 0x80", unop(0xffffffff00000080ull, [](Prog& p) { p.alux(A32, op::MOV, 0, 0, 8); })},
      {"movsx16 of 0x8000", unop(0x8000, [](Prog& p) { p.alux(A64, op::MOV, 0, 0, 16); })},
      {"movsx16_32 of 0x8000", unop(0x8000, [](Prog& p) { p.alux(A32, op::MOV, 0, 0, 16); })},
      {"movsx32 of 0x80000000", unop(0x80000000ull, [](Prog& p) { p.alux(A64, op::MOV, 0, 0, 32); })},
      {"mov32 reg zero-extends", unop(M1, [](Prog& p) { p.alux(A32, op::MOV, 0, 0); })},
      {"mov32 imm -1", unop(0, [](Prog& p) { p.alu(A32, op::MOV, 0, -1); })},
      {"mov64 imm -1", unop(0, [](Prog& p) { p.alu(A64, op::MOV, 0, -1); })},
      {"neg64 INT64_MIN", unop(I64_MIN, [](Prog& p) { p.alu(A64, op::NEG, 0, 0); })},
      {"neg32 INT32_MIN, upper bits", unop(0xffff000080000000ull, [](Prog& p) { p.alu(A32, op::NEG, 0, 0); })},
      {"neg32 of 0, upper bits", unop(0xffff000000000000ull, [](Prog& p) { p.alu(A32, op::NEG, 0, 0); })},
      {"mul32 overflow zero-extends", binop(A32, op::MUL, 0xffffffff12345678ull, 0x9abcdef0ull)},
      {"add32 imm negative zero-extends", binop_imm(A32, op::ADD, 5, -10)},
      {"sub64 imm sign-extended", binop_imm(A64, op::SUB, 0, static_cast<int32_t>(0x80000000u))},
      {"and64 imm sign-extended", binop_imm(A64, op::AND, M1, static_cast<int32_t>(0xffff0000u))},
      {"xor32 imm upper bits", binop_imm(A32, op::XOR, 0xabcdef0012345678ull, -1)},
      // Byte order (x86-64 is little endian: le truncates, be swaps).
      {"be16 of 64-bit", unop(V, [](Prog& p) { p.end(A32 | op::END | op::X, 0, 16); })},
      {"be32 of 64-bit", unop(V, [](Prog& p) { p.end(A32 | op::END | op::X, 0, 32); })},
      {"be64", unop(V, [](Prog& p) { p.end(A32 | op::END | op::X, 0, 64); })},
      {"le16 of 64-bit", unop(V, [](Prog& p) { p.end(A32 | op::END | op::K, 0, 16); })},
      {"le32 of 64-bit", unop(V, [](Prog& p) { p.end(A32 | op::END | op::K, 0, 32); })},
      {"le64", unop(V, [](Prog& p) { p.end(A32 | op::END | op::K, 0, 64); })},
      {"bswap16", unop(V, [](Prog& p) { p.end(A64 | op::END | op::K, 0, 16); })},
      {"bswap32", unop(V, [](Prog& p) { p.end(A64 | op::END | op::K, 0, 32); })},
      {"bswap64", unop(V, [](Prog& p) { p.end(A64 | op::END | op::K, 0, 64); })},
      // Atomics: old value to src (fetch) / r0 (cmpxchg), 32-bit forms zero-extend.
      {"cmpxchg64 hit", atomic_case(op::DW, op::CMPXCHG, V, V, 0xabcdull)},
      {"cmpxchg64 miss", atomic_case(op::DW, op::CMPXCHG, V, V + 1, 0xabcdull)},
      {"cmpxchg32 hit, r0 upper bits ignored", atomic_case(op::W, op::CMPXCHG, V, 0xffffffff55667788ull, M1)},
      {"cmpxchg32 miss", atomic_case(op::W, op::CMPXCHG, V, 0x55667789ull, M1)},
      {"xchg64", atomic_case(op::DW, op::XCHG, V, 7, M1)},
      {"xchg32 zero-extends", atomic_case(op::W, op::XCHG, 0x80000000ull, 7, M1)},
      {"fetch_add32 carry stays in word", atomic_case(op::W, op::ADD | op::FETCH, 0x00000001ffffffffull, 0, 1)},
      {"add32 no fetch", atomic_case(op::W, op::ADD, 0x00000001ffffffffull, 9, 0x100000001ull)},
      {"fetch_add64", atomic_case(op::DW, op::ADD | op::FETCH, M1, 0, 2)},
      {"fetch_or64", atomic_case(op::DW, op::OR | op::FETCH, V, 0, 0xf0f0f0f0f0f0f0f0ull)},
      {"fetch_or32", atomic_case(op::W, op::OR | op::FETCH, V, 0, 0xf0f0f0f0f0f0f0f0ull)},
      {"fetch_and64", atomic_case(op::DW, op::AND | op::FETCH, V, 0, 0x0ff00ff00ff00ff0ull)},
      {"fetch_and32", atomic_case(op::W, op::AND | op::FETCH, V, 0, 0x0ff00ff00ff00ff0ull)},
      {"fetch_xor64", atomic_case(op::DW, op::XOR | op::FETCH, V, 0, M1)},
      {"fetch_xor32", atomic_case(op::W, op::XOR | op::FETCH, V, 0, M1)},
      {"xor64 no fetch", atomic_case(op::DW, op::XOR, V, 3, M1)},
      {"and32 no fetch", atomic_case(op::W, op::AND, V, 3, 0xffff0000ffff00ffull)},
      // Jumps: JMP32 looks at the low half only.
      {"jslt32 with upper bits set", branch_imm(op::JMP32, op::JSLT, 0x00000000ffffffffull, 0)},
      {"jslt64 same value", branch_imm(op::JMP, op::JSLT, 0x00000000ffffffffull, 0)},
      {"jeq32 low half zero", branch_imm(op::JMP32, op::JEQ, 0x100000000ull, 0)},
      {"jsgt32 reg", branch(op::JMP32, op::JSGT, 0xffffffff00000001ull, 0x00000000ffffffffull)},
      {"jsge64 reg", branch(op::JMP, op::JSGE, I64_MIN, 0)},
      {"jgt64 unsigned", branch(op::JMP, op::JGT, I64_MIN, 1)},
      {"jlt32 unsigned", branch(op::JMP32, op::JLT, 0x0000000580000000ull, 0x7fffffffull)},
      {"jle32 equal low halves", branch(op::JMP32, op::JLE, 0xaaaaaaaa00000009ull, 0x9ull)},
      {"jset32 only upper bits", branch_imm(op::JMP32, op::JSET, 0xff00000000ull, -1)},
      {"jset64 imm sign-extended", branch_imm(op::JMP, op::JSET, 0xff00000000ull, -1)},
      {"jne64 imm sign-extended", branch_imm(op::JMP, op::JNE, 0xffffffff80000000ull, static_cast<int32_t>(0x80000000u))},
      {"jeq32 imm vs sign-extended", branch_imm(op::JMP32, op::JEQ, 0x80000000ull, static_cast<int32_t>(0x80000000u))},
      {"jsle32 imm INT_MIN", branch_imm(op::JMP32, op::JSLE, 0x80000000ull, static_cast<int32_t>(0x80000000u))},
      // Sign-extending and narrow loads (little-endian byte offsets).
      {"ldxsb of 0x80", load_case(op::MEMSX | op::B, 0x80, 0)},
      {"ldxsb of 0x7f", load_case(op::MEMSX | op::B, 0x807f, 0)},
      {"ldxsh of 0x8000", load_case(op::MEMSX | op::H, 0x8000, 0)},
      {"ldxsw of 0x80000000", load_case(op::MEMSX | op::W, 0x80000000ull, 0)},
      {"ldxsw upper word", load_case(op::MEMSX | op::W, 0x8000000100000000ull, 4)},
      {"ldxb byte 7", load_case(op::MEM | op::B, V, 7)},
      {"ldxh byte 2", load_case(op::MEM | op::H, V, 2)},
      {"ldxw no sign extension", load_case(op::MEM | op::W, 0xffffffffffffffffull, 4)},
  };
  // Narrow stores leave the rest of the slot alone.
  {
    Prog p;
    p.ld(1, M1).stx(op::DW, -8, 1).stx(op::DW, -16, 1).ld(2, V).stx(op::B, -7, 2).stx(op::H, -4, 2).st(op::W, -16, -2).st(op::DW, -24, -3);
    p.ldx(op::MEM | op::DW, 0, -8).ldx(op::MEM | op::DW, 3, -16).fold(3).ldx(op::MEM | op::W, 3, -24).fold(3).exit();
    e.push_back({"narrow stores", p});
  }
  // gotol and an early exit (both exits get the `r0 >>= 32` of the high-half run).
  {
    Prog p;
    p.ld(0, V).jmp(op::JMP, op::JEQ, 0, 5, 1).raw(op::JMP32 | op::JA, 0, 0, 0, 2).ld(0, 1);
    p.jmp(op::JMP, op::JNE, 0, 7, 1).exit();
    p.alu(A64, op::ADD, 0, 1).exit();
    e.push_back({"gotol + early exit", p});
  }
  return e;
}

TEST(KernelDiff, EdgeProgramsMatchKernel) {
  REQUIRE_KERNEL_BPF();
  const auto cases = edge_programs();
  for (const Edge& c : cases) {
    const std::string diff = compare(c.name, c.prog.v);
    EXPECT_TRUE(diff.empty()) << diff;
  }
}

// The high-half rewrite itself: every exit gets the shift, jumps keep their targets.
TEST(KernelDiff, HighHalfRewriteShiftsEveryExit) {
  Prog p;
  p.ld(0, 0x1122334455667788ull).jmp(op::JMP, op::JNE, 0, 0, 1).exit().alu(A64, op::ADD, 0, 1).exit();
  const auto r = with_r0_high_half(p.v);
  ASSERT_TRUE(r.ok()) << r.error().str();
  const std::vector<Insn>& h = r.value();
  ASSERT_EQ(h.size(), p.v.size() + 2);
  // jne at slot 2 originally skipped the first exit to slot 4; now to slot 5.
  EXPECT_EQ(h[2].off, 2);
  EXPECT_EQ(h[3].opcode, op::ALU64 | op::RSH | op::K);
  EXPECT_EQ(h[3].imm, 32);
  EXPECT_EQ(h[6].opcode, op::ALU64 | op::RSH | op::K);
  EXPECT_EQ(h[7].opcode, op::JMP | op::EXIT);
  if (!kernel_bpf_available()) return;
  const auto data = packet();
  const auto r0 = kernel_r0_64(p.v, KernelProgType::SocketFilter, data);
  ASSERT_TRUE(r0.ok()) << r0.error().str();
  EXPECT_EQ(*r0, 0x1122334455667789ull);
  const auto xdp = kernel_r0_64(p.v, KernelProgType::Xdp, data);
  ASSERT_TRUE(xdp.ok()) << xdp.error().str();
  EXPECT_EQ(*xdp, 0x1122334455667789ull);
}

}  // namespace
}  // namespace userbpf::testing
