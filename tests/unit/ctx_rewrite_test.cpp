// Context access rewriting: field mapping onto the kernel-side structs, the
// kernel's refusals, and the pointer tracking that finds context accesses.
#include <gtest/gtest.h>

#include <linux/bpf.h>

#include <cstddef>
#include <string>

#include "hooks/ctx_layout.h"
#include "hooks/ctx_rewrite.h"
#include "hooks/packet_ctx.h"
#include "userbpf/isa.h"

namespace userbpf::hooks {
namespace {

using isa::Insn;
namespace op = isa::op;

std::vector<Insn> asm_ok(const std::string& text) {
  auto r = isa::assemble(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().str());
  return r.ok() ? *r : std::vector<Insn>{};
}

Result<std::vector<Insn>> rewrite(uint32_t type, const std::string& text) {
  return rewrite_ctx_accesses(type, asm_ok(text));
}

std::string listing(const std::vector<Insn>& p) { return isa::disassemble_program(p); }

TEST(CtxRewrite, XdpDataPointersBecome64BitLoads) {
  auto r = rewrite(BPF_PROG_TYPE_XDP,
                   "w2 = *(u32 *)(r1 + 0)\n"
                   "w3 = *(u32 *)(r1 + 4)\n"
                   "w4 = *(u32 *)(r1 + 8)\n"
                   "w0 = *(u32 *)(r1 + 12)\n"
                   "exit\n");
  ASSERT_TRUE(r.ok()) << r.error().str();
  const auto& p = *r;
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].opcode, op::LDX | op::MEM | op::DW);
  EXPECT_EQ(p[0].off, static_cast<int16_t>(offsetof(XdpBuff, data)));
  EXPECT_EQ(p[0].dst, 2);
  EXPECT_EQ(p[1].off, static_cast<int16_t>(offsetof(XdpBuff, data_end)));
  EXPECT_EQ(p[2].off, static_cast<int16_t>(offsetof(XdpBuff, data_meta)));
  EXPECT_EQ(p[3].opcode, op::LDX | op::MEM | op::W);
  EXPECT_EQ(p[3].off, static_cast<int16_t>(offsetof(XdpBuff, ingress_ifindex)));
}

TEST(CtxRewrite, SkbFieldsMapToTheirRealOffsets) {
  for (const CtxField& f : ctx_fields(CtxKind::Skb)) {
    if (f.cls != CtxClass::U32) continue;
    if (!(f.perm & kReadTc)) continue;
    auto r = rewrite(BPF_PROG_TYPE_SCHED_CLS,
                     "r0 = *(u32 *)(r1 + " + std::to_string(f.uapi_off) + ")\nexit\n");
    ASSERT_TRUE(r.ok()) << f.name << ": " << r.error().str();
    EXPECT_EQ((*r)[0].off, f.real_off) << f.name;
    EXPECT_EQ((*r)[0].opcode, op::LDX | op::MEM | op::W) << f.name;
  }
}

TEST(CtxRewrite, NarrowLoadsFollowTheKernelsTargetSize) {
  // len is a real u32: a 2-byte load of its upper half reads the upper half.
  auto r = rewrite(BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u16 *)(r1 + 2)\nexit\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].opcode, op::LDX | op::MEM | op::H);
  EXPECT_EQ((*r)[0].off, static_cast<int16_t>(offsetof(SkBuff, len) + 2));
  // protocol is a u16 in the kernel: a 2-byte load at +2 gets the whole field.
  r = rewrite(BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u16 *)(r1 + 18)\nexit\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].opcode, op::LDX | op::MEM | op::W);
  EXPECT_EQ((*r)[0].off, static_cast<int16_t>(offsetof(SkBuff, protocol)));
  // ... while a 1-byte load at +1 is a byte of it.
  r = rewrite(BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u8 *)(r1 + 17)\nexit\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].opcode, op::LDX | op::MEM | op::B);
  EXPECT_EQ((*r)[0].off, static_cast<int16_t>(offsetof(SkBuff, protocol) + 1));
}

