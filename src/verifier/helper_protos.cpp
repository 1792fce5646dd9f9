// Helper prototypes and per-program-type availability, transcribed from the
// kernel's struct bpf_func_proto definitions (kernel/bpf/helpers.c, ringbuf.c,
// bpf_iter.c, stackmap.c, core.c, kernel/trace/bpf_trace.c, net/core/filter.c)
// and its get_func_proto chains, as a 6.18 kernel has them for a privileged
// loader.  tests/kernel/verifier_protos_kernel_test.cpp holds both tables
// against the running kernel.
#include "verifier/helper_protos.h"

#include <linux/bpf.h>

#include <algorithm>
#include <array>
#include <string>

#include "userbpf/helpers.h"

namespace userbpf::verifier {
namespace {

using A = ArgKind;
using R = RetKind;

// One entry per helper.  Where program types get different variants of a helper
// (perf_event_output, get_stack, get_func_ip ...) the kinds mostly agree; the two
// that do not are in find_helper_proto(id, prog_type).  Variants that take a BTF
// pointer instead (TRACING's get_socket_cookie and xdp_get_buff_len) count as
// unavailable in helper_allowed.
constexpr HelperProto kProtos[] = {
    // ---- maps (kernel/bpf/helpers.c) ----
    {.id = BPF_FUNC_map_lookup_elem, .name = "bpf_map_lookup_elem", .ret = R::MapValueOrNull,
     .args = {A::ConstMapPtr, A::MapKey}},
    {.id = BPF_FUNC_map_update_elem, .name = "bpf_map_update_elem",
     .args = {A::ConstMapPtr, A::MapKey, A::MapValue, A::Anything}},
    {.id = BPF_FUNC_map_delete_elem, .name = "bpf_map_delete_elem", .args = {A::ConstMapPtr, A::MapKey}},
    {.id = BPF_FUNC_map_push_elem, .name = "bpf_map_push_elem",
     .args = {A::ConstMapPtr, A::MapValue, A::Anything}},
    {.id = BPF_FUNC_map_pop_elem, .name = "bpf_map_pop_elem", .args = {A::ConstMapPtr, A::MapValueWrite}},
    {.id = BPF_FUNC_map_peek_elem, .name = "bpf_map_peek_elem", .args = {A::ConstMapPtr, A::MapValueWrite}},
    {.id = BPF_FUNC_map_lookup_percpu_elem, .name = "bpf_map_lookup_percpu_elem", .ret = R::MapValueOrNull,
     .args = {A::ConstMapPtr, A::MapKey, A::Anything}},
    {.id = BPF_FUNC_for_each_map_elem, .name = "bpf_for_each_map_elem",
     .args = {A::ConstMapPtr, A::Func, A::StackOrNull, A::Anything}, .callback = CallbackKind::ForEachMapElem},

    // ---- control flow ----
    {.id = BPF_FUNC_tail_call, .name = "bpf_tail_call", .ret = R::Void,
     .args = {A::Ctx, A::ConstMapPtr, A::Anything}},
    {.id = BPF_FUNC_loop, .name = "bpf_loop", .args = {A::Anything, A::Func, A::StackOrNull, A::Anything},
     .callback = CallbackKind::Loop},
    {.id = BPF_FUNC_spin_lock, .name = "bpf_spin_lock", .ret = R::Void, .args = {A::SpinLock}},
    {.id = BPF_FUNC_spin_unlock, .name = "bpf_spin_unlock", .ret = R::Void, .args = {A::SpinLock}},

    // ---- time, cpu, random, current task ----
    {.id = BPF_FUNC_ktime_get_ns, .name = "bpf_ktime_get_ns"},
    {.id = BPF_FUNC_ktime_get_boot_ns, .name = "bpf_ktime_get_boot_ns"},
    {.id = BPF_FUNC_ktime_get_coarse_ns, .name = "bpf_ktime_get_coarse_ns"},
    {.id = BPF_FUNC_ktime_get_tai_ns, .name = "bpf_ktime_get_tai_ns"},
    {.id = BPF_FUNC_jiffies64, .name = "bpf_jiffies64"},
    {.id = BPF_FUNC_get_prandom_u32, .name = "bpf_get_prandom_u32"},
    {.id = BPF_FUNC_get_smp_processor_id, .name = "bpf_get_smp_processor_id"},
    {.id = BPF_FUNC_get_numa_node_id, .name = "bpf_get_numa_node_id"},
    {.id = BPF_FUNC_get_current_pid_tgid, .name = "bpf_get_current_pid_tgid"},
    {.id = BPF_FUNC_get_current_uid_gid, .name = "bpf_get_current_uid_gid"},
    {.id = BPF_FUNC_get_current_comm, .name = "bpf_get_current_comm", .args = {A::MemWrite, A::ConstSize}},
    {.id = BPF_FUNC_get_current_task, .name = "bpf_get_current_task", .gpl_only = true},
    {.id = BPF_FUNC_get_current_cgroup_id, .name = "bpf_get_current_cgroup_id"},
    {.id = BPF_FUNC_get_current_ancestor_cgroup_id, .name = "bpf_get_current_ancestor_cgroup_id",
     .args = {A::Anything}},
    {.id = BPF_FUNC_get_ns_current_pid_tgid, .name = "bpf_get_ns_current_pid_tgid",
     .args = {A::Anything, A::Anything, A::MemWrite, A::ConstSize}},
    {.id = BPF_FUNC_current_task_under_cgroup, .name = "bpf_current_task_under_cgroup",
     .args = {A::ConstMapPtr, A::Anything}},
    {.id = BPF_FUNC_send_signal, .name = "bpf_send_signal", .args = {A::Anything}},
    {.id = BPF_FUNC_send_signal_thread, .name = "bpf_send_signal_thread", .args = {A::Anything}},

    // ---- strings and formatting ----
    // trace_printk's three variadic values are not part of the prototype: the
    // kernel does not check r3-r5 for it.
    {.id = BPF_FUNC_trace_printk, .name = "bpf_trace_printk", .args = {A::MemRead, A::ConstSize},
     .gpl_only = true},
    {.id = BPF_FUNC_trace_vprintk, .name = "bpf_trace_vprintk",
     .args = {A::MemRead, A::ConstSize, A::MemReadOrNull, A::ConstSizeOrZero}, .gpl_only = true},
    {.id = BPF_FUNC_snprintf, .name = "bpf_snprintf",
     .args = {A::MemReadWriteOrNull, A::ConstSizeOrZero, A::ConstStr, A::MemReadOrNull, A::ConstSizeOrZero},
     .gpl_only = true},
    {.id = BPF_FUNC_strtol, .name = "bpf_strtol", .args = {A::MemRead, A::ConstSize, A::Anything, A::PtrToLong}},
    {.id = BPF_FUNC_strtoul, .name = "bpf_strtoul", .args = {A::MemRead, A::ConstSize, A::Anything, A::PtrToLong}},
    {.id = BPF_FUNC_strncmp, .name = "bpf_strncmp", .args = {A::MemRead, A::ConstSize, A::ConstStr}},

    // ---- probe_read family (kernel/trace/bpf_trace.c) ----
    {.id = BPF_FUNC_probe_read, .name = "bpf_probe_read", .args = {A::MemWrite, A::ConstSizeOrZero, A::Anything},
     .gpl_only = true},
    {.id = BPF_FUNC_probe_read_str, .name = "bpf_probe_read_str",
     .args = {A::MemWrite, A::ConstSizeOrZero, A::Anything}, .gpl_only = true},
    {.id = BPF_FUNC_probe_read_user, .name = "bpf_probe_read_user",
     .args = {A::MemWrite, A::ConstSizeOrZero, A::Anything}, .gpl_only = true},
    {.id = BPF_FUNC_probe_read_kernel, .name = "bpf_probe_read_kernel",
     .args = {A::MemWrite, A::ConstSizeOrZero, A::Anything}, .gpl_only = true},
    {.id = BPF_FUNC_probe_read_user_str, .name = "bpf_probe_read_user_str",
     .args = {A::MemWrite, A::ConstSizeOrZero, A::Anything}, .gpl_only = true},
    {.id = BPF_FUNC_probe_read_kernel_str, .name = "bpf_probe_read_kernel_str",
     .args = {A::MemWrite, A::ConstSizeOrZero, A::Anything}, .gpl_only = true},
    {.id = BPF_FUNC_copy_from_user, .name = "bpf_copy_from_user",
     .args = {A::MemWrite, A::ConstSizeOrZero, A::Anything}, .might_sleep = true},
    {.id = BPF_FUNC_probe_write_user, .name = "bpf_probe_write_user",
     .args = {A::Anything, A::MemRead, A::ConstSize}, .gpl_only = true},

    // ---- tracing context ----
    {.id = BPF_FUNC_perf_event_output, .name = "bpf_perf_event_output",
     .args = {A::Ctx, A::ConstMapPtr, A::Anything, A::MemRead, A::ConstSizeOrZero}, .gpl_only = true},
    {.id = BPF_FUNC_perf_event_read, .name = "bpf_perf_event_read", .args = {A::ConstMapPtr, A::Anything},
     .gpl_only = true},
    {.id = BPF_FUNC_perf_event_read_value, .name = "bpf_perf_event_read_value",
     .args = {A::ConstMapPtr, A::Anything, A::MemWrite, A::ConstSize}, .gpl_only = true},
    {.id = BPF_FUNC_perf_prog_read_value, .name = "bpf_perf_prog_read_value",
     .args = {A::Ctx, A::MemWrite, A::ConstSize}, .gpl_only = true},
    {.id = BPF_FUNC_read_branch_records, .name = "bpf_read_branch_records",
     .args = {A::Ctx, A::MemReadWriteOrNull, A::ConstSizeOrZero, A::Anything}, .gpl_only = true},
    {.id = BPF_FUNC_get_stackid, .name = "bpf_get_stackid", .args = {A::Ctx, A::ConstMapPtr, A::Anything},
     .gpl_only = true},
    {.id = BPF_FUNC_get_stack, .name = "bpf_get_stack",
     .args = {A::Ctx, A::MemWrite, A::ConstSizeOrZero, A::Anything}, .gpl_only = true},
    {.id = BPF_FUNC_get_branch_snapshot, .name = "bpf_get_branch_snapshot",
     .args = {A::MemWrite, A::ConstSizeOrZero}, .gpl_only = true},
    {.id = BPF_FUNC_get_func_ip, .name = "bpf_get_func_ip", .args = {A::Ctx}, .gpl_only = true},
    {.id = BPF_FUNC_get_attach_cookie, .name = "bpf_get_attach_cookie", .args = {A::Ctx}},
    {.id = BPF_FUNC_get_func_arg, .name = "bpf_get_func_arg", .args = {A::Ctx, A::Anything, A::PtrToLong}},
    {.id = BPF_FUNC_get_func_ret, .name = "bpf_get_func_ret", .args = {A::Ctx, A::PtrToLong}},
    {.id = BPF_FUNC_get_func_arg_cnt, .name = "bpf_get_func_arg_cnt", .args = {A::Ctx}},

    // ---- ring buffer (kernel/bpf/ringbuf.c) ----
    {.id = BPF_FUNC_ringbuf_output, .name = "bpf_ringbuf_output",
     .args = {A::ConstMapPtr, A::MemRead, A::ConstSizeOrZero, A::Anything}},
    {.id = BPF_FUNC_ringbuf_reserve, .name = "bpf_ringbuf_reserve", .ret = R::RingbufMemOrNull,
     .args = {A::ConstMapPtr, A::ConstAllocSize, A::Anything}},
    {.id = BPF_FUNC_ringbuf_submit, .name = "bpf_ringbuf_submit", .ret = R::Void,
     .args = {A::RingbufMem, A::Anything}},
    {.id = BPF_FUNC_ringbuf_discard, .name = "bpf_ringbuf_discard", .ret = R::Void,
     .args = {A::RingbufMem, A::Anything}},
    {.id = BPF_FUNC_ringbuf_query, .name = "bpf_ringbuf_query", .args = {A::ConstMapPtr, A::Anything}},

    // ---- packets: __sk_buff (net/core/filter.c) ----
    {.id = BPF_FUNC_skb_store_bytes, .name = "bpf_skb_store_bytes",
     .args = {A::Ctx, A::Anything, A::MemRead, A::ConstSize, A::Anything}, .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_load_bytes, .name = "bpf_skb_load_bytes",
     .args = {A::Ctx, A::Anything, A::MemWrite, A::ConstSize}},
    {.id = BPF_FUNC_skb_load_bytes_relative, .name = "bpf_skb_load_bytes_relative",
     .args = {A::Ctx, A::Anything, A::MemWrite, A::ConstSize, A::Anything}},
    {.id = BPF_FUNC_l3_csum_replace, .name = "bpf_l3_csum_replace",
     .args = {A::Ctx, A::Anything, A::Anything, A::Anything, A::Anything}, .changes_pkt_data = true},
    {.id = BPF_FUNC_l4_csum_replace, .name = "bpf_l4_csum_replace",
     .args = {A::Ctx, A::Anything, A::Anything, A::Anything, A::Anything}, .changes_pkt_data = true},
    {.id = BPF_FUNC_csum_diff, .name = "bpf_csum_diff",
     .args = {A::MemReadOrNull, A::ConstSizeOrZero, A::MemReadOrNull, A::ConstSizeOrZero, A::Anything}},
    {.id = BPF_FUNC_csum_update, .name = "bpf_csum_update", .args = {A::Ctx, A::Anything}},
    {.id = BPF_FUNC_csum_level, .name = "bpf_csum_level", .args = {A::Ctx, A::Anything}},
    {.id = BPF_FUNC_skb_pull_data, .name = "bpf_skb_pull_data", .args = {A::Ctx, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_change_tail, .name = "bpf_skb_change_tail", .args = {A::Ctx, A::Anything, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_change_head, .name = "bpf_skb_change_head", .args = {A::Ctx, A::Anything, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_change_proto, .name = "bpf_skb_change_proto",
     .args = {A::Ctx, A::Anything, A::Anything}, .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_change_type, .name = "bpf_skb_change_type", .args = {A::Ctx, A::Anything}},
    {.id = BPF_FUNC_skb_adjust_room, .name = "bpf_skb_adjust_room",
     .args = {A::Ctx, A::Anything, A::Anything, A::Anything}, .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_vlan_push, .name = "bpf_skb_vlan_push", .args = {A::Ctx, A::Anything, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_vlan_pop, .name = "bpf_skb_vlan_pop", .args = {A::Ctx}, .changes_pkt_data = true},
    {.id = BPF_FUNC_skb_get_tunnel_key, .name = "bpf_skb_get_tunnel_key",
     .args = {A::Ctx, A::MemWrite, A::ConstSize, A::Anything}},
    {.id = BPF_FUNC_skb_set_tunnel_key, .name = "bpf_skb_set_tunnel_key",
     .args = {A::Ctx, A::MemRead, A::ConstSize, A::Anything}},
    {.id = BPF_FUNC_skb_get_tunnel_opt, .name = "bpf_skb_get_tunnel_opt",
     .args = {A::Ctx, A::MemWrite, A::ConstSize}},
    {.id = BPF_FUNC_skb_set_tunnel_opt, .name = "bpf_skb_set_tunnel_opt",
     .args = {A::Ctx, A::MemRead, A::ConstSize}},
    {.id = BPF_FUNC_skb_get_xfrm_state, .name = "bpf_skb_get_xfrm_state",
     .args = {A::Ctx, A::Anything, A::MemWrite, A::ConstSize, A::Anything}},
    {.id = BPF_FUNC_skb_under_cgroup, .name = "bpf_skb_under_cgroup",
     .args = {A::Ctx, A::ConstMapPtr, A::Anything}},
    {.id = BPF_FUNC_skb_cgroup_id, .name = "bpf_skb_cgroup_id", .args = {A::Ctx}},
    {.id = BPF_FUNC_skb_ancestor_cgroup_id, .name = "bpf_skb_ancestor_cgroup_id", .args = {A::Ctx, A::Anything}},
    {.id = BPF_FUNC_skb_cgroup_classid, .name = "bpf_skb_cgroup_classid", .args = {A::Ctx}},
    {.id = BPF_FUNC_skb_ecn_set_ce, .name = "bpf_skb_ecn_set_ce", .args = {A::Ctx}},
    {.id = BPF_FUNC_skb_set_tstamp, .name = "bpf_skb_set_tstamp", .args = {A::Ctx, A::Anything, A::Anything}},
    {.id = BPF_FUNC_get_cgroup_classid, .name = "bpf_get_cgroup_classid", .args = {A::Ctx}},
    {.id = BPF_FUNC_get_route_realm, .name = "bpf_get_route_realm", .args = {A::Ctx}},
    {.id = BPF_FUNC_get_hash_recalc, .name = "bpf_get_hash_recalc", .args = {A::Ctx}},
    {.id = BPF_FUNC_set_hash_invalid, .name = "bpf_set_hash_invalid", .args = {A::Ctx}},
    {.id = BPF_FUNC_set_hash, .name = "bpf_set_hash", .args = {A::Ctx, A::Anything}},
    {.id = BPF_FUNC_get_socket_cookie, .name = "bpf_get_socket_cookie", .args = {A::Ctx}},
    {.id = BPF_FUNC_get_socket_uid, .name = "bpf_get_socket_uid", .args = {A::Ctx}},
    {.id = BPF_FUNC_clone_redirect, .name = "bpf_clone_redirect", .args = {A::Ctx, A::Anything, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_redirect, .name = "bpf_redirect", .args = {A::Anything, A::Anything}},
    {.id = BPF_FUNC_redirect_neigh, .name = "bpf_redirect_neigh",
     .args = {A::Anything, A::MemReadOrNull, A::ConstSizeOrZero, A::Anything}},
    {.id = BPF_FUNC_redirect_peer, .name = "bpf_redirect_peer", .args = {A::Anything, A::Anything}},
    {.id = BPF_FUNC_fib_lookup, .name = "bpf_fib_lookup",
     .args = {A::Ctx, A::MemReadWrite, A::ConstSize, A::Anything}, .gpl_only = true},

    // ---- packets: xdp_md ----
    {.id = BPF_FUNC_xdp_adjust_head, .name = "bpf_xdp_adjust_head", .args = {A::Ctx, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_xdp_adjust_meta, .name = "bpf_xdp_adjust_meta", .args = {A::Ctx, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_xdp_adjust_tail, .name = "bpf_xdp_adjust_tail", .args = {A::Ctx, A::Anything},
     .changes_pkt_data = true},
    {.id = BPF_FUNC_xdp_get_buff_len, .name = "bpf_xdp_get_buff_len", .args = {A::Ctx}},
    {.id = BPF_FUNC_xdp_load_bytes, .name = "bpf_xdp_load_bytes",
     .args = {A::Ctx, A::Anything, A::MemWrite, A::ConstSize}},
    // Read-only source since the 2024 MEM_UNINIT / MEM_WRITE split (it was
    // ARG_PTR_TO_UNINIT_MEM before).
    {.id = BPF_FUNC_xdp_store_bytes, .name = "bpf_xdp_store_bytes",
     .args = {A::Ctx, A::Anything, A::MemRead, A::ConstSize}},
    {.id = BPF_FUNC_redirect_map, .name = "bpf_redirect_map", .args = {A::ConstMapPtr, A::Anything, A::Anything}},
};

// Sorted by id once, for find_helper_proto's binary search.
struct Index {
  std::array<const HelperProto*, std::size(kProtos)> by_id{};
  Index() {
    for (size_t i = 0; i < std::size(kProtos); ++i) by_id[i] = &kProtos[i];
    std::sort(by_id.begin(), by_id.end(), [](const HelperProto* a, const HelperProto* b) { return a->id < b->id; });
  }
};

const Index& index() {
  static const Index idx;
  return idx;
}

}  // namespace

const HelperProto* find_helper_proto(int32_t id) {
  const auto& v = index().by_id;
  auto it = std::lower_bound(v.begin(), v.end(), id, [](const HelperProto* p, int32_t x) { return p->id < x; });
  return it != v.end() && (*it)->id == id ? *it : nullptr;
}

const HelperProto* all_helper_protos(size_t* count) {
  if (count) *count = std::size(kProtos);
  return kProtos;
}

namespace {

// ---- which program types may call what: the kernel's get_func_proto chains ----
// Each function answers for the ids it lists and otherwise defers to the chain
// the kernel falls back to.  Only ids with a prototype above matter.

// bpf_base_func_proto (kernel/bpf/helpers.c).  Its second and third tiers need
// CAP_BPF and CAP_PERFMON; the loader is privileged, so all three count.
bool base_func(int32_t id) {
  switch (id) {
    // Everyone.
    case BPF_FUNC_map_lookup_elem: case BPF_FUNC_map_update_elem: case BPF_FUNC_map_delete_elem:
    case BPF_FUNC_map_push_elem: case BPF_FUNC_map_pop_elem: case BPF_FUNC_map_peek_elem:
    case BPF_FUNC_map_lookup_percpu_elem: case BPF_FUNC_get_prandom_u32: case BPF_FUNC_get_smp_processor_id:
    case BPF_FUNC_get_numa_node_id: case BPF_FUNC_tail_call: case BPF_FUNC_ktime_get_ns:
    case BPF_FUNC_ktime_get_boot_ns: case BPF_FUNC_ktime_get_tai_ns: case BPF_FUNC_ringbuf_output:
    case BPF_FUNC_ringbuf_reserve: case BPF_FUNC_ringbuf_submit: case BPF_FUNC_ringbuf_discard:
    case BPF_FUNC_ringbuf_query: case BPF_FUNC_strncmp: case BPF_FUNC_strtol: case BPF_FUNC_strtoul:
    case BPF_FUNC_get_current_pid_tgid: case BPF_FUNC_get_ns_current_pid_tgid:
    // CAP_BPF.
    case BPF_FUNC_spin_lock: case BPF_FUNC_spin_unlock: case BPF_FUNC_jiffies64:
    case BPF_FUNC_for_each_map_elem: case BPF_FUNC_loop: case BPF_FUNC_get_current_cgroup_id:
    case BPF_FUNC_get_current_ancestor_cgroup_id:
    // CAP_PERFMON.
    case BPF_FUNC_trace_printk: case BPF_FUNC_get_current_task: case BPF_FUNC_probe_read_user:
    case BPF_FUNC_probe_read_kernel: case BPF_FUNC_probe_read_user_str: case BPF_FUNC_probe_read_kernel_str:
    case BPF_FUNC_snprintf: case BPF_FUNC_trace_vprintk:
    // Tracing helpers that work in any context, moved here from
    // bpf_tracing_func_proto by 6.18 (get_cgroup_classid in its current-task
    // form, see find_helper_proto).
    case BPF_FUNC_get_current_uid_gid: case BPF_FUNC_get_current_comm: case BPF_FUNC_current_task_under_cgroup:
    case BPF_FUNC_send_signal: case BPF_FUNC_send_signal_thread: case BPF_FUNC_copy_from_user:
    case BPF_FUNC_perf_event_read: case BPF_FUNC_perf_event_read_value: case BPF_FUNC_get_branch_snapshot:
    case BPF_FUNC_get_cgroup_classid:
      return true;
    default:
      return false;
  }
}

// bpf_sk_base_func_proto (net/core/filter.c): the base set plus the coarse clock
// (and skc_to_* casts, which take BTF pointers and have no prototype here).
bool sk_base_func(int32_t id) { return id == BPF_FUNC_ktime_get_coarse_ns || base_func(id); }

// sk_filter_func_proto: BPF_PROG_TYPE_SOCKET_FILTER.
bool sk_filter_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_skb_load_bytes: case BPF_FUNC_skb_load_bytes_relative: case BPF_FUNC_get_socket_cookie:
    case BPF_FUNC_get_socket_uid: case BPF_FUNC_perf_event_output:
      return true;
    default:
      return sk_base_func(id);
  }
}

// tc_cls_act_func_proto: BPF_PROG_TYPE_SCHED_CLS and SCHED_ACT.
bool tc_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_skb_store_bytes: case BPF_FUNC_skb_load_bytes: case BPF_FUNC_skb_load_bytes_relative:
    case BPF_FUNC_skb_pull_data: case BPF_FUNC_csum_diff: case BPF_FUNC_csum_update: case BPF_FUNC_csum_level:
    case BPF_FUNC_l3_csum_replace: case BPF_FUNC_l4_csum_replace: case BPF_FUNC_clone_redirect:
    case BPF_FUNC_get_cgroup_classid: case BPF_FUNC_skb_vlan_push: case BPF_FUNC_skb_vlan_pop:
    case BPF_FUNC_skb_change_proto: case BPF_FUNC_skb_change_type: case BPF_FUNC_skb_adjust_room:
    case BPF_FUNC_skb_change_tail: case BPF_FUNC_skb_change_head: case BPF_FUNC_skb_get_tunnel_key:
    case BPF_FUNC_skb_set_tunnel_key: case BPF_FUNC_skb_get_tunnel_opt: case BPF_FUNC_skb_set_tunnel_opt:
    case BPF_FUNC_redirect: case BPF_FUNC_redirect_neigh: case BPF_FUNC_redirect_peer:
    case BPF_FUNC_get_route_realm: case BPF_FUNC_get_hash_recalc: case BPF_FUNC_set_hash_invalid:
    case BPF_FUNC_set_hash: case BPF_FUNC_perf_event_output: case BPF_FUNC_get_smp_processor_id:
    case BPF_FUNC_skb_under_cgroup: case BPF_FUNC_get_socket_cookie: case BPF_FUNC_get_socket_uid:
    case BPF_FUNC_fib_lookup: case BPF_FUNC_skb_get_xfrm_state: case BPF_FUNC_skb_cgroup_classid:
    case BPF_FUNC_skb_cgroup_id: case BPF_FUNC_skb_ancestor_cgroup_id: case BPF_FUNC_skb_ecn_set_ce:
    case BPF_FUNC_skb_set_tstamp:
      return true;
    default:
      return sk_base_func(id);
  }
}

// xdp_func_proto: BPF_PROG_TYPE_XDP.
bool xdp_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_perf_event_output: case BPF_FUNC_get_smp_processor_id: case BPF_FUNC_csum_diff:
    case BPF_FUNC_xdp_adjust_head: case BPF_FUNC_xdp_adjust_meta: case BPF_FUNC_redirect:
    case BPF_FUNC_redirect_map: case BPF_FUNC_xdp_adjust_tail: case BPF_FUNC_xdp_get_buff_len:
    case BPF_FUNC_xdp_load_bytes: case BPF_FUNC_xdp_store_bytes: case BPF_FUNC_fib_lookup:
      return true;
    default:
      return sk_base_func(id);
  }
}

// bpf_tracing_func_proto (kernel/trace/bpf_trace.c): what every tracing type
// shares beyond the base set.  probe_write_user also needs an unlocked kernel
// (lockdown=integrity refuses it); userbpf has no lockdown.  get_func_ip is
// offered here too, but the verifier then refuses it outside kprobe and tracing
// programs (check_get_func_ip), so it is listed with those two only.
bool tracing_common_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_probe_write_user: case BPF_FUNC_probe_read: case BPF_FUNC_probe_read_str:
      return true;
    default:
      return base_func(id);
  }
}

// kprobe_prog_func_proto: BPF_PROG_TYPE_KPROBE.
bool kprobe_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_perf_event_output: case BPF_FUNC_get_stackid: case BPF_FUNC_get_stack:
    case BPF_FUNC_get_func_ip: case BPF_FUNC_get_attach_cookie:
      return true;
    default:
      return tracing_common_func(id);
  }
}

