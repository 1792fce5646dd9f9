// Packet helpers, XDP side, and the registration of all packet helpers.  Every
// helper takes its context argument only when it is the running program's own
// context (packet_state); the kernel's verifier guarantees that, we check it.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <cstring>

#include "helpers/helpers_internal.h"
#include "helpers/packet_helpers_internal.h"
#include "hooks/packet_ctx.h"

namespace userbpf::helpers {
namespace {

using detail::err;
using hooks::PacketState;

// bpf_xdp_adjust_head: move data by offset, keeping the metadata in front of it
// and at least an Ethernet header behind it; room for an xdp_frame stays free.
uint64_t xdp_adjust_head(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = hooks::packet_state(ctx, r1);
  if (!p || p->kind != PacketState::Kind::Xdp) return err(EINVAL);
  const int64_t offset = static_cast<int32_t>(r2);
  const size_t metalen = p->data - p->meta;
  const int64_t data = static_cast<int64_t>(p->data) + offset;
  if (data < static_cast<int64_t>(hooks::kXdpFrameSize + metalen) ||
      data > static_cast<int64_t>(p->end) - static_cast<int64_t>(hooks::kEthHlen))
    return err(EINVAL);
  const size_t meta = static_cast<size_t>(static_cast<int64_t>(p->meta) + offset);
  if (metalen) std::memmove(p->at(meta), p->at(p->meta), metalen);
  p->meta = meta;
  p->data = static_cast<size_t>(data);
  p->sync(*ctx);
  return 0;
}

// bpf_xdp_adjust_meta: grow or shrink the metadata area in front of data.
uint64_t xdp_adjust_meta(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = hooks::packet_state(ctx, r1);
  if (!p || p->kind != PacketState::Kind::Xdp) return err(EINVAL);
  const int64_t meta = static_cast<int64_t>(p->meta) + static_cast<int32_t>(r2);
  if (meta < static_cast<int64_t>(hooks::kXdpFrameSize) || meta > static_cast<int64_t>(p->data)) return err(EINVAL);
  const uint64_t metalen = p->data - static_cast<size_t>(meta);
  if (metalen % 4 != 0 || metalen > hooks::kXdpMaxMeta) return err(EACCES);
  p->meta = static_cast<size_t>(meta);
  p->sync(*ctx);
  return 0;
}

// bpf_xdp_adjust_tail: move data_end within [data + ETH_HLEN, frame end less
// the shared-info tailroom]; grown bytes are zeroed.
// Multi-buffer bpf_xdp_adjust_tail: the last fragment grows into the rest of
// its page (zeroed), or fragments shrink from the end, emptied ones dropped.
uint64_t frags_adjust_tail(PacketState& p, int64_t offset, vm::ExecContext& ctx) {
  if (offset > 0) {
    std::vector<uint8_t>& last = p.frags.back();
    if (offset > static_cast<int64_t>(hooks::kPageSize - last.size())) return err(EINVAL);
    last.resize(last.size() + static_cast<size_t>(offset), 0);
    return 0;
  }
  int64_t shrink = -offset;
  if (shrink > static_cast<int64_t>(p.len() + p.frags_size()) - static_cast<int64_t>(hooks::kEthHlen))
    return err(EINVAL);
  while (shrink > 0 && !p.frags.empty()) {
    std::vector<uint8_t>& last = p.frags.back();
    const size_t n = std::min<size_t>(static_cast<size_t>(shrink), last.size());
    last.resize(last.size() - n);
    shrink -= static_cast<int64_t>(n);
    if (last.empty()) p.frags.pop_back();
  }
  if (p.frags.empty()) {  // the rest comes off the linear part
    p.end -= static_cast<size_t>(shrink);
    p.sync(ctx);
  }
  return 0;
}

// bpf_xdp_adjust_tail: move data_end within [data + ETH_HLEN, frame end less
// the shared-info tailroom]; grown bytes are zeroed.
uint64_t xdp_adjust_tail(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = hooks::packet_state(ctx, r1);
  if (!p || p->kind != PacketState::Kind::Xdp) return err(EINVAL);
  const int64_t offset = static_cast<int32_t>(r2);
  if (!p->frags.empty()) return frags_adjust_tail(*p, offset, *ctx);
  const int64_t end = static_cast<int64_t>(p->end) + offset;
  if (end > static_cast<int64_t>(p->limit)) return err(EINVAL);
  if (end < static_cast<int64_t>(p->data + hooks::kEthHlen)) return err(EINVAL);
  if (offset > 0) std::memset(p->at(p->end), 0, static_cast<size_t>(offset));
  p->end = static_cast<size_t>(end);
  p->sync(*ctx);
  return 0;
}

// bpf_xdp_get_buff_len: linear part plus fragments.
uint64_t xdp_get_buff_len(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = hooks::packet_state(ctx, r1);
  if (!p || p->kind != PacketState::Kind::Xdp) return 0;
  return p->len() + p->frags_size();
}

// bpf_redirect: the verdict only (no devices here).  XDP: any flag aborts;
// tc: only BPF_F_INGRESS is allowed.
uint64_t redirect(uint64_t, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const PacketState* p = hooks::packet_state(ctx);
  if (p && p->kind == PacketState::Kind::Xdp) return r2 ? XDP_ABORTED : XDP_REDIRECT;
  return (r2 & ~static_cast<uint64_t>(BPF_F_INGRESS)) ? TC_ACT_SHOT : TC_ACT_REDIRECT;
}

// bpf_redirect_map (XDP).  No device, CPU or socket maps exist here, so every
// lookup misses and the kernel's fallback applies: flags outside the action
// bits and the devmap flags abort, BPF_F_BROADCAST redirects regardless, and
// otherwise the low bits of flags are the verdict.
uint64_t redirect_map(uint64_t, uint64_t, uint64_t r3, uint64_t, uint64_t, vm::ExecContext*) {
  constexpr uint64_t kActionMask = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;
  constexpr uint64_t kFlagMask = BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS;
  if (r3 & ~(kActionMask | kFlagMask)) return XDP_ABORTED;
  if (r3 & BPF_F_BROADCAST) return XDP_REDIRECT;
  return r3 & kActionMask;
}

// bpf_csum_diff: checksum of `to` minus checksum of `from`, plus seed, folded to
// 16 bits.  Any sizes (the kernel no longer insists on multiples of 4).
uint64_t csum_diff(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  const uint32_t from_size = static_cast<uint32_t>(r2), to_size = static_cast<uint32_t>(r4);
  const uint32_t seed = static_cast<uint32_t>(r5);
  const uint8_t* from = detail::program_read_ptr(ctx, r1, from_size);
  const uint8_t* to = detail::program_read_ptr(ctx, r3, to_size);
  if ((from_size && !from) || (to_size && !to)) return err(EFAULT);  // NULL is fine for a 0 size
  if (from_size && to_size) return csum::from32to16(csum::sub(csum::partial(to, to_size, seed), csum::partial(from, from_size, 0)));
  if (to_size) return csum::from32to16(csum::partial(to, to_size, seed));
  if (from_size) return csum::from32to16(~csum::partial(from, from_size, ~seed));
  return seed;
}

}  // namespace

void register_packet_helpers(vm::HelperRegistry& reg) {
  detail::add(reg, BPF_FUNC_xdp_adjust_head, xdp_adjust_head);
  detail::add(reg, BPF_FUNC_xdp_adjust_meta, xdp_adjust_meta);
  detail::add(reg, BPF_FUNC_xdp_adjust_tail, xdp_adjust_tail);
  detail::add(reg, BPF_FUNC_xdp_get_buff_len, xdp_get_buff_len);
  detail::add(reg, BPF_FUNC_redirect, redirect);
  detail::add(reg, BPF_FUNC_redirect_map, redirect_map);
  detail::add(reg, BPF_FUNC_csum_diff, csum_diff);
  detail::register_skb_helpers(reg);
}

}  // namespace userbpf::helpers