TEST(CtxRewrite, StoresToU16FieldsWriteTwoBytes) {
  auto r = rewrite(BPF_PROG_TYPE_SCHED_CLS, "*(u32 *)(r1 + 72) = r2\n*(u32 *)(r1 + 8) = r2\nr0 = 0\nexit\n");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ((*r)[0].opcode, op::STX | op::MEM | op::H);
  EXPECT_EQ((*r)[0].off, static_cast<int16_t>(offsetof(SkBuff, tc_classid)));
  EXPECT_EQ((*r)[1].opcode, op::STX | op::MEM | op::W);
  EXPECT_EQ((*r)[1].off, static_cast<int16_t>(offsetof(SkBuff, mark)));
}

TEST(CtxRewrite, CbTakesAnyAlignedSize) {
  auto r = rewrite(BPF_PROG_TYPE_SOCKET_FILTER,
                   "*(u64 *)(r1 + 48) = r2\n*(u8 *)(r1 + 67) = r2\nr0 = *(u16 *)(r1 + 50)\nexit\n");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ((*r)[0].off, static_cast<int16_t>(offsetof(SkBuff, cb)));
  EXPECT_EQ((*r)[1].off, static_cast<int16_t>(offsetof(SkBuff, cb) + 19));
  EXPECT_EQ((*r)[2].off, static_cast<int16_t>(offsetof(SkBuff, cb) + 2));
  // An 8-byte access at cb[1] is misaligned, one at cb[4] runs past the array.
  EXPECT_FALSE(rewrite(BPF_PROG_TYPE_SOCKET_FILTER, "*(u64 *)(r1 + 52) = r2\nr0 = 0\nexit\n").ok());
  EXPECT_FALSE(rewrite(BPF_PROG_TYPE_SOCKET_FILTER, "r0 = *(u64 *)(r1 + 64)\nexit\n").ok());
}

TEST(CtxRewrite, QueueMappingStoreGrowsAndJumpsFollow) {
  // The jump over the store must still land on `r0 = 1` after the expansion.
  auto r = rewrite(BPF_PROG_TYPE_SCHED_CLS,
                   "if r2 == 0 goto +1\n"
                   "*(u32 *)(r1 + 12) = r2\n"
                   "r0 = 1\n"
                   "exit\n");
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->size(), 5u) << listing(*r);
  EXPECT_EQ((*r)[0].off, 2) << listing(*r);
  EXPECT_EQ((*r)[1].opcode, op::JMP | op::JGE | op::K);
  EXPECT_EQ((*r)[1].imm, 0xffff);
  EXPECT_EQ((*r)[2].opcode, op::STX | op::MEM | op::H);
  // Immediate stores of NO_QUEUE_MAPPING and above become a no-op.
  r = rewrite(BPF_PROG_TYPE_SCHED_CLS, "*(u32 *)(r1 + 12) = 65535\nr0 = 0\nexit\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].opcode, op::JMP | op::JA);
}

