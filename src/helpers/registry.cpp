// The standard helper set and the kernel's helper names (linux/bpf.h
// __BPF_FUNC_MAPPER: the position in that list is the helper id).
#include <linux/bpf.h>

#include <array>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers {
namespace {

#define USERBPF_HELPER_NAME(x) "bpf_" #x
constexpr const char* kNames[] = {__BPF_FUNC_MAPPER(USERBPF_HELPER_NAME)};
#undef USERBPF_HELPER_NAME

}  // namespace

std::string helper_name(int32_t id) {
  // Id 0 (BPF_FUNC_unspec) is not a helper.
  if (id <= 0 || static_cast<size_t>(id) >= std::size(kNames)) return "";
  return kNames[id];
}

void register_standard_helpers(vm::HelperRegistry& reg) {
  detail::register_map_helpers(reg);
  detail::register_task_helpers(reg);
  detail::register_printk_helpers(reg);
  detail::register_string_helpers(reg);
  detail::register_ringbuf_perf_helpers(reg);
  detail::register_probe_read_helpers(reg);
  detail::register_control_helpers(reg);
}

namespace detail {

void add(vm::HelperRegistry& reg, int32_t id, vm::HelperFn fn) { reg.add(id, helper_name(id), fn); }

}  // namespace detail
}  // namespace userbpf::helpers
