// The context access rules of XDP, tc and socket filter programs in one table:
// for each field of struct xdp_md / struct __sk_buff (linux/bpf.h) who may read or
// write it, with which sizes, and where it lives in the kernel-side struct
// (packet_ctx.h).  The rules follow the kernel's is_valid_access /
// convert_ctx_access (net/core/filter.c) so that what loads there loads here
// and reads the same values.  ctx_rewrite uses it now; the verifier later.
#pragma once

#include <cstdint>
#include <span>

#include "userbpf/result.h"

namespace userbpf::hooks {

// Which context struct a program type gets.
enum class CtxKind : uint8_t { None, Xdp, Skb };
CtxKind ctx_kind(uint32_t prog_type);
// Size of the uapi context struct (sizeof(struct xdp_md) / sizeof(struct __sk_buff)), 0 for None.
uint32_t ctx_uapi_size(uint32_t prog_type);

// Per-field permissions.  tc = BPF_PROG_TYPE_SCHED_CLS / SCHED_ACT, sk = SOCKET_FILTER.
enum CtxPerm : uint16_t {
  kReadXdp = 1 << 0,
  kReadTc = 1 << 1,
  kWriteTc = 1 << 2,
  kReadSk = 1 << 3,
  kWriteSk = 1 << 4,
};

// How a field is accessed.
enum class CtxClass : uint8_t {
  U32,         // 4-byte field; 1/2-byte reads allowed (bpf_ctx_narrow_access_ok)
  PacketPtr,   // data / data_end / data_meta: 4-byte read of a 64-bit pointer
  U64,         // tstamp / hwtstamp: 8-byte accesses only
  U8,          // tstamp_type: 1-byte reads only
  Bytes,       // cb[]: any size, aligned, inside the array
  Unsupported, // valid in the kernel but not here (sk: a struct bpf_sock pointer)
};

struct CtxField {
  const char* name;
  uint16_t uapi_off;
  uint16_t uapi_size;    // bytes the field spans in the uapi struct
  CtxClass cls;
  uint8_t target_size;   // bytes the kernel really loads: a narrow read of at least
                         // this size gets the whole field (the kernel's target_size)
  uint8_t store_size;    // bytes a 4-byte store writes (2 for the kernel's u16 fields)
  bool queue_mapping;    // stores of values >= 0xffff are dropped
  uint16_t real_off;     // offset in XdpBuff / SkBuff
  uint16_t perm;         // CtxPerm bits
};

// The field table of a context kind (empty for None), sorted by uapi_off.
std::span<const CtxField> ctx_fields(CtxKind kind);
// The field covering uapi offset `off`, nullptr for padding or out of range.
const CtxField* find_ctx_field(CtxKind kind, int64_t off);

// A checked access, resolved to the real struct.
struct CtxAccess {
  enum class Op : uint8_t {
    Load,              // dst = *(size *)(ctx + real_off)
    Store,             // *(size *)(ctx + real_off) = src / imm
    StoreQueueMapping, // as Store, but skipped when the value is >= 0xffff
  };
  Op op = Op::Load;
  const CtxField* field = nullptr;
  uint16_t real_off = 0;
  uint8_t size = 0;  // bytes actually loaded / stored: 1, 2, 4 or 8
};

// Whether a program of `prog_type` may access `size` bytes at `off` of its
// context (write: a store), and what that access becomes.  Rejected accesses are
// ErrorKind::Rejected with the kernel's wording ("invalid bpf_context access
// off=%d size=%d"); fields not implemented here are ErrorKind::Unsupported.
Result<CtxAccess> check_ctx_access(uint32_t prog_type, int64_t off, uint32_t size, bool write);

}  // namespace userbpf::hooks
