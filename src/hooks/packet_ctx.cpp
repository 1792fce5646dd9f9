// PacketState bookkeeping shared by the packet hook and the packet helpers.
#include "hooks/packet_ctx.h"

#include "userbpf/runtime.h"

namespace userbpf::hooks {

void PacketState::sync(vm::ExecContext& ctx) {
  if (kind == Kind::Xdp) {
    xdp.data = addr(data);
    xdp.data_end = addr(end);
    xdp.data_meta = addr(meta);
    xdp.data_hard_start = addr(0);
  } else {
    skb.data = addr(data);
    skb.data_end = addr(end);
    skb.data_meta = addr(data);  // no skb metadata in a test run
    skb.len = static_cast<uint32_t>(end - data);
  }
  if (region_index < ctx.regions.size()) {
    vm::Region& r = ctx.regions[region_index];
    const size_t lo = kind == Kind::Xdp ? meta : data;
    r.start = addr(lo);
    r.size = direct_access ? end - lo : 0;
  }
  ctx.legacy_packet = std::span<const uint8_t>(buf.data() + data, end - data);
}

PacketState* packet_state(vm::ExecContext* ctx) {
  if (!ctx || !ctx->user) return nullptr;
  auto* st = static_cast<runtime::RunState*>(ctx->user);
  auto* p = static_cast<PacketState*>(st->hook_ctx);
  return p && p->magic == PacketState::kMagic ? p : nullptr;
}

PacketState* packet_state(vm::ExecContext* ctx, uint64_t ctx_arg) {
  PacketState* p = packet_state(ctx);
  return p && reinterpret_cast<uint64_t>(p->ctx_ptr()) == ctx_arg ? p : nullptr;
}

}  // namespace userbpf::hooks