// tp_prog_func_proto: BPF_PROG_TYPE_TRACEPOINT.
bool tp_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_perf_event_output: case BPF_FUNC_get_stackid: case BPF_FUNC_get_stack:
    case BPF_FUNC_get_attach_cookie:
      return true;
    default:
      return tracing_common_func(id);
  }
}

// pe_prog_func_proto: BPF_PROG_TYPE_PERF_EVENT.
bool pe_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_perf_event_output: case BPF_FUNC_get_stackid: case BPF_FUNC_get_stack:
    case BPF_FUNC_perf_prog_read_value: case BPF_FUNC_read_branch_records: case BPF_FUNC_get_attach_cookie:
      return true;
    default:
      return tracing_common_func(id);
  }
}

// raw_tp_prog_func_proto: BPF_PROG_TYPE_RAW_TRACEPOINT (and _WRITABLE) offers
// the same set as tracepoints on 6.18.
bool raw_tp_func(int32_t id) { return tp_func(id); }

// tracing_prog_func_proto: BPF_PROG_TYPE_TRACING.  The func_arg family and the
// attach cookie need a trampoline (fentry / fexit / fmod_ret); this table
// assumes one.  get_socket_cookie and xdp_get_buff_len exist here only with a
// BTF pointer argument, which the prototypes above do not describe, so they
// count as unavailable.
bool tracing_func(int32_t id) {
  switch (id) {
    case BPF_FUNC_get_func_arg: case BPF_FUNC_get_func_ret: case BPF_FUNC_get_func_arg_cnt:
    case BPF_FUNC_get_attach_cookie: case BPF_FUNC_get_func_ip:
      return true;
    default:
      return raw_tp_func(id);
  }
}

