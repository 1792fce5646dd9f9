// Packet test runs and packet helpers on hand-built programs (no kernel needed):
// buffer layout, output packet, ctx_in / ctx_out, limits, checksum arithmetic.
// Every run happens on the interpreter and on the JIT, which must agree.
#include <gtest/gtest.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cstring>
#include <string>

#include "helpers/packet_csum.h"
#include "hooks/ctx_rewrite.h"
#include "support/packets.h"
#include "userbpf/helpers.h"
#include "userbpf/hooks.h"
#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace userbpf::hooks {
namespace {

namespace pk = testing::packets;

struct Built {
  vm::HelperRegistry helpers;
  std::unique_ptr<vm::Engine> engine;
  std::unique_ptr<vm::Engine> jit;  // every run is repeated on the JIT and compared
};

std::unique_ptr<Built> build(uint32_t type, const std::string& text) {
  auto b = std::make_unique<Built>();
  helpers::register_packet_helpers(b->helpers);
  auto insns = isa::assemble(text);
  EXPECT_TRUE(insns.ok()) << (insns.ok() ? "" : insns.error().str());
  if (!insns) return nullptr;
  auto rw = rewrite_ctx_accesses(type, *insns);
  EXPECT_TRUE(rw.ok()) << (rw.ok() ? "" : rw.error().str());
  if (!rw) return nullptr;
  vm::EngineOptions eo;
  eo.helpers = &b->helpers;
  auto e = vm::make_interpreter(*rw, eo);
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().str());
  if (!e) return nullptr;
  b->engine = std::move(*e);
  auto j = vm::make_engine("jit", *rw, eo);
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error().str());
  if (!j) return nullptr;
  b->jit = std::move(*j);
  return b;
}

// The interpreter's result, after checking that the JIT's is the same.
Result<TestRunResult> run(const Built& b, uint32_t type, TestRunInput in) {
  auto r = test_run(*b.engine, type, b.helpers, in);
  auto j = test_run(*b.jit, type, b.helpers, in);
  EXPECT_EQ(r.ok(), j.ok()) << (r.ok() ? "" : r.error().str()) << " / " << (j.ok() ? "" : j.error().str());
  if (r.ok() && j.ok()) {
    EXPECT_EQ(r->r0, j->r0) << "jit";
    EXPECT_EQ(r->data_out, j->data_out) << "jit";
    EXPECT_EQ(r->ctx_out, j->ctx_out) << "jit";
  } else if (!r.ok() && !j.ok()) {
    EXPECT_EQ(r.error().kind, j.error().kind) << r.error().str() << " / " << j.error().str();
    EXPECT_EQ(r.error().insn, j.error().insn) << r.error().str() << " / " << j.error().str();
  }
  return r;
}

TEST(PacketRun, XdpSeesThePacketAndReturnsItUnchanged) {
  // r0 = data_end - data
  auto b = build(BPF_PROG_TYPE_XDP, "r2 = *(u32 *)(r1 + 0)\nr0 = *(u32 *)(r1 + 4)\nr0 -= r2\nexit\n");
  ASSERT_TRUE(b);
  TestRunInput in;
  in.data = pk::standard_packets()[0].data;
  auto r = run(*b, BPF_PROG_TYPE_XDP, in);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->retval, in.data.size());
  EXPECT_EQ(r->data_out, in.data);
  EXPECT_TRUE(r->ctx_out.empty());
}

TEST(PacketRun, XdpMetadataFromCtxIn) {
  // r0 = data - data_meta
  auto b = build(BPF_PROG_TYPE_XDP, "r2 = *(u32 *)(r1 + 8)\nr0 = *(u32 *)(r1 + 0)\nr0 -= r2\nexit\n");
  ASSERT_TRUE(b);
  TestRunInput in;
  in.data = pk::pattern(8 + 60);
  xdp_md md{};
  md.data = 8;
  md.data_end = static_cast<uint32_t>(in.data.size());
  in.ctx_in.resize(sizeof md);
  std::memcpy(in.ctx_in.data(), &md, sizeof md);
  auto r = run(*b, BPF_PROG_TYPE_XDP, in);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->retval, 8u);
  EXPECT_EQ(r->data_out, in.data);  // metadata included
  ASSERT_EQ(r->ctx_out.size(), sizeof md);
  xdp_md out;
  std::memcpy(&out, r->ctx_out.data(), sizeof out);
  EXPECT_EQ(out.data, 8u);
  EXPECT_EQ(out.data_end, in.data.size());
  // Unaligned metadata is refused, as are packets shorter than an Ethernet header.
  md.data = 6;
  std::memcpy(in.ctx_in.data(), &md, sizeof md);
  EXPECT_FALSE(run(*b, BPF_PROG_TYPE_XDP, in).ok());
  TestRunInput tiny;
  tiny.data = pk::pattern(13);
  EXPECT_FALSE(run(*b, BPF_PROG_TYPE_XDP, tiny).ok());
}

