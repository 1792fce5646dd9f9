// What r1 really points to when an XDP, tc or socket filter program runs: the
// kernel-side context (like the kernel's xdp_buff / sk_buff), and the packet
// state behind it.  Programs never see these layouts directly: ctx_rewrite turns
// their struct xdp_md / struct __sk_buff accesses into accesses of these structs
// (ctx_layout.h holds the mapping).  Internal to src/hooks and src/helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "userbpf/vm.h"

namespace userbpf::hooks {

// Limits of the kernel's BPF_PROG_TEST_RUN (net/bpf/test_run.c) on x86-64.
inline constexpr uint32_t kPageSize = 4096;
inline constexpr uint32_t kEthHlen = 14;
inline constexpr uint32_t kXdpPacketHeadroom = 256;     // XDP_PACKET_HEADROOM
inline constexpr uint32_t kXdpFrameSize = 40;           // sizeof(struct xdp_frame): kept free at the buffer head
inline constexpr uint32_t kSkbSharedInfoSize = 320;     // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
inline constexpr uint32_t kSkbHeadroom = 64;            // NET_SKB_PAD + NET_IP_ALIGN
inline constexpr uint32_t kSkbMaxLen = 16384 - kSkbSharedInfoSize;  // BPF_SKB_MAX_LEN (SKB_MAX_ALLOC)
inline constexpr uint32_t kXdpMaxMeta = 252;            // skb_shared_info::meta_len is a u8, 4-byte aligned
inline constexpr uint32_t kMaxSkbFrags = 17;            // MAX_SKB_FRAGS

// r1 of an XDP program.  Pointers are host addresses.
struct XdpBuff {
  uint64_t data = 0;
  uint64_t data_end = 0;
  uint64_t data_meta = 0;
  uint64_t data_hard_start = 0;
  uint32_t ingress_ifindex = 0;  // rxq->dev->ifindex
  uint32_t rx_queue_index = 0;
  uint32_t egress_ifindex = 0;
  uint32_t frame_sz = 0;
};

// r1 of a tc / socket filter program.  Fields the kernel keeps narrower (u16
// protocol, 3-bit pkt_type ...) are stored zero-extended in a u32, so a narrow
// load at byte k of the u32 reads what the kernel's shift-and-mask yields.  The
// fields tc programs may write come last so that one region covers them.
struct SkBuff {
  uint64_t data = 0;
  uint64_t data_end = 0;
  uint64_t data_meta = 0;
  uint64_t hwtstamp = 0;
  uint32_t len = 0;
  uint32_t pkt_type = 0;
  uint32_t protocol = 0;  // network byte order, as __sk_buff shows it
  uint32_t vlan_present = 0;
  uint32_t vlan_tci = 0;
  uint32_t vlan_proto = 0;
  uint32_t ingress_ifindex = 0;
  uint32_t ifindex = 0;
  uint32_t hash = 0;
  uint32_t napi_id = 0;
  uint32_t wire_len = 0;
  uint32_t gso_segs = 0;
  uint32_t gso_size = 0;
  uint32_t tstamp_type = 0;
  // ---- writable by tc programs (socket filters: cb only) ----
  uint64_t tstamp = 0;
  uint32_t mark = 0;
  uint32_t priority = 0;
  uint32_t queue_mapping = 0;
  uint32_t tc_index = 0;
  uint32_t tc_classid = 0;
  uint32_t cb[5] = {0, 0, 0, 0, 0};
};
inline constexpr size_t kSkbWritableStart = offsetof(SkBuff, tstamp);
inline constexpr size_t kSkbCbStart = offsetof(SkBuff, cb);

// The packet a run works on.  The buffer is allocated once, large enough for
// every helper's growth, so pointers the program holds never move under it.
// Offsets are into buf.
struct PacketState {
  // RunState::hook_ctx is opaque: the tag tells a packet run from another hook's.
  static constexpr uint64_t kMagic = 0x7061636b65747374;  // "packetst"
  uint64_t magic = kMagic;
  enum class Kind : uint8_t { Xdp, Skb };
  Kind kind = Kind::Xdp;
  uint32_t prog_type = 0;
  bool is_l2 = false;  // tc: data starts at the Ethernet header

  std::vector<uint8_t> buf;
  size_t meta = 0;  // XDP data_meta (skb: == data)
  size_t data = 0;
  size_t end = 0;
  size_t limit = 0;       // how far the packet may grow (XDP: frame end less the tailroom)
  size_t network = 0;     // skb network header
  size_t mac = 0;         // skb mac header (the Ethernet header)

  // XDP multi-buffer: packet bytes past the linear part, one page each at most
  // (the kernel's skb_shared_info frags).
  std::vector<std::vector<uint8_t>> frags;
  size_t frags_size() const {
    size_t n = 0;
    for (const auto& f : frags) n += f.size();
    return n;
  }

  XdpBuff xdp;
  SkBuff skb;
  bool sw_hash = false;  // skb->hash set by bpf_set_hash
  bool csum_unnecessary = false;  // skb->ip_summed: CHECKSUM_NONE (false) / CHECKSUM_UNNECESSARY
  uint8_t csum_level = 0;

  // Where this run's ExecContext keeps the packet region (index into regions).
  size_t region_index = 0;
  bool direct_access = false;  // the program type may touch packet bytes directly

  uint8_t* at(size_t off) { return buf.data() + off; }
  uint64_t addr(size_t off) const { return reinterpret_cast<uint64_t>(buf.data() + off); }
  size_t len() const { return end - data; }
  const void* ctx_ptr() const { return kind == Kind::Xdp ? static_cast<const void*>(&xdp) : &skb; }

  // After the packet bounds change: the context's pointers and length, the
  // region the interpreter checks, and what LD_ABS / LD_IND read.
  void sync(vm::ExecContext& ctx);
};

// The packet state of the running program when r1 (`ctx_arg`) is its context,
// nullptr otherwise: helpers never trust a pointer they did not hand out.
PacketState* packet_state(vm::ExecContext* ctx, uint64_t ctx_arg);
// The packet state of the running program, whatever r1 is (bpf_redirect has no ctx argument).
PacketState* packet_state(vm::ExecContext* ctx);

}  // namespace userbpf::hooks
