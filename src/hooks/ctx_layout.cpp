// The context field table and the access check (see ctx_layout.h).
#include "hooks/ctx_layout.h"

#include <linux/bpf.h>

#include <cstddef>
#include <string>

#include "hooks/packet_ctx.h"

namespace userbpf::hooks {
namespace {

#define UAPI(S, F) static_cast<uint16_t>(offsetof(struct S, F)), static_cast<uint16_t>(sizeof(S::F))

constexpr uint16_t kR = kReadTc | kReadSk;  // readable by both skb program types

// struct xdp_md: every field read-only, 4-byte accesses only.  egress_ifindex is
// only for BPF_XDP_DEVMAP programs, which BPF_PROG_TEST_RUN refuses anyway.
constexpr CtxField kXdpFields[] = {
    {"data", UAPI(xdp_md, data), CtxClass::PacketPtr, 8, 0, false, offsetof(XdpBuff, data), kReadXdp},
    {"data_end", UAPI(xdp_md, data_end), CtxClass::PacketPtr, 8, 0, false, offsetof(XdpBuff, data_end), kReadXdp},
    {"data_meta", UAPI(xdp_md, data_meta), CtxClass::PacketPtr, 8, 0, false, offsetof(XdpBuff, data_meta), kReadXdp},
    {"ingress_ifindex", UAPI(xdp_md, ingress_ifindex), CtxClass::U32, 4, 0, false, offsetof(XdpBuff, ingress_ifindex),
     kReadXdp},
    {"rx_queue_index", UAPI(xdp_md, rx_queue_index), CtxClass::U32, 4, 0, false, offsetof(XdpBuff, rx_queue_index),
     kReadXdp},
    {"egress_ifindex", UAPI(xdp_md, egress_ifindex), CtxClass::U32, 4, 0, false, offsetof(XdpBuff, egress_ifindex), 0},
};

// struct __sk_buff.  target_size is what the kernel's convert_ctx_access loads
// (2 for the sk_buff's u16 fields, 1 for pkt_type): it decides the narrow-load
// result.  Fields absent here (family .. local_port, flow_keys) are never valid
// for these program types.
constexpr CtxField kSkbFields[] = {
    {"len", UAPI(__sk_buff, len), CtxClass::U32, 4, 0, false, offsetof(SkBuff, len), kR},
    {"pkt_type", UAPI(__sk_buff, pkt_type), CtxClass::U32, 1, 0, false, offsetof(SkBuff, pkt_type), kR},
    {"mark", UAPI(__sk_buff, mark), CtxClass::U32, 4, 4, false, offsetof(SkBuff, mark), kR | kWriteTc},
    {"queue_mapping", UAPI(__sk_buff, queue_mapping), CtxClass::U32, 2, 2, true, offsetof(SkBuff, queue_mapping),
     kR | kWriteTc},
    {"protocol", UAPI(__sk_buff, protocol), CtxClass::U32, 2, 0, false, offsetof(SkBuff, protocol), kR},
    {"vlan_present", UAPI(__sk_buff, vlan_present), CtxClass::U32, 4, 0, false, offsetof(SkBuff, vlan_present), kR},
    {"vlan_tci", UAPI(__sk_buff, vlan_tci), CtxClass::U32, 2, 0, false, offsetof(SkBuff, vlan_tci), kR},
    {"vlan_proto", UAPI(__sk_buff, vlan_proto), CtxClass::U32, 2, 0, false, offsetof(SkBuff, vlan_proto), kR},
    {"priority", UAPI(__sk_buff, priority), CtxClass::U32, 4, 4, false, offsetof(SkBuff, priority), kR | kWriteTc},
    {"ingress_ifindex", UAPI(__sk_buff, ingress_ifindex), CtxClass::U32, 4, 0, false, offsetof(SkBuff, ingress_ifindex),
     kR},
    {"ifindex", UAPI(__sk_buff, ifindex), CtxClass::U32, 4, 0, false, offsetof(SkBuff, ifindex), kR},
    {"tc_index", UAPI(__sk_buff, tc_index), CtxClass::U32, 2, 2, false, offsetof(SkBuff, tc_index), kR | kWriteTc},
    {"cb", UAPI(__sk_buff, cb), CtxClass::Bytes, 0, 0, false, offsetof(SkBuff, cb), kR | kWriteTc | kWriteSk},
    {"hash", UAPI(__sk_buff, hash), CtxClass::U32, 4, 0, false, offsetof(SkBuff, hash), kR},
    {"tc_classid", UAPI(__sk_buff, tc_classid), CtxClass::U32, 2, 2, false, offsetof(SkBuff, tc_classid),
     kReadTc | kWriteTc},
    {"data", UAPI(__sk_buff, data), CtxClass::PacketPtr, 8, 0, false, offsetof(SkBuff, data), kReadTc},
    {"data_end", UAPI(__sk_buff, data_end), CtxClass::PacketPtr, 8, 0, false, offsetof(SkBuff, data_end), kReadTc},
    {"napi_id", UAPI(__sk_buff, napi_id), CtxClass::U32, 4, 0, false, offsetof(SkBuff, napi_id), kR},
    {"data_meta", UAPI(__sk_buff, data_meta), CtxClass::PacketPtr, 8, 0, false, offsetof(SkBuff, data_meta), kReadTc},
    {"tstamp", UAPI(__sk_buff, tstamp), CtxClass::U64, 8, 8, false, offsetof(SkBuff, tstamp), kReadTc | kWriteTc},
    {"wire_len", UAPI(__sk_buff, wire_len), CtxClass::U32, 4, 0, false, offsetof(SkBuff, wire_len), kReadTc},
    {"gso_segs", UAPI(__sk_buff, gso_segs), CtxClass::U32, 2, 0, false, offsetof(SkBuff, gso_segs), kR},
    {"sk", UAPI(__sk_buff, sk), CtxClass::Unsupported, 8, 0, false, 0, kR},
    {"gso_size", UAPI(__sk_buff, gso_size), CtxClass::U32, 2, 0, false, offsetof(SkBuff, gso_size), kR},
    {"tstamp_type", UAPI(__sk_buff, tstamp_type), CtxClass::U8, 1, 0, false, offsetof(SkBuff, tstamp_type), kReadTc},
    {"hwtstamp", UAPI(__sk_buff, hwtstamp), CtxClass::U64, 8, 0, false, offsetof(SkBuff, hwtstamp), kReadTc},
};

#undef UAPI

Error invalid(int64_t off, uint32_t size) {
  return make_error(ErrorKind::Rejected,
                    "invalid bpf_context access off=" + std::to_string(off) + " size=" + std::to_string(size));
}

bool is_tc(uint32_t prog_type) {
  return prog_type == BPF_PROG_TYPE_SCHED_CLS || prog_type == BPF_PROG_TYPE_SCHED_ACT;
}

uint16_t needed_perm(uint32_t prog_type, bool write) {
  if (prog_type == BPF_PROG_TYPE_XDP) return write ? 0 : kReadXdp;
  if (is_tc(prog_type)) return write ? kWriteTc : kReadTc;
  if (prog_type == BPF_PROG_TYPE_SOCKET_FILTER) return write ? kWriteSk : kReadSk;
  return 0;
}

}  // namespace

CtxKind ctx_kind(uint32_t prog_type) {
  if (prog_type == BPF_PROG_TYPE_XDP) return CtxKind::Xdp;
  if (is_tc(prog_type) || prog_type == BPF_PROG_TYPE_SOCKET_FILTER) return CtxKind::Skb;
  return CtxKind::None;
}

uint32_t ctx_uapi_size(uint32_t prog_type) {
  switch (ctx_kind(prog_type)) {
    case CtxKind::Xdp: return sizeof(struct xdp_md);
    case CtxKind::Skb: return sizeof(struct __sk_buff);
    case CtxKind::None: break;
  }
  return 0;
}

std::span<const CtxField> ctx_fields(CtxKind kind) {
  switch (kind) {
    case CtxKind::Xdp: return kXdpFields;
    case CtxKind::Skb: return kSkbFields;
    case CtxKind::None: break;
  }
  return {};
}

const CtxField* find_ctx_field(CtxKind kind, int64_t off) {
  for (const CtxField& f : ctx_fields(kind))
    if (off >= f.uapi_off && off < f.uapi_off + f.uapi_size) return &f;
  return nullptr;
}

Result<CtxAccess> check_ctx_access(uint32_t prog_type, int64_t off, uint32_t size, bool write) {
  const CtxKind kind = ctx_kind(prog_type);
  if (kind == CtxKind::None)
    return make_error(ErrorKind::Unsupported, "program type " + std::to_string(prog_type) + " has no context rules");
  if (size != 1 && size != 2 && size != 4 && size != 8) return invalid(off, size);
  // The kernel checks natural alignment before anything else.
  if (off < 0 || off >= ctx_uapi_size(prog_type) || off % size != 0) return invalid(off, size);
  const CtxField* f = find_ctx_field(kind, off);
  if (!f) return invalid(off, size);
  const uint16_t perm = needed_perm(prog_type, write);
  if (perm == 0 || !(f->perm & perm)) return invalid(off, size);

  CtxAccess a;
  a.field = f;
  a.op = write ? (f->queue_mapping ? CtxAccess::Op::StoreQueueMapping : CtxAccess::Op::Store) : CtxAccess::Op::Load;
  const uint32_t inner = static_cast<uint32_t>(off - f->uapi_off);
  switch (f->cls) {
    case CtxClass::Unsupported:
      return make_error(ErrorKind::Unsupported, std::string("__sk_buff->") + f->name + " is not supported");
    case CtxClass::Bytes:
      if (inner + size > f->uapi_size) return invalid(off, size);
      a.real_off = static_cast<uint16_t>(f->real_off + inner);
      a.size = static_cast<uint8_t>(size);
      return a;
    case CtxClass::PacketPtr:
      if (size != 4) return invalid(off, size);
      a.real_off = f->real_off;
      a.size = 8;
      return a;
    case CtxClass::U64:
      if (size != 8) return invalid(off, size);
      a.real_off = f->real_off;
      a.size = 8;
      return a;
    case CtxClass::U8:
      if (size != 1) return invalid(off, size);
      a.real_off = f->real_off;
      a.size = 1;
      return a;
    case CtxClass::U32:
      break;
  }
  // U32 fields.  XDP allows full-width accesses only; skb stores must be full
  // width (and then write store_size bytes), skb reads may be narrow.
  if (size == 8 || (kind == CtxKind::Xdp && size != 4) || (write && size != 4)) return invalid(off, size);
  a.real_off = f->real_off;
  if (write) {
    a.size = f->store_size;
    return a;
  }
  // A narrow read smaller than what the kernel loads is shifted and masked: the
  // same bytes of our zero-extended copy.  One at least as wide as the loaded
  // value gets the whole value, whatever its offset (the kernel's behaviour).
  if (size < 4 && size < f->target_size) {
    a.real_off = static_cast<uint16_t>(f->real_off + inner);
    a.size = static_cast<uint8_t>(size);
  } else {
    a.size = 4;
  }
  return a;
}

}  // namespace userbpf::hooks
