// The verifier on small hand-written programs: one rule per test, accepted and
// rejected side by side, with the kernel's wording of each rejection.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <regex>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/verifier.h"

namespace userbpf::verifier {
namespace {

// "map[N]" in an lddw becomes a map reference (src = MAP_FD, imm = N);
// "mapval[N+OFF]" a direct value reference.
std::vector<isa::Insn> assemble_with_maps(std::string text) {
  std::vector<std::pair<int, int>> refs;  // (kind, index, off) encoded in the immediate
  static const std::regex map_re(R"(map\[(\d+)\])"), val_re(R"(mapval\[(\d+)\+(\d+)\])");
  std::smatch m;
  while (std::regex_search(text, m, val_re))
    text = m.prefix().str() + std::to_string(0x7e00000000000000ull | (2ull << 48) | (std::stoull(m[1]) << 32) | std::stoull(m[2])) +
           m.suffix().str();
  while (std::regex_search(text, m, map_re))
    text = m.prefix().str() + std::to_string(0x7e00000000000000ull | (1ull << 48) | (std::stoull(m[1]) << 32)) + m.suffix().str();
  auto r = isa::assemble(text);
  EXPECT_TRUE(r.ok()) << r.error().str();
  if (!r.ok()) return {};
  auto insns = *r;
  for (size_t i = 0; i + 1 < insns.size(); ++i) {
    if (!isa::is_lddw(insns[i])) continue;
    const uint64_t v = isa::lddw_imm(insns[i], insns[i + 1]);
    if ((v >> 56) == 0x7e) {
      insns[i].src = static_cast<uint8_t>((v >> 48) & 0xff);
      insns[i].imm = static_cast<int32_t>((v >> 32) & 0xffff);
      insns[i + 1].imm = static_cast<int32_t>(v & 0xffffffff);
    }
    ++i;
  }
  return insns;
}

loader::MapDef array_map(uint32_t value_size, uint32_t max_entries = 1, uint32_t flags = 0) {
  loader::MapDef d;
  d.spec.name = "arr";
  d.spec.type = BPF_MAP_TYPE_ARRAY;
  d.spec.key_size = 4;
  d.spec.value_size = value_size;
  d.spec.max_entries = max_entries;
  d.spec.map_flags = flags;
  return d;
}

loader::MapDef hash_map(uint32_t key_size, uint32_t value_size) {
  loader::MapDef d;
  d.spec.name = "hash";
  d.spec.type = BPF_MAP_TYPE_HASH;
  d.spec.key_size = key_size;
  d.spec.value_size = value_size;
  d.spec.max_entries = 16;
  return d;
}

loader::MapDef ringbuf_map() {
  loader::MapDef d;
  d.spec.name = "rb";
  d.spec.type = BPF_MAP_TYPE_RINGBUF;
  d.spec.max_entries = 4096;
  return d;
}

struct Outcome {
  bool accepted = false;
  std::string message;
  VerifyResult res;
};

Outcome check(const std::string& text, uint32_t prog_type = BPF_PROG_TYPE_XDP, std::vector<loader::MapDef> maps = {}) {
  loader::ProgramSpec p;
  p.name = "t";
  p.prog_type = prog_type;
  p.insns = assemble_with_maps(text);
  auto r = verify(p, maps);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
  Outcome o;
  if (!r.ok()) return o;
  o.accepted = r->accepted;
  o.message = r->error.message;
  o.res = std::move(*r);
  return o;
}

#define EXPECT_ACCEPT(o) EXPECT_TRUE((o).accepted) << (o).res.explanation
#define EXPECT_REJECT(o, substr)                                                        \
  do {                                                                                  \
    const auto& oo = (o);                                                               \
    EXPECT_FALSE(oo.accepted);                                                          \
    EXPECT_NE(oo.message.find(substr), std::string::npos) << "message: " << oo.message; \
  } while (0)

TEST(Verifier, ReturnConstant) { EXPECT_ACCEPT(check("r0 = 2\nexit")); }

TEST(Verifier, UninitialisedR0) { EXPECT_REJECT(check("exit"), "R0 !read_ok"); }

TEST(Verifier, UninitialisedRegister) { EXPECT_REJECT(check("r0 = r2\nexit"), "R2 !read_ok"); }

TEST(Verifier, WriteFramePointer) { EXPECT_REJECT(check("r10 = 0\nr0 = 0\nexit"), "read-only");
  EXPECT_REJECT(check("r0 = 0\nr10 += 8\nexit"), "read"); }

TEST(Verifier, UnreachableInsn) { EXPECT_REJECT(check("r0 = 0\nexit\nr0 = 1\nexit"), "unreachable insn 2"); }

TEST(Verifier, JumpOutOfRange) { EXPECT_REJECT(check("r0 = 0\ngoto +5\nexit"), ""); }

TEST(Verifier, DivByZeroImmediate) { EXPECT_REJECT(check("r0 = 1\nr0 /= 0\nexit"), "div by zero"); }

TEST(Verifier, DivByZeroRegisterIsFine) { EXPECT_ACCEPT(check("r0 = 1\nr1 = 0\nr0 /= r1\nexit")); }

TEST(Verifier, InvalidShift) { EXPECT_REJECT(check("r0 = 1\nr0 <<= 64\nexit"), "invalid shift 64"); }

TEST(Verifier, StackReadWrite) {
  EXPECT_ACCEPT(check("r1 = 5\n*(u64 *)(r10 - 8) = r1\nr0 = *(u64 *)(r10 - 8)\nexit"));
  EXPECT_ACCEPT(check("r0 = *(u64 *)(r10 - 16)\nexit"));  // privileged: uninitialised stack reads are allowed
}

TEST(Verifier, StackOutOfBounds) {
  EXPECT_REJECT(check("r0 = 0\n*(u64 *)(r10 - 520) = r0\nexit"), "invalid write stack off=-520");
  EXPECT_REJECT(check("r0 = 0\n*(u64 *)(r10 + 0) = r0\nexit"), "invalid write stack");
}

TEST(Verifier, MisalignedStack) {
  EXPECT_REJECT(check("r0 = 0\n*(u64 *)(r10 - 12) = r0\nexit"), "misaligned stack access");
}

TEST(Verifier, SpillKeepsPointer) {
  // The ctx pointer survives a spill and a fill and can be dereferenced.
  EXPECT_ACCEPT(check("*(u64 *)(r10 - 8) = r1\nr2 = *(u64 *)(r10 - 8)\nr0 = *(u32 *)(r2 + 0)\nexit"));
  EXPECT_REJECT(check("*(u64 *)(r10 - 8) = r1\nr2 = *(u32 *)(r10 - 8)\nr0 = 0\nexit"), "invalid size of register fill");
  EXPECT_REJECT(check("*(u32 *)(r10 - 8) = r1\nr0 = 0\nexit"), "invalid size of register spill");
}

TEST(Verifier, SpillKeepsBounds) {
  // r1 in [0, 15] spilled and filled, then used as an index into a 16-byte map value.
  const char* p =
      "r6 = *(u32 *)(r1 + 16)\n"
      "r6 &= 15\n"
      "*(u64 *)(r10 - 16) = r6\n"
      "r1 = 0\n*(u32 *)(r10 - 4) = r1\n"
      "r2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\n"
      "if r0 == 0 goto +4\n"
      "r1 = *(u64 *)(r10 - 16)\n"
      "r0 += r1\n"
      "r0 = *(u8 *)(r0 + 0)\n"
      "exit\n"
      "r0 = 0\nexit";
  EXPECT_ACCEPT(check(p, BPF_PROG_TYPE_XDP, {array_map(16)}));
}

TEST(Verifier, CtxAccess) {
  EXPECT_ACCEPT(check("r0 = *(u32 *)(r1 + 16)\nexit"));  // xdp ingress_ifindex
  EXPECT_REJECT(check("r0 = 0\n*(u32 *)(r1 + 0) = r0\nexit"), "invalid bpf_context access");
  EXPECT_REJECT(check("r0 = *(u32 *)(r1 + 64)\nexit"), "invalid bpf_context access");
  EXPECT_REJECT(check("r1 += 4\nr0 = *(u32 *)(r1 + 0)\nexit"), "dereference of modified ctx ptr");
  EXPECT_ACCEPT(check("r0 = 7\n*(u32 *)(r1 + 8) = r0\nr0 = 0\nexit", BPF_PROG_TYPE_SCHED_CLS));  // skb->mark
  EXPECT_REJECT(check("r0 = 7\n*(u32 *)(r1 + 0) = r0\nr0 = 0\nexit", BPF_PROG_TYPE_SCHED_CLS), "invalid bpf_context access");
}

const char* kPacketPrologue =
    "r2 = *(u32 *)(r1 + 0)\n"   // data
    "r3 = *(u32 *)(r1 + 4)\n";  // data_end

TEST(Verifier, PacketNeedsCheck) {
  EXPECT_REJECT(check(std::string(kPacketPrologue) + "r0 = *(u8 *)(r2 + 0)\nexit"), "invalid access to packet");
}

TEST(Verifier, PacketChecked) {
  const std::string p = std::string(kPacketPrologue) +
                        "r4 = r2\nr4 += 14\nif r4 > r3 goto +2\nr0 = *(u16 *)(r2 + 12)\nexit\nr0 = 1\nexit";
  EXPECT_ACCEPT(check(p));
}

TEST(Verifier, PacketOffByOne) {
  const std::string p = std::string(kPacketPrologue) +
                        "r4 = r2\nr4 += 14\nif r4 > r3 goto +2\nr0 = *(u16 *)(r2 + 13)\nexit\nr0 = 1\nexit";
  EXPECT_REJECT(check(p), "invalid access to packet, off=13 size=2");
}

TEST(Verifier, PacketCheckOtherWay) {
  const std::string p = std::string(kPacketPrologue) +
                        "r4 = r2\nr4 += 8\nif r3 >= r4 goto +2\nr0 = 1\nexit\nr0 = *(u64 *)(r2 + 0)\nexit";
  EXPECT_ACCEPT(check(p));
}

TEST(Verifier, PacketWriteFromSocketFilterRefused) {
  // __sk_buff->data (offset 76) is not for socket filters.
  EXPECT_REJECT(check("r2 = *(u32 *)(r1 + 76)\nr0 = 0\nexit", BPF_PROG_TYPE_SOCKET_FILTER), "invalid bpf_context access");
  EXPECT_ACCEPT(check("r2 = *(u32 *)(r1 + 76)\nr0 = 0\nexit", BPF_PROG_TYPE_SCHED_CLS));
}

TEST(Verifier, MapLookupNeedsNullCheck) {
  const char* lookup = "r1 = 0\n*(u32 *)(r10 - 4) = r1\nr2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\n";
  EXPECT_REJECT(check(std::string(lookup) + "r0 = *(u32 *)(r0 + 0)\nexit", BPF_PROG_TYPE_XDP, {hash_map(4, 8)}),
                "R0 invalid mem access 'map_value_or_null'");
  EXPECT_ACCEPT(check(std::string(lookup) + "if r0 == 0 goto +2\nr0 = *(u32 *)(r0 + 4)\nexit\nr0 = 0\nexit",
                      BPF_PROG_TYPE_XDP, {hash_map(4, 8)}));
  EXPECT_REJECT(check(std::string(lookup) + "if r0 == 0 goto +2\nr0 = *(u32 *)(r0 + 6)\nexit\nr0 = 0\nexit",
                      BPF_PROG_TYPE_XDP, {hash_map(4, 8)}),
                "invalid access to map value, value_size=8 off=6 size=4");
  // The check on a copy covers the original.
  EXPECT_ACCEPT(check(std::string(lookup) + "r6 = r0\nif r6 == 0 goto +2\nr0 = *(u32 *)(r0 + 0)\nexit\nr0 = 0\nexit",
                      BPF_PROG_TYPE_XDP, {hash_map(4, 8)}));
  EXPECT_REJECT(check(std::string(lookup) + "r0 += 4\nr0 = 0\nexit", BPF_PROG_TYPE_XDP, {hash_map(4, 8)}),
                "pointer arithmetic on map_value_or_null prohibited");
}

TEST(Verifier, ArrayLookupWithConstantKeyCannotFail) {
  const char* lookup = "r1 = 0\n*(u32 *)(r10 - 4) = r1\nr2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\n";
  EXPECT_ACCEPT(check(std::string(lookup) + "r0 = *(u32 *)(r0 + 0)\nexit", BPF_PROG_TYPE_XDP, {array_map(8)}));
  // Key 1 is outside a one-element array: the lookup may fail.
  const char* lookup1 = "r1 = 1\n*(u32 *)(r10 - 4) = r1\nr2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\n";
  EXPECT_REJECT(check(std::string(lookup1) + "r0 = *(u32 *)(r0 + 0)\nexit", BPF_PROG_TYPE_XDP, {array_map(8)}),
                "map_value_or_null");
}

TEST(Verifier, MapKeyFromUninitialisedStackIsFinePrivileged) {
  EXPECT_ACCEPT(check("r2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\nr0 = 0\nexit", BPF_PROG_TYPE_XDP, {array_map(8)}));
}

TEST(Verifier, MapKeyOutsideStack) {
  EXPECT_REJECT(check("r2 = r10\nr2 += -2\nr1 = map[0] ll\ncall 1\nr0 = 0\nexit", BPF_PROG_TYPE_XDP, {array_map(8)}),
                "invalid indirect access to stack");
}

TEST(Verifier, HelperArgumentKinds) {
  EXPECT_REJECT(check("r2 = 0\nr1 = map[0] ll\ncall 1\nr0 = 0\nexit", BPF_PROG_TYPE_XDP, {array_map(8)}), "R2 type=scalar");
  EXPECT_REJECT(check("r2 = r10\nr2 += -8\nr1 = 0\ncall 1\nr0 = 0\nexit"), "R1 type=scalar expected=map_ptr");
  EXPECT_REJECT(check("r0 = 0\ncall 999999\nexit"), "out of range");
  EXPECT_REJECT(check("r0 = 0\ncall 9999\nexit"), "invalid func");
}

TEST(Verifier, VariableMapIndex) {
  const char* lookup = "r6 = *(u32 *)(r1 + 16)\nr1 = 0\n*(u32 *)(r10 - 4) = r1\nr2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\n"
                       "if r0 == 0 goto +4\n";
  EXPECT_ACCEPT(check(std::string(lookup) + "r6 &= 15\nr0 += r6\nr0 = *(u8 *)(r0 + 0)\nexit\nr0 = 0\nexit", BPF_PROG_TYPE_XDP,
                      {array_map(16)}));
  EXPECT_REJECT(check(std::string(lookup) + "r6 &= 31\nr0 += r6\nr0 = *(u8 *)(r0 + 0)\nexit\nr0 = 0\nexit", BPF_PROG_TYPE_XDP,
                      {array_map(16)}),
                "invalid access to map value");
  EXPECT_REJECT(check(std::string(lookup) + "r6 <<= 32\nr0 += r6\nr0 = *(u8 *)(r0 + 0)\nexit\nr0 = 0\nexit", BPF_PROG_TYPE_XDP,
                      {array_map(16)}),
                "");
}

TEST(Verifier, BoundFromBranch) {
  const char* lookup = "r6 = *(u32 *)(r1 + 16)\nr1 = 0\n*(u32 *)(r10 - 4) = r1\nr2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\n"
                       "if r0 == 0 goto +5\n";
  EXPECT_ACCEPT(check(std::string(lookup) + "if r6 > 15 goto +3\nr0 += r6\nr0 = *(u8 *)(r0 + 0)\nexit\nr0 = 0\nexit",
                      BPF_PROG_TYPE_XDP, {array_map(16)}));
  EXPECT_REJECT(check(std::string(lookup) + "if r6 > 16 goto +3\nr0 += r6\nr0 = *(u8 *)(r0 + 0)\nexit\nr0 = 0\nexit",
                      BPF_PROG_TYPE_XDP, {array_map(16)}),
                "invalid access to map value");
}

TEST(Verifier, PointerArithmeticRules) {
  EXPECT_REJECT(check("r1 &= 3\nr0 = 0\nexit"), "bitwise operator &= on pointer prohibited");
  EXPECT_REJECT(check("r1 *= 3\nr0 = 0\nexit"), "pointer arithmetic with *= operator prohibited");
  EXPECT_REJECT(check("w1 += 3\nr0 = 0\nexit"), "32-bit pointer arithmetic prohibited");
  EXPECT_REJECT(check("r2 = r10\nr1 += r2\nr0 = 0\nexit"), "pointer += pointer prohibited");
  EXPECT_ACCEPT(check("r2 = r1\nr2 -= r1\nr0 = r2\nexit"));
}

TEST(Verifier, InfiniteLoop) {
  EXPECT_REJECT(check("r0 = 0\nr1 = 0\nif r1 == 0 goto +1\nexit\ngoto -1"), "infinite loop detected");
}

TEST(Verifier, BoundedLoop) {
  EXPECT_ACCEPT(check("r0 = 0\nr1 = 0\nr0 += r1\nr1 += 1\nif r1 < 100 goto -3\nexit"));
}

TEST(Verifier, UnboundedLoopTooComplex) {
  auto o = check("r0 = 0\nr1 = *(u32 *)(r1 + 16)\nr0 += 1\nif r0 != r1 goto -2\nexit");
  EXPECT_FALSE(o.accepted);
}

TEST(Verifier, RingbufMustBeReleased) {
  const char* reserve = "r1 = map[0] ll\nr2 = 8\nr3 = 0\ncall 131\n";
  EXPECT_REJECT(check(std::string(reserve) + "r0 = 0\nexit", BPF_PROG_TYPE_XDP, {ringbuf_map()}), "Unreleased reference");
  EXPECT_ACCEPT(check(std::string(reserve) + "if r0 == 0 goto +5\nr1 = 1\n*(u64 *)(r0 + 0) = r1\nr1 = r0\nr2 = 0\ncall 132\nr0 = 0\nexit",
                      BPF_PROG_TYPE_XDP, {ringbuf_map()}));
  EXPECT_REJECT(check(std::string(reserve) + "if r0 == 0 goto +6\nr6 = r0\nr1 = r0\nr2 = 0\ncall 132\nr1 = r6\n*(u64 *)(r1 + 0) = r1\nr0 = 0\nexit",
                      BPF_PROG_TYPE_XDP, {ringbuf_map()}),
                "invalid mem access 'scalar'");
  EXPECT_REJECT(check(std::string(reserve) + "if r0 == 0 goto +6\nr1 = 1\n*(u64 *)(r0 + 8) = r1\nr1 = r0\nr2 = 0\ncall 133\nr0 = 0\nexit", BPF_PROG_TYPE_XDP,
                      {ringbuf_map()}),
                "invalid access to memory");
}

TEST(Verifier, LocalCalls) {
  EXPECT_ACCEPT(check("r1 = 3\ncall pc+2\nr0 += 1\nexit\nr0 = r1\nexit"));
  // Caller-saved registers are gone after the call.
  EXPECT_REJECT(check("r1 = 3\ncall pc+2\nr0 = r1\nexit\nr0 = 0\nexit"), "R1 !read_ok");
  // Returning a pointer to the callee's stack.
  EXPECT_REJECT(check("call pc+2\nr0 = 0\nexit\nr0 = r10\nexit"), "cannot return stack pointer");
}

TEST(Verifier, CallDepth) {
  std::string p = "call pc+2\nr0 = 0\nexit\n";
  for (int i = 0; i < 8; ++i) p += "call pc+1\nexit\n";
  p += "r0 = 0\nexit\n";
  EXPECT_REJECT(check(p), "too deep");
}

TEST(Verifier, ReadOnlyMapValue) {
  constexpr uint32_t kRdonly = BPF_F_RDONLY_PROG;
  loader::MapDef ro = array_map(8, 1, kRdonly);
  ro.is_global_data = true;
  ro.initial_data = {1, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_ACCEPT(check("r1 = mapval[0+0] ll\nr0 = *(u32 *)(r1 + 0)\nexit", BPF_PROG_TYPE_XDP, {ro}));
  EXPECT_REJECT(check("r1 = mapval[0+0] ll\nr0 = 0\n*(u32 *)(r1 + 0) = r0\nexit", BPF_PROG_TYPE_XDP, {ro}),
                "write into map forbidden");
  // Known .rodata values decide branches: the dead branch is never checked.
  EXPECT_ACCEPT(check("r1 = mapval[0+0] ll\nr0 = *(u32 *)(r1 + 0)\nif r0 == 1 goto +1\nr0 = *(u8 *)(r9 + 0)\nexit",
                      BPF_PROG_TYPE_XDP, {ro}));
}

TEST(Verifier, FactsForEngines) {
  auto o = check("r1 = 0\nr2 = 3\nr1 /= r2\nw0 = w1\nexit");
  ASSERT_TRUE(o.accepted);
  ASSERT_EQ(o.res.facts.size(), 5u);
  EXPECT_TRUE(o.res.facts[2].flags & kDivisorNonZero);
  EXPECT_TRUE(o.res.facts[3].flags & kFits32);
  EXPECT_TRUE(o.res.facts[4].flags & kReached);
}

TEST(Verifier, ExplanationNamesInstructionAndFix) {
  const char* lookup = "r1 = 0\n*(u32 *)(r10 - 4) = r1\nr2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\n";
  auto o = check(std::string(lookup) + "r0 = *(u32 *)(r0 + 0)\nexit", BPF_PROG_TYPE_XDP, {hash_map(4, 8)});
  ASSERT_FALSE(o.accepted);
  EXPECT_EQ(o.res.error.insn, 7);
  EXPECT_NE(o.res.explanation.find("7: r0 = *(u32 *)(r0 + 0)"), std::string::npos) << o.res.explanation;
  EXPECT_NE(o.res.explanation.find("R0=map_value_or_null"), std::string::npos) << o.res.explanation;
  EXPECT_NE(o.res.explanation.find("bpf_map_lookup_elem"), std::string::npos) << o.res.explanation;
}

TEST(Verifier, StatsCountWork) {
  auto o = check("r0 = 0\nr1 = 0\nr0 += r1\nr1 += 1\nif r1 < 10 goto -3\nexit");
  ASSERT_TRUE(o.accepted);
  EXPECT_GE(o.res.stats.processed_insns, 30u);
}

}  // namespace
}  // namespace userbpf::verifier

namespace userbpf::verifier {
namespace {

TEST(Verifier, HashKeySizeFromMap) {
  // An 8-byte key must fit in the stack buffer passed: fp-4 leaves only 4 bytes.
  EXPECT_REJECT(check("r2 = r10\nr2 += -4\nr1 = map[0] ll\ncall 1\nr0 = 0\nexit", BPF_PROG_TYPE_XDP, {hash_map(8, 8)}),
                "invalid indirect access to stack");
  EXPECT_ACCEPT(check("r2 = r10\nr2 += -8\nr1 = map[0] ll\ncall 1\nr0 = 0\nexit", BPF_PROG_TYPE_XDP, {hash_map(8, 8)}));
}

// 18 coin flips each set a bit of r6, which nothing checks: with precision
// tracking the states at the joins match whatever r6 holds; comparing every
// number exactly would explore all 2^18 paths.
std::string coin_flips(int n) {
  std::string s = "r6 = 0\n";
  for (int k = 0; k < n; ++k)
    s += "call 7\nif r0 > 1000 goto +1\nr6 |= " + std::to_string(1 << k) + "\n";
  return s + "r0 = r6\nexit\n";
}

VerifyResult verify_text(const std::string& text, bool precision) {
  loader::ProgramSpec p;
  p.name = "t";
  p.prog_type = BPF_PROG_TYPE_XDP;
  p.insns = assemble_with_maps(text);
  VerifyOptions o;
  o.precision_tracking = precision;
  auto r = verify(p, {}, o);
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(*r) : VerifyResult{};
}

TEST(VerifierPrecision, IgnoredNumbersDoNotMultiplyPaths) {
  const VerifyResult with = verify_text(coin_flips(18), true);
  const VerifyResult without = verify_text(coin_flips(18), false);
  ASSERT_TRUE(with.accepted) << with.explanation;
  EXPECT_LT(with.stats.processed_insns, 400u);
  // Exact comparison runs out of the 1,000,000-instruction budget.
  EXPECT_FALSE(without.accepted);
  EXPECT_NE(without.error.message.find("too large"), std::string::npos) << without.error.message;
}

TEST(VerifierPrecision, NumberThatMovesAPointerStaysExact) {
  // The same flips, but r6 then indexes the stack: every value matters and
  // the program is rejected (r6 can reach 3, past fp-1 for a 1-byte store at fp-2+r6).
  std::string s = "r6 = 0\n";
  for (int k = 0; k < 2; ++k) s += "call 7\nif r0 > 1000 goto +1\nr6 |= " + std::to_string(1 << k) + "\n";
  s += "r2 = r10\nr2 += -2\nr2 += r6\n*(u8 *)(r2 + 0) = 1\nr0 = 0\nexit\n";
  const VerifyResult r = verify_text(s, true);
  EXPECT_FALSE(r.accepted);
}

}  // namespace
}  // namespace userbpf::verifier