struct ProgTypeInfo {
  uint32_t type;
  const char* name;
  bool (*allowed)(int32_t id);
};

constexpr ProgTypeInfo kProgTypes[] = {
    {BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter", sk_filter_func},
    {BPF_PROG_TYPE_KPROBE, "kprobe", kprobe_func},
    {BPF_PROG_TYPE_SCHED_CLS, "sched_cls", tc_func},
    {BPF_PROG_TYPE_SCHED_ACT, "sched_act", tc_func},
    {BPF_PROG_TYPE_TRACEPOINT, "tracepoint", tp_func},
    {BPF_PROG_TYPE_XDP, "xdp", xdp_func},
    {BPF_PROG_TYPE_PERF_EVENT, "perf_event", pe_func},
    {BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tracepoint", raw_tp_func},
    {BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, "raw_tracepoint_writable", raw_tp_func},
    {BPF_PROG_TYPE_TRACING, "tracing", tracing_func},
};

const ProgTypeInfo* prog_type_info(uint32_t prog_type) {
  for (const auto& t : kProgTypes)
    if (t.type == prog_type) return &t;
  return nullptr;
}

std::string helper_label(int32_t id) {
  std::string name = helpers::helper_name(id);
  return (name.empty() ? std::string("helper") : name) + "#" + std::to_string(id);
}

}  // namespace

// Variants whose kinds or flags differ from the main entry for some program types.
// Outside tc, bpf_get_cgroup_classid reads the current task's classid and takes
// no arguments (bpf_get_cgroup_classid_curr_proto).
constexpr HelperProto kCgroupClassidCurrent = {.id = BPF_FUNC_get_cgroup_classid,
                                               .name = "bpf_get_cgroup_classid"};
// perf_event programs get a bpf_get_stackid that is not GPL-only (bpf_get_stackid_proto_pe).
constexpr HelperProto kGetStackidPerfEvent = {.id = BPF_FUNC_get_stackid, .name = "bpf_get_stackid",
                                              .args = {A::Ctx, A::ConstMapPtr, A::Anything}};

const HelperProto* find_helper_proto(int32_t id, uint32_t prog_type) {
  if (!helper_allowed(id, prog_type)) return nullptr;
  const bool tc = prog_type == BPF_PROG_TYPE_SCHED_CLS || prog_type == BPF_PROG_TYPE_SCHED_ACT;
  if (id == BPF_FUNC_get_cgroup_classid && !tc) return &kCgroupClassidCurrent;
  if (id == BPF_FUNC_get_stackid && prog_type == BPF_PROG_TYPE_PERF_EVENT) return &kGetStackidPerfEvent;
  return find_helper_proto(id);
}

bool helper_allowed(int32_t id, uint32_t prog_type) {
  if (!find_helper_proto(id)) return false;
  const ProgTypeInfo* t = prog_type_info(prog_type);
  return t ? t->allowed(id) : base_func(id);
}

std::string helper_disallowed_reason(int32_t id, uint32_t prog_type) {
  if (helper_allowed(id, prog_type)) return "";
  if (helpers::helper_name(id).empty()) return "unknown helper #" + std::to_string(id);
  const std::string label = helper_label(id);
  if (!find_helper_proto(id))
    return label + " has no prototype in userbpf's verifier (its arguments need BTF types, kptrs or dynptrs)";
  const ProgTypeInfo* t = prog_type_info(prog_type);
  std::string msg = "program of type " + (t ? std::string(t->name) : std::to_string(prog_type)) +
                    " cannot use helper " + label;
  std::string users;
  for (const auto& other : kProgTypes) {
    if (!other.allowed(id)) continue;
    users += users.empty() ? "" : ", ";
    users += other.name;
  }
  if (!users.empty()) msg += " (available to " + users + ")";
  return msg;
}

}  // namespace userbpf::verifier
