// Context access rules (ctx_rules.h).
#include "verifier/ctx_rules.h"

#include <linux/bpf.h>

#include <string>
#include <string_view>

#include "hooks/ctx_layout.h"

namespace userbpf::verifier {
namespace {

constexpr int64_t kPtRegsSize = 21 * 8;     // struct pt_regs on x86-64
constexpr int64_t kMaxTraceSize = 2048;     // PERF_MAX_TRACE_SIZE
constexpr int64_t kRawTpArgs = 12 * 8;      // MAX_BPF_FUNC_ARGS u64 arguments
constexpr int64_t kPerfEventData = kPtRegsSize + 16;  // regs, sample_period, addr

Error invalid(int64_t off, uint32_t size) {
  return make_error(ErrorKind::Rejected,
                    "invalid bpf_context access off=" + std::to_string(off) + " size=" + std::to_string(size));
}

// Read-only, naturally aligned accesses inside [0, limit).
Result<CtxFieldInfo> read_only_window(int64_t off, uint32_t size, bool write, int64_t limit, bool u64_only) {
  if (write || off < 0 || off + size > limit || off % size != 0 || (u64_only && size != 8)) return invalid(off, size);
  return CtxFieldInfo{};
}

}  // namespace

Result<CtxFieldInfo> check_ctx_field(uint32_t prog_type, int64_t off, uint32_t size, bool write) {
  switch (prog_type) {
    case BPF_PROG_TYPE_KPROBE: return read_only_window(off, size, write, kPtRegsSize, false);
    case BPF_PROG_TYPE_TRACEPOINT: return read_only_window(off, size, write, kMaxTraceSize, false);
    case BPF_PROG_TYPE_RAW_TRACEPOINT: return read_only_window(off, size, write, kRawTpArgs, false);
    case BPF_PROG_TYPE_PERF_EVENT: return read_only_window(off, size, write, kPerfEventData, false);
    default: break;
  }
  if (hooks::ctx_kind(prog_type) == hooks::CtxKind::None) {
    auto e = invalid(off, size);
    e.kind = ErrorKind::Unsupported;
    e.message += " (userbpf does not know this program type's context)";
    return e;
  }
  auto a = hooks::check_ctx_access(prog_type, off, size, write);
  if (!a) return a.error();
  CtxFieldInfo info;
  if (a->field && a->field->cls == hooks::CtxClass::PacketPtr) {
    const std::string_view name = a->field->name;
    info.kind = name == "data" ? CtxFieldKind::PacketData : name == "data_end" ? CtxFieldKind::PacketEnd : CtxFieldKind::PacketMeta;
  }
  return info;
}

bool may_write_packet(uint32_t prog_type) {
  return prog_type == BPF_PROG_TYPE_XDP || prog_type == BPF_PROG_TYPE_SCHED_CLS || prog_type == BPF_PROG_TYPE_SCHED_ACT;
}

}  // namespace userbpf::verifier