TEST(PacketRun, XdpAdjustHeadLimits) {
  // r0 = bpf_xdp_adjust_head(ctx, r2 taken from the first packet byte as s8 * 8)
  auto b = build(BPF_PROG_TYPE_XDP,
                 "r6 = r1\n"
                 "r2 = *(u32 *)(r6 + 0)\n"
                 "r3 = *(u32 *)(r6 + 4)\n"
                 "r4 = r2\nr4 += 1\n"
                 "if r4 > r3 goto +4\n"
                 "r2 = *(s8 *)(r2 + 0)\n"
                 "r2 *= 8\n"
                 "r1 = r6\ncall 44\nexit\n"
                 "r0 = 99\nexit\n");
  ASSERT_TRUE(b);
  auto head = [&](int8_t units) {
    TestRunInput in;
    in.data = pk::pattern(64);
    in.data[0] = static_cast<uint8_t>(units);
    auto r = run(*b, BPF_PROG_TYPE_XDP, in);
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::make_pair(static_cast<int32_t>(r->retval), r->data_out.size()) : std::make_pair(-1000, size_t{0});
  };
  EXPECT_EQ(head(-27), std::make_pair(0, size_t{64 + 216}));  // the whole headroom less the xdp_frame
  EXPECT_EQ(head(-28).first, -22);
  EXPECT_EQ(head(6), std::make_pair(0, size_t{16}));  // 48 bytes off, 16 left
  EXPECT_EQ(head(7).first, -22);                       // fewer than ETH_HLEN would remain
}

TEST(PacketRun, SocketFilterSeesTheNetworkHeader) {
  // r0 = first byte via LD_ABS, plus skb->len << 8
  auto b = build(BPF_PROG_TYPE_SOCKET_FILTER,
                 "r6 = r1\n"
                 "r0 = *(u8 *)skb[0]\n"
                 "r7 = r0\n"
                 "r0 = *(u32 *)(r6 + 0)\n"
                 "r0 <<= 8\n"
                 "r0 |= r7\n"
                 "exit\n");
  ASSERT_TRUE(b);
  TestRunInput in;
  in.data = pk::standard_packets()[0].data;
  auto r = run(*b, BPF_PROG_TYPE_SOCKET_FILTER, in);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->retval & 0xff, 0x45u);
  EXPECT_EQ(r->retval >> 8, in.data.size() - 14);
  // The output gets its Ethernet header back as zeros.
  ASSERT_EQ(r->data_out.size(), in.data.size());
  for (int i = 0; i < 14; ++i) EXPECT_EQ(r->data_out[i], 0) << i;
  EXPECT_TRUE(std::equal(r->data_out.begin() + 14, r->data_out.end(), in.data.begin() + 14));
}

TEST(PacketRun, TcCtxOutCarriesWrittenFields) {
  auto b = build(BPF_PROG_TYPE_SCHED_CLS,
                 "r2 = 77\n"
                 "*(u32 *)(r1 + 8) = r2\n"    // mark
                 "*(u32 *)(r1 + 52) = r2\n"   // cb[1]
                 "r0 = *(u32 *)(r1 + 16)\n"   // protocol
                 "exit\n");
  ASSERT_TRUE(b);
  TestRunInput in;
  in.data = pk::standard_packets()[0].data;
  in.want_ctx_out = true;
  auto r = run(*b, BPF_PROG_TYPE_SCHED_CLS, in);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->retval, 0x0008u);  // ETH_P_IP in network order
  ASSERT_EQ(r->ctx_out.size(), sizeof(__sk_buff));
  __sk_buff sk;
  std::memcpy(&sk, r->ctx_out.data(), sizeof sk);
  EXPECT_EQ(sk.mark, 77u);
  EXPECT_EQ(sk.cb[1], 77u);
  EXPECT_EQ(sk.ifindex, 1u);
  EXPECT_EQ(sk.wire_len, in.data.size());  // a ctx (even all zeros) sets wire_len to len
  // Fields the test run cannot take are refused.
  __sk_buff bad{};
  bad.len = 5;
  in.ctx_in.resize(sizeof bad);
  std::memcpy(in.ctx_in.data(), &bad, sizeof bad);
  EXPECT_FALSE(run(*b, BPF_PROG_TYPE_SCHED_CLS, in).ok());
}

