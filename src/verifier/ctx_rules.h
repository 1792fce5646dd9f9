// Context access rules per program type for the verifier: the packet program
// types use the table shared with context rewriting (hooks/ctx_layout.h); the
// tracing types (pt_regs, tracepoint records, raw tracepoint arguments) follow
// the kernel's *_is_valid_access.
#pragma once

#include <cstdint>

#include "userbpf/result.h"

namespace userbpf::verifier {

enum class CtxFieldKind : uint8_t { Scalar, PacketData, PacketEnd, PacketMeta };

struct CtxFieldInfo {
  CtxFieldKind kind = CtxFieldKind::Scalar;
};

// Whether a `prog_type` program may access `size` bytes at `off` of its context.
// Rejections are ErrorKind::Rejected with the kernel's wording.
Result<CtxFieldInfo> check_ctx_field(uint32_t prog_type, int64_t off, uint32_t size, bool write);

// Whether direct packet writes are allowed (xdp, tc).
bool may_write_packet(uint32_t prog_type);

}  // namespace userbpf::verifier
