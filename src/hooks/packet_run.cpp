// BPF_PROG_TEST_RUN for XDP, tc and socket filter programs, following the
// kernel's bpf_prog_test_run_xdp / bpf_prog_test_run_skb (net/bpf/test_run.c):
// the same buffer layout, limits, ctx_in checks, context values (the loopback
// device of the caller's namespace), output packet and ctx_out.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "hooks/ctx_layout.h"
#include "hooks/packet_ctx.h"
#include "hooks/packet_run.h"

namespace userbpf::hooks {
namespace {

constexpr uint32_t kLoopbackIfindex = 1;
constexpr uint32_t kGsoLegacyMaxSize = 65536;
constexpr uint32_t kGsoMaxSegs = 65535;

Error einval(const std::string& why) { return make_error(ErrorKind::InvalidArgument, why + " (EINVAL)"); }

bool all_zero(const uint8_t* p, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (p[i]) return false;
  return true;
}

// ---- XDP ----------------------------------------------------------------------

Status setup_xdp(PacketState& st, const std::vector<uint8_t>& data, bool has_ctx, const xdp_md& md) {
  const size_t size = data.size();
  uint32_t metalen = 0;
  size_t linear = size;
  if (has_ctx) {
    // Metadata comes from the headroom; nothing may precede it.  data_end below
    // the packet size makes the rest of it fragments.
    if (md.data_meta || md.data_end > size || md.data > md.data_end)
      return einval("xdp_md: data_meta must be 0, data <= data_end <= the packet size");
    if (md.data % 4 || md.data > kXdpMaxMeta || md.data > kXdpPacketHeadroom - kXdpFrameSize)
      return einval("xdp_md: bad metadata length " + std::to_string(md.data));
    metalen = md.data;
    linear = md.data_end;
  }
  const uint32_t headroom = kXdpPacketHeadroom - metalen;
  const size_t max_linear = kPageSize - headroom - kSkbSharedInfoSize;
  linear = std::min(linear, max_linear);
  if (size - metalen < kEthHlen) return einval("packet shorter than an Ethernet header");
  if (has_ctx) {
    if (md.egress_ifindex) return einval("xdp_md: egress_ifindex must be 0");
    if (!md.ingress_ifindex && md.rx_queue_index) return einval("xdp_md: rx_queue_index without ingress_ifindex");
    if (md.ingress_ifindex && md.ingress_ifindex != kLoopbackIfindex)
      return make_error(ErrorKind::Unsupported, "xdp_md: ingress_ifindex " + std::to_string(md.ingress_ifindex) +
                                                    ": only the loopback device (1) exists here");
    if (md.rx_queue_index >= 1) return einval("xdp_md: rx_queue_index beyond the device's queues");
  }
  st.kind = PacketState::Kind::Xdp;
  st.buf.assign(kPageSize, 0);
  if (linear) std::memcpy(st.buf.data() + headroom, data.data(), linear);
  for (size_t off = linear; off < size; off += kPageSize) {
    if (st.frags.size() == kMaxSkbFrags) return make_error(ErrorKind::InvalidArgument, "too many fragments (ENOMEM)");
    const size_t n = std::min<size_t>(kPageSize, size - off);
    st.frags.emplace_back(data.begin() + static_cast<ptrdiff_t>(off), data.begin() + static_cast<ptrdiff_t>(off + n));
  }
  st.meta = headroom;
  st.data = headroom + metalen;
  st.end = headroom + linear;
  st.limit = kPageSize - kSkbSharedInfoSize;
  st.direct_access = true;
  st.xdp.ingress_ifindex = kLoopbackIfindex;  // the loopback device's rx queue 0
  st.xdp.rx_queue_index = 0;
  st.xdp.frame_sz = kPageSize;
  return ok_status();
}

void finish_xdp(const PacketState& st, bool has_ctx, xdp_md md, TestRunResult& out) {
  out.data_out.assign(st.buf.begin() + static_cast<ptrdiff_t>(st.meta), st.buf.begin() + static_cast<ptrdiff_t>(st.end));
  for (const auto& f : st.frags) out.data_out.insert(out.data_out.end(), f.begin(), f.end());
  if (!has_ctx) return;
  md.data = static_cast<uint32_t>(st.data - st.meta);
  md.data_end = static_cast<uint32_t>(st.end - st.meta);
  out.ctx_out.resize(sizeof md);
  std::memcpy(out.ctx_out.data(), &md, sizeof md);
}

// ---- skb ----------------------------------------------------------------------

// eth_type_trans on the loopback device: pkt_type from the destination address
// and the protocol from the EtherType.  Loopback's own and broadcast addresses
// are both all zeros, so ff:ff:ff:ff:ff:ff counts as multicast there.
void eth_type_trans(PacketState& st, size_t size) {
  const uint8_t* eth = st.at(st.mac);
  static constexpr uint8_t kZero[ETH_ALEN] = {};
  uint32_t pkt_type = PACKET_HOST;
  if (std::memcmp(eth, kZero, ETH_ALEN) != 0) pkt_type = (eth[0] & 1) ? PACKET_MULTICAST : PACKET_OTHERHOST;
  st.skb.pkt_type = pkt_type;
  // __be16 values as the little-endian host reads them.
  auto be = [](uint16_t host) { return static_cast<uint32_t>(static_cast<uint16_t>(host >> 8 | host << 8)); };
  const uint8_t* type = eth + 12;
  uint32_t proto;
  if (type[0] >= (ETH_P_802_3_MIN >> 8)) proto = static_cast<uint32_t>(type[0] | type[1] << 8);
  else if (size >= kEthHlen + 2 && eth[14] == 0xff && eth[15] == 0xff) proto = be(ETH_P_802_3);  // raw IPX
  else proto = be(ETH_P_802_2);
  st.skb.protocol = proto;
}

Status setup_skb(PacketState& st, uint32_t prog_type, const std::vector<uint8_t>& data, bool has_ctx,
                 const __sk_buff& sk) {
  const size_t size = data.size();
  if (size < kEthHlen || size > kPageSize - kSkbHeadroom - kSkbSharedInfoSize)
    return einval("packet size " + std::to_string(size) + " outside [14, 3712]");
  if (has_ctx && sk.ifindex > kLoopbackIfindex)
    return make_error(ErrorKind::Unsupported,
                      "__sk_buff: ifindex " + std::to_string(sk.ifindex) + ": only the loopback device (1) exists here");
  st.kind = PacketState::Kind::Skb;
  st.is_l2 = prog_type == BPF_PROG_TYPE_SCHED_CLS || prog_type == BPF_PROG_TYPE_SCHED_ACT;
  st.direct_access = st.is_l2;
  // Room in front for bpf_skb_change_head and behind for bpf_skb_change_tail,
  // up to the kernel's maximum skb length, so the buffer never moves.
  const size_t base = kSkbMaxLen + kSkbHeadroom;
  st.buf.assign(base + kSkbMaxLen + kSkbSharedInfoSize, 0);
  if (size) std::memcpy(st.buf.data() + base, data.data(), size);
  st.mac = base;
  st.network = base + kEthHlen;
  st.data = st.is_l2 ? base : base + kEthHlen;
  st.end = base + size;
  st.limit = st.buf.size() - kSkbSharedInfoSize;
  eth_type_trans(st, size);
  st.skb.ifindex = kLoopbackIfindex;
  st.skb.len = static_cast<uint32_t>(st.end - st.data);
  // The test run reads the addresses of an IPv4 / IPv6 header: it must be there.
  const size_t l3 = size - kEthHlen;
  if ((st.skb.protocol == 0x0008 && l3 < 20) || (st.skb.protocol == 0xdd86 && l3 < 40))
    return einval("packet too short for its IPv4 / IPv6 header");
  if (!has_ctx) return ok_status();

  // convert___skb_to_skb: only these fields may be set.
  const auto* raw = reinterpret_cast<const uint8_t*>(&sk);
  auto end_of = [](size_t off, size_t sz) { return off + sz; };
  if (!all_zero(raw, 0, offsetof(__sk_buff, mark)) ||
      !all_zero(raw, end_of(offsetof(__sk_buff, mark), 4), offsetof(__sk_buff, priority)) ||
      !all_zero(raw, end_of(offsetof(__sk_buff, ifindex), 4), offsetof(__sk_buff, cb)) ||
      !all_zero(raw, end_of(offsetof(__sk_buff, cb), sizeof sk.cb), offsetof(__sk_buff, tstamp)) ||
      !all_zero(raw, end_of(offsetof(__sk_buff, gso_segs), 4), offsetof(__sk_buff, gso_size)) ||
      !all_zero(raw, end_of(offsetof(__sk_buff, gso_size), 4), offsetof(__sk_buff, hwtstamp)) ||
      !all_zero(raw, end_of(offsetof(__sk_buff, hwtstamp), 8), sizeof sk))
    return einval("__sk_buff: fields other than mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, "
                  "gso_segs, gso_size and hwtstamp must be 0");
  st.skb.mark = sk.mark;
  st.skb.priority = sk.priority;
  st.skb.ingress_ifindex = sk.ingress_ifindex;
  st.skb.tstamp = sk.tstamp;
  std::memcpy(st.skb.cb, sk.cb, sizeof st.skb.cb);
  if (sk.wire_len == 0) {
    st.skb.wire_len = st.skb.len;
  } else {
    if (sk.wire_len < st.skb.len || sk.wire_len > kGsoLegacyMaxSize) return einval("__sk_buff: bad wire_len");
    st.skb.wire_len = sk.wire_len;
  }
  if (sk.gso_segs > kGsoMaxSegs) return einval("__sk_buff: gso_segs above GSO_MAX_SEGS");
  st.skb.gso_segs = sk.gso_segs;
  st.skb.gso_size = static_cast<uint16_t>(sk.gso_size);  // a u16 in skb_shared_info
  st.skb.hwtstamp = sk.hwtstamp;
  return ok_status();
}

void finish_skb(PacketState& st, bool has_ctx, __sk_buff sk, TestRunResult& out) {
  size_t from = st.data;
  // Programs that see the packet from the network header get the Ethernet
  // header back as zeros.
  if (!st.is_l2) {
    from = st.data - kEthHlen;
    std::memset(st.at(from), 0, kEthHlen);
  }
  out.data_out.assign(st.buf.begin() + static_cast<ptrdiff_t>(from), st.buf.begin() + static_cast<ptrdiff_t>(st.end));
  if (!has_ctx) return;
  // convert_skb_to___skb
  sk.mark = st.skb.mark;
  sk.priority = st.skb.priority;
  sk.ingress_ifindex = st.skb.ingress_ifindex;
  sk.ifindex = st.skb.ifindex;
  sk.tstamp = st.skb.tstamp;
  std::memcpy(sk.cb, st.skb.cb, sizeof sk.cb);
  sk.wire_len = st.skb.wire_len;
  sk.gso_segs = st.skb.gso_segs;
  sk.hwtstamp = st.skb.hwtstamp;
  out.ctx_out.resize(sizeof sk);
  std::memcpy(out.ctx_out.data(), &sk, sizeof sk);
}

}  // namespace

bool supports_test_run(uint32_t prog_type) { return ctx_kind(prog_type) != CtxKind::None; }

Result<TestRunResult> run_packet_test(uint32_t prog_type, const TestRunInput& in, const PacketRunner& runner) {
  const CtxKind kind = ctx_kind(prog_type);
  if (kind == CtxKind::None)
    return make_error(ErrorKind::Unsupported,
                      "test runs of program type " + std::to_string(prog_type) + " are not supported");
  // bpf_ctx_init: a longer ctx_in is fine when the excess is zero.
  const size_t uapi = ctx_uapi_size(prog_type);
  alignas(8) uint8_t ctx_img[sizeof(__sk_buff)] = {};
  const bool has_ctx = !in.ctx_in.empty() || in.want_ctx_out;
  if (!all_zero(in.ctx_in.data(), std::min(uapi, in.ctx_in.size()), in.ctx_in.size()))
    return make_error(ErrorKind::InvalidArgument, "ctx_in: bytes beyond the context struct must be 0 (E2BIG)");
  // (memcpy from an empty vector's null data() is undefined even for 0 bytes)
  if (!in.ctx_in.empty()) std::memcpy(ctx_img, in.ctx_in.data(), std::min(uapi, in.ctx_in.size()));
  xdp_md md;
  __sk_buff sk;
  std::memcpy(&md, ctx_img, sizeof md);
  std::memcpy(&sk, ctx_img, sizeof sk);

  auto st = std::make_unique<PacketState>();
  st->prog_type = prog_type;
  Status setup = kind == CtxKind::Xdp ? setup_xdp(*st, in.data, has_ctx, md)
                                      : setup_skb(*st, prog_type, in.data, has_ctx, sk);
  if (!setup) return setup.error();

  vm::ExecContext ctx;
  runtime::RunState rs;
  runner.prepare(ctx, rs);
  rs.hook_ctx = st.get();
  const void* real = st->ctx_ptr();
  const size_t real_size = kind == CtxKind::Xdp ? sizeof(XdpBuff) : sizeof(SkBuff);
  ctx.regions.push_back({reinterpret_cast<uintptr_t>(real), real_size, false, "ctx"});
  if (kind == CtxKind::Skb) {
    const size_t w = st->is_l2 ? kSkbWritableStart : kSkbCbStart;
    ctx.regions.push_back({reinterpret_cast<uintptr_t>(real) + w, sizeof(SkBuff) - w, true, "ctx"});
  }
  st->region_index = ctx.regions.size();
  ctx.regions.push_back({0, 0, true, "packet"});
  st->sync(ctx);

  TestRunResult out;
  const uint32_t repeat = in.repeat ? in.repeat : 1;
  // Timed over the whole loop, as the kernel's bpf_test_run does: reading the
  // clock around every run would cost more than a small program itself.
  const auto t0 = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < repeat; ++i) {
    ctx.args[0] = reinterpret_cast<uint64_t>(real);
    auto r0 = runner.run(ctx);
    if (!r0) return r0.error();
    out.r0 = *r0;
  }
  const auto total = std::chrono::steady_clock::now() - t0;
  out.retval = static_cast<uint32_t>(out.r0);
  out.duration_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(total).count()) / repeat;
  if (kind == CtxKind::Xdp) finish_xdp(*st, has_ctx, md, out);
  else finish_skb(*st, has_ctx, sk, out);
  return out;
}

Result<TestRunResult> test_run(const vm::Engine& engine, uint32_t prog_type, const vm::HelperRegistry& helpers,
                               const TestRunInput& in) {
  PacketRunner r;
  r.prepare = [&helpers](vm::ExecContext& ctx, runtime::RunState& st) {
    ctx.helpers = &helpers;
    ctx.user = &st;
  };
  r.run = [&engine](vm::ExecContext& ctx) { return engine.run(ctx); };
  return run_packet_test(prog_type, in, r);
}

}  // namespace userbpf::hooks
