// JIT against the interpreter: loads (zero- and sign-extending), stores,
// atomics and legacy packet loads, in bounds and out, on the stack and in
// regions, checked and proven.
#include <cstring>

#include "unit/jit_test_util.h"

namespace userbpf::jit_test {
namespace {

using isa::Op;

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(0x81 + i * 37);
  return v;
}

RunSetup input_setup(size_t n = 32) {
  RunSetup s;
  s.input = pattern(n);
  return s;
}

const uint8_t kSizes[] = {op::B, op::H, op::W, op::DW};
int bytes(uint8_t size) { return size == op::B ? 1 : size == op::H ? 2 : size == op::W ? 4 : 8; }

TEST(JitMem, LoadsEverySizeAndBaseRegister) {
  for (uint8_t size : kSizes)
    for (bool sx : {false, true}) {
      if (sx && size == op::DW) continue;
      for (uint8_t base = 1; base < 10; ++base)
        for (int16_t off : {0, 1, 3, 7, 24}) {
          const isa::Insn load = sx ? ldxs(size, 0, base, off) : ldx(size, 0, base, off);
          expect_same(P({mov64r(base, 1), load, exit_insn()}), input_setup());
          expect_same(P({mov64r(base, 1), sx ? ldxs(size, base, base, off) : ldx(size, base, base, off), mov64r(0, base),
                         exit_insn()}),
                      input_setup());
        }
    }
}

TEST(JitMem, StoresEverySize) {
  for (uint8_t size : kSizes)
    for (int32_t imm : {0, 1, -1, 0x7f, 0x80, 0x1234, -0x8000, 0x7fffffff, INT32_MIN}) {
      for (uint8_t base = 1; base < 10; ++base) {
        expect_same(P({mov64r(base, 1), st(size, base, 5, imm), mov64(0, 0), exit_insn()}), input_setup());
        const uint8_t src = base == 9 ? 3 : base + 1;
        expect_same(P({mov64r(base, 1), lddw(src, 0x8877665544332211ull ^ static_cast<uint64_t>(imm)),
                       stx(size, base, src, 2), mov64(0, 0), exit_insn()}),
                    input_setup());
      }
      // Through the stack, r10 directly and through a copy.
      expect_same(P({st(size, 10, -16, imm), ldx(size, 0, 10, -16), exit_insn()}));
      expect_same(P({mov64r(7, 10), st(size, 7, -24, imm), ldxs(size == op::DW ? op::W : size, 0, 10, -24), exit_insn()}));
    }
  // Byte stores from rsi and rdi need REX prefixes (sil, dil).
  for (uint8_t src = 0; src < 10; ++src) {
    if (src == 1) continue;
    expect_same(P({mov64(src, 0x1ab), stx(op::B, 1, src, 0), ldx(op::DW, 0, 1, 0), exit_insn()}), input_setup());
  }
  // r10's low byte (bpl): stored, read back, compared, and the byte wiped again.
  expect_same(P({stx(op::B, 1, 10, 0), ldx(op::B, 0, 1, 0), mov64r(2, 10), alu64(op::AND, 2, 0xff),
                 alu64r(op::SUB, 0, 2), st(op::B, 1, 0, 0), exit_insn()}),
              input_setup());
}

TEST(JitMem, OutOfBoundsAndReadOnly) {
  for (uint8_t size : kSizes) {
    const int n = bytes(size);
    expect_same(P({ldx(size, 0, 1, static_cast<int16_t>(32 - n + 1)), exit_insn()}), input_setup());
    expect_same(P({ldx(size, 0, 1, -1), exit_insn()}), input_setup());
    expect_same(P({st(size, 1, 32, 1), exit_insn()}), input_setup());
    expect_same(P({mov64(1, 0), ldx(size, 0, 1, 0), exit_insn()}));  // NULL
    expect_same(P({ldx(size, 0, 10, static_cast<int16_t>(-512 - n)), exit_insn()}));  // below the frame
    expect_same(P({ldx(size, 0, 10, 0), exit_insn()}));              // above the stack
    expect_same(P({mov64r(2, 10), ldx(size, 0, 2, -600), exit_insn()}));
    RunSetup ro = input_setup();
    ro.input_writable = false;
    expect_same(P({st(size, 1, 0, 1), exit_insn()}), ro);
    expect_same(P({ldx(size, 0, 1, 8), exit_insn()}), ro);
  }
  // Address arithmetic that wraps around 2^64.
  expect_same(P({lddw(2, UINT64_MAX - 2), ldx(op::DW, 0, 2, 0), exit_insn()}));
  expect_same(P({lddw(2, UINT64_MAX), ldx(op::B, 0, 2, 1), exit_insn()}));
}

TEST(JitMem, AtomicsEveryOpAndRegisterPair) {
  static const int32_t kOps[] = {op::ADD, op::OR, op::AND, op::XOR, op::ADD | op::FETCH, op::OR | op::FETCH,
                                 op::AND | op::FETCH, op::XOR | op::FETCH, op::XCHG, op::CMPXCHG};
  for (uint8_t size : {op::W, op::DW})
    for (int32_t aop : kOps)
      for (uint8_t base : {0, 1, 2, 3, 4, 6, 9})
        for (uint8_t src : {0, 1, 2, 3, 4, 5, 6, 9}) {
          Prog p = P({mov64r(base, 1)});
          if (src != base) {
            auto v = lddw(src, 0xf0f0f0f00f0f0f0full);
            p.insert(p.end(), v.begin(), v.end());
          }
          if (base != 0 && src != 0) {
            // cmpxchg compares with r0: sometimes equal to memory, sometimes not.
            auto v = lddw(0, (base + src) % 2 ? 0xaa8fdec5b29b7481ull : 0x1234);
            p.insert(p.end(), v.begin(), v.end());
          }
          p.push_back(atomic(size, base, src, 8, aop));
          const Prog tail = P({stx(op::DW, 10, 0, -8), stx(op::DW, 10, src, -16), ldx(op::DW, 0, 10, -8),
                               ldx(op::DW, 6, 10, -16), alu64(op::MUL, 6, 3), alu64r(op::XOR, 0, 6), exit_insn()});
          p.insert(p.end(), tail.begin(), tail.end());
          RunSetup s = input_setup();
          // Make the cmpxchg case with equal values succeed for both sizes.
          const uint64_t mem = 0xaa8fdec5b29b7481ull;
          std::memcpy(s.input.data() + 8, &mem, 8);
          expect_same(p, s, "atomic " + std::to_string(aop) + " base r" + std::to_string(base) + " src r" + std::to_string(src));
        }
}

TEST(JitMem, AtomicFaults) {
  for (uint8_t size : {op::W, op::DW}) {
    expect_same(P({mov64(2, 1), atomic(size, 1, 2, 2, op::ADD), exit_insn()}), input_setup());  // misaligned
    expect_same(P({mov64(2, 1), atomic(size, 1, 2, 32, op::ADD | op::FETCH), exit_insn()}), input_setup());
    expect_same(P({mov64(2, 1), atomic(size, 10, 2, -4 * 3, op::XCHG), ldx(size, 0, 10, -12), exit_insn()}));
    expect_same(P({mov64(2, 1), atomic(size, 10, 2, -6, op::CMPXCHG), exit_insn()}));  // misaligned on the stack
    RunSetup ro = input_setup();
    ro.input_writable = false;
    expect_same(P({mov64(2, 1), atomic(size, 1, 2, 0, op::OR), exit_insn()}), ro);
  }
}

TEST(JitMem, LegacyPacketLoads) {
  for (uint8_t size : {op::B, op::H, op::W})
    for (int32_t off : {0, 1, 5, 28, 29, 31, 32, 33, -1, INT32_MIN, 0x7fffffff}) {
      RunSetup s = input_setup();
      s.legacy_packet = true;
      // r1..r5 survive (the interpreter keeps them); r0 is the loaded value.
      expect_same(P({mov64(2, 7), mov64(3, 9), ldabs(size, off), alu64r(op::ADD, 0, 2), alu64r(op::ADD, 0, 3), exit_insn()}),
                  s);
      expect_same(P({mov64(6, 3), ldind(size, 6, off), exit_insn()}), s);
      expect_same(P({lddw(6, 0xffffffff00000004ull), ldind(size, 6, off), exit_insn()}), s);
    }
  expect_same(P({ldabs(op::W, 0), exit_insn()}));  // no packet at all
}

TEST(JitMem, ProvenAccessesGiveTheSameResults) {
  const Prog p = P({ldx(op::W, 2, 1, 4), stx(op::DW, 10, 2, -8), ldx(op::DW, 3, 10, -8), stx(op::H, 1, 3, 30),
                    mov64(4, 5), atomic(op::DW, 1, 4, 16, op::ADD | op::FETCH), ldxs(op::B, 0, 1, 30),
                    alu64r(op::ADD, 0, 4), exit_insn()});
  RunSetup s = input_setup();
  s.proofs = all_proven(p, vm::proof::kMemSafe | vm::proof::kNonNull);
  expect_same(p, s);
  // Proven accesses have no check call: the code is smaller.
  auto checked = jit::make_jit(p, {});
  vm::EngineOptions o;
  o.proofs = s.proofs;
  auto proven = jit::make_jit(p, o);
  ASSERT_TRUE(checked.ok() && proven.ok());
  const auto& a = dynamic_cast<const jit::JitEngine&>(**checked);
  const auto& b = dynamic_cast<const jit::JitEngine&>(**proven);
  EXPECT_LT(b.insn_offsets()[1] - b.insn_offsets()[0], a.insn_offsets()[1] - a.insn_offsets()[0]);
  // Stack accesses at a constant offset from r10 need no proof.
  EXPECT_EQ(a.insn_offsets()[2] - a.insn_offsets()[1], b.insn_offsets()[2] - b.insn_offsets()[1]);
}

}  // namespace
}  // namespace userbpf::jit_test