TEST(PacketRun, ForgedContextArgumentIsRefusedNotFollowed) {
  // bpf_skb_load_bytes(r1 = r10, ...) : not the context.
  auto b = build(BPF_PROG_TYPE_SCHED_CLS,
                 "r1 = r10\nr1 += -64\nr2 = 0\nr3 = r10\nr3 += -8\nr4 = 4\ncall 26\nexit\n");
  ASSERT_TRUE(b);
  TestRunInput in;
  in.data = pk::standard_packets()[0].data;
  auto r = run(*b, BPF_PROG_TYPE_SCHED_CLS, in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(static_cast<int32_t>(r->retval), -14);
}

TEST(PacketRun, RedirectVerdicts) {
  auto xdp = build(BPF_PROG_TYPE_XDP, "r1 = 3\nr2 = 0\ncall 23\nexit\n");
  auto xdp_flags = build(BPF_PROG_TYPE_XDP, "r1 = 3\nr2 = 1\ncall 23\nexit\n");
  auto tc = build(BPF_PROG_TYPE_SCHED_CLS, "r1 = 3\nr2 = 1\ncall 23\nexit\n");
  auto tc_bad = build(BPF_PROG_TYPE_SCHED_CLS, "r1 = 3\nr2 = 2\ncall 23\nexit\n");
  // redirect_map with no device map behind it: the flags' action bits decide.
  auto map_miss = build(BPF_PROG_TYPE_XDP, "r1 = 0\nr2 = 0\nr3 = 2\ncall 51\nexit\n");
  auto map_bcast = build(BPF_PROG_TYPE_XDP, "r1 = 0\nr2 = 0\nr3 = 8\ncall 51\nexit\n");
  auto map_bad = build(BPF_PROG_TYPE_XDP, "r1 = 0\nr2 = 0\nr3 = 64\ncall 51\nexit\n");
  ASSERT_TRUE(xdp && xdp_flags && tc && tc_bad && map_miss && map_bcast && map_bad);
  TestRunInput in;
  in.data = pk::standard_packets()[0].data;
  auto verdict = [&](const Built& b, uint32_t type) {
    auto r = run(b, type, in);
    return r.ok() ? r->retval : 0xdeadu;
  };
  EXPECT_EQ(verdict(*xdp, BPF_PROG_TYPE_XDP), static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(verdict(*xdp_flags, BPF_PROG_TYPE_XDP), static_cast<uint32_t>(XDP_ABORTED));
  EXPECT_EQ(verdict(*tc, BPF_PROG_TYPE_SCHED_CLS), static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(verdict(*tc_bad, BPF_PROG_TYPE_SCHED_CLS), static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(verdict(*map_miss, BPF_PROG_TYPE_XDP), static_cast<uint32_t>(XDP_PASS));
  EXPECT_EQ(verdict(*map_bcast, BPF_PROG_TYPE_XDP), static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(verdict(*map_bad, BPF_PROG_TYPE_XDP), static_cast<uint32_t>(XDP_ABORTED));
}

// Incremental updates agree with recomputing the checksum from scratch.
TEST(PacketCsum, ReplaceMatchesRecomputation) {
  pk::Bytes ip = pk::ipv4(pk::kIpA, pk::kIpB, 17, pk::pattern(8));
  auto stored = [&] {
    uint16_t v;
    std::memcpy(&v, ip.data() + 10, 2);
    return v;
  };
  auto recomputed = [&] {
    pk::Bytes h(ip.begin(), ip.begin() + 20);
    h[10] = h[11] = 0;
    const uint16_t c = pk::inet_checksum(h.data(), 20);
    return static_cast<uint16_t>(c >> 8 | c << 8);  // as stored, read little-endian
  };
  ASSERT_EQ(stored(), recomputed());
  uint32_t old_daddr, new_daddr = 0x0708090a;
  std::memcpy(&old_daddr, ip.data() + 16, 4);
  const uint16_t after4 = helpers::csum::replace4(stored(), old_daddr, new_daddr);
  std::memcpy(ip.data() + 16, &new_daddr, 4);
  EXPECT_EQ(after4, recomputed());
  std::memcpy(ip.data() + 10, &after4, 2);
  uint16_t old_word, new_word = 0x1140;  // ttl 0x40 -> 0x40? keep proto, change ttl byte
  std::memcpy(&old_word, ip.data() + 8, 2);
  new_word = static_cast<uint16_t>((old_word & 0xff00) | 0x20);
  const uint16_t after2 = helpers::csum::replace2(stored(), old_word, new_word);
  std::memcpy(ip.data() + 8, &new_word, 2);
  EXPECT_EQ(after2, recomputed());
  // The diff form: csum_diff of the old and new words, then replace_by_diff.
  std::memcpy(ip.data() + 10, &after2, 2);
  uint32_t from, to;
  std::memcpy(&from, ip.data() + 12, 4);
  to = from ^ 0x00ff00ff;
  const uint32_t diff = helpers::csum::sub(helpers::csum::partial(reinterpret_cast<uint8_t*>(&to), 4, 0),
                                           helpers::csum::partial(reinterpret_cast<uint8_t*>(&from), 4, 0));
  const uint16_t after_diff = helpers::csum::replace_by_diff(stored(), diff);
  std::memcpy(ip.data() + 12, &to, 4);
  EXPECT_EQ(after_diff, recomputed());
}

}  // namespace
}  // namespace userbpf::hooks
