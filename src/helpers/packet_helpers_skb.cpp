// Packet helpers, sk_buff side, with the kernel's bounds, flags and error codes
// (net/core/filter.c).  A test-run skb is linear with ip_summed CHECKSUM_NONE, so
// the skb->csum bookkeeping of the kernel helpers never applies.
#include <linux/bpf.h>

#include <cstring>

#include "helpers/helpers_internal.h"
#include "helpers/packet_helpers_internal.h"
#include "hooks/packet_ctx.h"

namespace userbpf::helpers::detail {
namespace {

using hooks::PacketState;

constexpr int kENOTSUPP = 524;  // the kernel-internal ENOTSUPP some helpers return

PacketState* skb_state(vm::ExecContext* ctx, uint64_t r1) {
  PacketState* p = hooks::packet_state(ctx, r1);
  return p && p->kind == PacketState::Kind::Skb ? p : nullptr;
}

// bpf_try_make_writable: the first write_len bytes must be in the (linear) packet.
bool writable(const PacketState& p, uint64_t write_len) { return write_len <= p.len(); }

uint64_t skb_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  const uint32_t offset = static_cast<uint32_t>(r2), len = static_cast<uint32_t>(r4);
  uint8_t* to = program_write_ptr(ctx, r3, len);
  PacketState* p = skb_state(ctx, r1);
  if (!to || !p) return err(EFAULT);
  if (offset > INT32_MAX || static_cast<uint64_t>(offset) + len > p->len()) {
    std::memset(to, 0, len);
    return err(EFAULT);
  }
  std::memcpy(to, p->at(p->data + offset), len);
  return 0;
}

uint64_t skb_load_bytes_relative(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                 vm::ExecContext* ctx) {
  const uint32_t offset = static_cast<uint32_t>(r2), len = static_cast<uint32_t>(r4);
  uint8_t* to = program_write_ptr(ctx, r3, len);
  PacketState* p = skb_state(ctx, r1);
  if (!to || !p) return err(EFAULT);
  const uint32_t start_header = static_cast<uint32_t>(r5);
  size_t start = 0;
  bool ok = offset <= 0xffff;
  if (start_header == BPF_HDR_START_MAC) start = p->mac;
  else if (start_header == BPF_HDR_START_NET) start = p->network;
  else ok = false;
  if (ok && start + offset + len <= p->end) {
    std::memcpy(to, p->at(start + offset), len);
    return 0;
  }
  std::memset(to, 0, len);
  return err(EFAULT);
}

uint64_t skb_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  const uint32_t offset = static_cast<uint32_t>(r2), len = static_cast<uint32_t>(r4);
  PacketState* p = skb_state(ctx, r1);
  const uint8_t* from = program_read_ptr(ctx, r3, len);
  if (!p || !from) return err(EFAULT);
  if (r5 & ~static_cast<uint64_t>(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) return err(EINVAL);
  if (offset > INT32_MAX) return err(EFAULT);
  if (!writable(*p, static_cast<uint64_t>(offset) + len)) return err(EFAULT);
  std::memmove(p->at(p->data + offset), from, len);
  if (r5 & BPF_F_INVALIDATE_HASH) {
    p->skb.hash = 0;
    p->sw_hash = false;
  }
  return 0;
}

// Where a csum_replace helper's 16-bit checksum lives, or an errno.
int csum_field(PacketState* p, uint32_t offset, uint16_t** field) {
  if (!p) return EFAULT;
  if (offset > 0xffff || (offset & 1)) return EFAULT;
  if (!writable(*p, static_cast<uint64_t>(offset) + 2)) return EFAULT;
  *field = reinterpret_cast<uint16_t*>(p->at(p->data + offset));
  return 0;
}

uint16_t load16(const uint16_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
void store16(uint16_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

uint64_t l3_csum_replace(uint64_t r1, uint64_t r2, uint64_t from, uint64_t to, uint64_t flags, vm::ExecContext* ctx) {
  if (flags & ~static_cast<uint64_t>(BPF_F_HDR_FIELD_MASK)) return err(EINVAL);
  uint16_t* f = nullptr;
  if (int e = csum_field(skb_state(ctx, r1), static_cast<uint32_t>(r2), &f)) return err(e);
  const uint16_t sum = load16(f);
  switch (flags & BPF_F_HDR_FIELD_MASK) {
    case 0:
      if (from != 0) return err(EINVAL);
      store16(f, csum::replace_by_diff(sum, static_cast<uint32_t>(to)));
      break;
    case 2: store16(f, csum::replace2(sum, static_cast<uint16_t>(from), static_cast<uint16_t>(to))); break;
    case 4: store16(f, csum::replace4(sum, static_cast<uint32_t>(from), static_cast<uint32_t>(to))); break;
    default: return err(EINVAL);
  }
  return 0;
}

// With CHECKSUM_NONE the pseudo-header flag changes nothing: the transport
// checksum is updated the same way as an IP header's (inet_proto_csum_replace*).
uint64_t l4_csum_replace(uint64_t r1, uint64_t r2, uint64_t from, uint64_t to, uint64_t flags, vm::ExecContext* ctx) {
#ifndef BPF_F_IPV6
  constexpr uint64_t kIpv6 = 1ULL << 7;
#else
  constexpr uint64_t kIpv6 = BPF_F_IPV6;
#endif
  const bool mark_mangled_0 = flags & BPF_F_MARK_MANGLED_0;
  const bool mark_enforce = flags & BPF_F_MARK_ENFORCE;
  if (flags & ~static_cast<uint64_t>(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR |
                                     BPF_F_HDR_FIELD_MASK | kIpv6))
    return err(EINVAL);
  uint16_t* f = nullptr;
  if (int e = csum_field(skb_state(ctx, r1), static_cast<uint32_t>(r2), &f)) return err(e);
  const uint16_t sum = load16(f);
  if (mark_mangled_0 && !mark_enforce && sum == 0) return 0;  // UDP without a checksum stays so
  switch (flags & BPF_F_HDR_FIELD_MASK) {
    case 0:
      if (from != 0) return err(EINVAL);
      store16(f, csum::replace_by_diff(sum, static_cast<uint32_t>(to)));
      break;
    case 2:
      store16(f, csum::replace4(sum, static_cast<uint16_t>(from), static_cast<uint16_t>(to)));
      break;
    case 4: store16(f, csum::replace4(sum, static_cast<uint32_t>(from), static_cast<uint32_t>(to))); break;
    default: return err(EINVAL);
  }
  if (mark_mangled_0 && load16(f) == 0) store16(f, 0xffff);  // CSUM_MANGLED_0
  return 0;
}

uint64_t skb_pull_data(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = skb_state(ctx, r1);
  if (!p) return err(EFAULT);
  const uint32_t len = static_cast<uint32_t>(r2);
  return writable(*p, len ? len : p->len()) ? 0 : err(ENOMEM);
}

// bpf_skb_change_tail: trim or grow to new_len, never below the network header.
uint64_t skb_change_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = skb_state(ctx, r1);
  if (!p) return err(EFAULT);
  const uint32_t new_len = static_cast<uint32_t>(r2);
  const size_t min_len = p->network > p->data ? p->network - p->data : 0;
  if (r3 || new_len > hooks::kSkbMaxLen || new_len < min_len) return err(EINVAL);
  const size_t end = p->data + new_len;
  if (end > p->limit) return err(ENOMEM);
  if (end > p->end) std::memset(p->at(p->end), 0, end - p->end);
  p->end = end;
  if (p->skb.gso_size) {  // skb_gso_reset
    p->skb.gso_size = 0;
    p->skb.gso_segs = 0;
  }
  p->sync(*ctx);
  return 0;
}

// bpf_skb_change_head: push head_room zero bytes in front of the packet (a new
// MAC header); the network header stays where it is.
uint64_t skb_change_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = skb_state(ctx, r1);
  if (!p) return err(EFAULT);
  const uint32_t head_room = static_cast<uint32_t>(r2);
  const uint32_t len = static_cast<uint32_t>(p->len());
  const uint32_t new_len = len + head_room;
  const bool gso = p->skb.gso_size != 0;
  if (r3 || (!gso && new_len > hooks::kSkbMaxLen) || new_len < len) return err(EINVAL);
  if (head_room > p->data) return err(ENOMEM);
  p->data -= head_room;
  std::memset(p->at(p->data), 0, head_room);
  p->mac = p->data;
  p->sync(*ctx);
  return 0;
}

uint64_t set_hash(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = skb_state(ctx, r1);
  if (!p) return err(EFAULT);
  p->skb.hash = static_cast<uint32_t>(r2);
  p->sw_hash = true;
  return 0;
}

// bpf_csum_update only acts on CHECKSUM_COMPLETE skbs.
uint64_t csum_update(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  return skb_state(ctx, r1) ? err(kENOTSUPP) : err(EFAULT);
}

// bpf_csum_level over the skb's ip_summed / csum_level (CHECKSUM_NONE at start).
uint64_t csum_level(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  PacketState* p = skb_state(ctx, r1);
  if (!p) return err(EFAULT);
  constexpr uint8_t kMaxLevel = 3;  // SKB_MAX_CSUM_LEVEL
  switch (r2) {
    case BPF_CSUM_LEVEL_INC:
      if (p->csum_unnecessary) {
        if (p->csum_level < kMaxLevel) ++p->csum_level;
      } else {
        p->csum_unnecessary = true;
        p->csum_level = 0;
      }
      return 0;
    case BPF_CSUM_LEVEL_DEC:
      if (p->csum_unnecessary) {
        if (p->csum_level == 0) p->csum_unnecessary = false;
        else --p->csum_level;
      }
      return 0;
    case BPF_CSUM_LEVEL_RESET:
      p->csum_unnecessary = false;
      p->csum_level = 0;
      return 0;
    case BPF_CSUM_LEVEL_QUERY:
      return p->csum_unnecessary ? p->csum_level : err(EACCES);
    default:
      return err(EINVAL);
  }
}

}  // namespace

void register_skb_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_skb_load_bytes, skb_load_bytes);
  add(reg, BPF_FUNC_skb_load_bytes_relative, skb_load_bytes_relative);
  add(reg, BPF_FUNC_skb_store_bytes, skb_store_bytes);
  add(reg, BPF_FUNC_l3_csum_replace, l3_csum_replace);
  add(reg, BPF_FUNC_l4_csum_replace, l4_csum_replace);
  add(reg, BPF_FUNC_skb_pull_data, skb_pull_data);
  add(reg, BPF_FUNC_skb_change_tail, skb_change_tail);
  add(reg, BPF_FUNC_skb_change_head, skb_change_head);
  add(reg, BPF_FUNC_set_hash, set_hash);
  add(reg, BPF_FUNC_csum_update, csum_update);
  add(reg, BPF_FUNC_csum_level, csum_level);
}

}  // namespace userbpf::helpers::detail