TEST(CtxRewrite, RefusesWhatTheKernelRefuses) {
  struct Case {
    uint32_t type;
    const char* text;
  } cases[] = {
      {BPF_PROG_TYPE_XDP, "*(u32 *)(r1 + 0) = r2"},             // xdp_md is read-only
      {BPF_PROG_TYPE_XDP, "r0 = *(u16 *)(r1 + 0)"},             // narrow data pointer
      {BPF_PROG_TYPE_XDP, "r0 = *(u32 *)(r1 + 20)"},            // egress_ifindex outside devmap
      {BPF_PROG_TYPE_XDP, "r0 = *(u32 *)(r1 + 24)"},            // past the end
      {BPF_PROG_TYPE_SCHED_CLS, "*(u32 *)(r1 + 0) = r2"},       // len is read-only
      {BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u32 *)(r1 + 2)"},       // unaligned
      {BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u64 *)(r1 + 0)"},       // 8 bytes of a u32
      {BPF_PROG_TYPE_SCHED_CLS, "*(u16 *)(r1 + 8) = r2"},       // narrow store to mark
      {BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u32 *)(r1 + 88)"},      // family: sk_skb only
      {BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u32 *)(r1 + 152)"},     // tstamp is 8 bytes
      {BPF_PROG_TYPE_SCHED_CLS, "r0 = *(u8 *)(r1 + 181)"},      // padding after tstamp_type
      {BPF_PROG_TYPE_SOCKET_FILTER, "r0 = *(u32 *)(r1 + 76)"},  // no direct packet access
      {BPF_PROG_TYPE_SOCKET_FILTER, "*(u32 *)(r1 + 8) = r2"},   // mark is read-only here
      {BPF_PROG_TYPE_SOCKET_FILTER, "r0 = *(u32 *)(r1 + 72)"},  // tc_classid
      {BPF_PROG_TYPE_SCHED_CLS, "r2 = r1\nr2 += 4\nr0 = *(u32 *)(r2 + 0)"},  // modified ctx pointer
      {BPF_PROG_TYPE_SCHED_CLS, "lock *(u32 *)(r1 + 8) += r2"},               // atomic on ctx
      {BPF_PROG_TYPE_SCHED_CLS, "w2 = w1\nr0 = *(u32 *)(r2 + 0)"},           // truncated copy
  };
  for (const Case& c : cases) {
    auto r = rewrite(c.type, std::string(c.text) + "\nr0 = 0\nexit\n");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().kind, ErrorKind::Rejected) << c.text << ": " << r.error().str();
    EXPECT_GE(r.error().insn, 0) << c.text;
  }
}

TEST(CtxTrack, FollowsCopiesSpillsAndCallArguments) {
  // ctx copied to r6, spilled, filled into r7, passed to a subprogram as r1.
  auto prog = asm_ok(
      "r6 = r1\n"
      "*(u64 *)(r10 - 8) = r6\n"
      "r1 = 0\n"
      "r7 = *(u64 *)(r10 - 8)\n"
      "r0 = *(u32 *)(r7 + 8)\n"
      "r1 = r7\n"
      "call 1\n"  // local call below: pc 6 -> 8
      "exit\n"
      "r0 = *(u32 *)(r1 + 0)\n"
      "exit\n");
  ASSERT_EQ(prog.size(), 10u);
  prog[6] = Insn{static_cast<uint8_t>(op::JMP | op::CALL), 0, isa::pseudo::CALL_LOCAL, 0, 1};
  auto facts = analyze_ctx_pointers(prog);
  ASSERT_TRUE(facts.ok()) << facts.error().str();
  EXPECT_EQ((*facts)[1].kind, CtxFact::Kind::NotCtx);  // the spill's base is r10
  EXPECT_EQ((*facts)[4].kind, CtxFact::Kind::Ctx);
  EXPECT_EQ((*facts)[8].kind, CtxFact::Kind::Ctx);
  auto r = rewrite_ctx_accesses(BPF_PROG_TYPE_SCHED_CLS, prog);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ((*r)[4].off, static_cast<int16_t>(offsetof(SkBuff, mark)));
  EXPECT_EQ((*r)[8].off, static_cast<int16_t>(offsetof(SkBuff, len)));
}

TEST(CtxTrack, ContextOnSomePathsOnlyIsRefused) {
  auto r = rewrite(BPF_PROG_TYPE_SCHED_CLS,
                   "r2 = r10\n"
                   "r2 += -8\n"
                   "if r3 == 0 goto +1\n"
                   "r2 = r1\n"
                   "r0 = *(u32 *)(r2 + 0)\n"
                   "exit\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().insn, 4);
  // Reloading r1 with something else ends its context-ness: no rewrite, no error.
  auto p = asm_ok("r1 = r10\nr1 += -8\nr0 = *(u32 *)(r1 + 0)\nexit\n");
  auto ok = rewrite_ctx_accesses(BPF_PROG_TYPE_SCHED_CLS, p);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[2].off, 0);
}

TEST(CtxRewrite, OtherProgramTypesAreUntouched) {
  auto p = asm_ok("r0 = *(u32 *)(r1 + 4)\nexit\n");
  auto r = rewrite_ctx_accesses(BPF_PROG_TYPE_KPROBE, p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].off, 4);
}

}  // namespace
}  // namespace userbpf::hooks
