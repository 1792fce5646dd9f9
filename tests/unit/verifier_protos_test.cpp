// The verifier's helper prototype table: internally consistent (every size
// argument follows a memory argument, map arguments follow their map, ...), named
// as the kernel names the helpers, covering every helper userbpf implements, and
// the per-program-type availability matching the kernel's func_proto chains on
// the cases that tell them apart.  tests/kernel/verifier_protos_kernel_test.cpp
// checks the same tables against the running kernel.
#include <gtest/gtest.h>

#include <linux/bpf.h>

#include <set>
#include <string>

#include "userbpf/helpers.h"
#include "userbpf/vm.h"
#include "verifier/helper_protos.h"

namespace userbpf::verifier {
namespace {

std::span<const HelperProto> table() {
  size_t n = 0;
  const HelperProto* p = all_helper_protos(&n);
  return {p, n};
}

int arg_count(const HelperProto& p) {
  int n = 0;
  while (n < 5 && p.args[n] != ArgKind::None) ++n;
  return n;
}

bool has_arg(const HelperProto& p, ArgKind k) {
  for (ArgKind a : p.args)
    if (a == k) return true;
  return false;
}

TEST(HelperProtos, IdsUniqueNamedAndFindable) {
  ASSERT_GT(table().size(), 100u);
  std::set<int32_t> ids;
  for (const HelperProto& p : table()) {
    SCOPED_TRACE(p.name);
    EXPECT_GT(p.id, 0);
    EXPECT_LT(p.id, __BPF_FUNC_MAX_ID);
    EXPECT_TRUE(ids.insert(p.id).second) << "duplicate id " << p.id;
    const std::string kernel_name = helpers::helper_name(p.id);
    if (!kernel_name.empty()) {
      EXPECT_EQ(p.name, kernel_name);
    }
    EXPECT_EQ(find_helper_proto(p.id), &p);
  }
  EXPECT_EQ(find_helper_proto(0), nullptr);
  EXPECT_EQ(find_helper_proto(-1), nullptr);
  EXPECT_EQ(find_helper_proto(__BPF_FUNC_MAX_ID), nullptr);
  EXPECT_EQ(find_helper_proto(BPF_FUNC_sk_lookup_tcp), nullptr);  // returns a socket: not describable
  EXPECT_EQ(find_helper_proto(BPF_FUNC_timer_init), nullptr);     // struct bpf_timer: BTF
  size_t n = 0;
  EXPECT_EQ(all_helper_protos(&n), table().data());
  EXPECT_EQ(all_helper_protos(nullptr), table().data());
}

TEST(HelperProtos, ArgumentsAreWellFormed) {
  for (const HelperProto& p : table()) {
    SCOPED_TRACE(p.name);
    const int n = arg_count(p);
    for (int i = n; i < 5; ++i) {
      EXPECT_EQ(p.args[i], ArgKind::None) << "argument after a gap, arg" << i + 1;
    }
    for (int i = 0; i < n; ++i) {
      const ArgKind k = p.args[i];
      const ArgKind prev = i > 0 ? p.args[i - 1] : ArgKind::None;
      const ArgKind next = i + 1 < 5 ? p.args[i + 1] : ArgKind::None;
      if (k == ArgKind::ConstSize || k == ArgKind::ConstSizeOrZero) {
        EXPECT_TRUE(is_sized_mem_arg(prev)) << "size arg" << i + 1 << " follows no memory argument";
      }
      if (is_sized_mem_arg(k)) {
        EXPECT_TRUE(next == ArgKind::ConstSize || next == ArgKind::ConstSizeOrZero)
            << "memory arg" << i + 1 << " has no size after it";
      }
      // NULL is only useful with a zero size.
      if (k == ArgKind::MemReadOrNull || k == ArgKind::MemReadWriteOrNull) {
        EXPECT_EQ(next, ArgKind::ConstSizeOrZero) << "arg" << i + 1;
      }
      // Keys, values and allocation sizes belong to the map passed before them.
      if (k == ArgKind::MapKey || k == ArgKind::MapValue || k == ArgKind::MapValueWrite ||
          k == ArgKind::ConstAllocSize) {
        EXPECT_EQ(p.args[0], ArgKind::ConstMapPtr) << "arg" << i + 1;
      }
      if (k == ArgKind::ConstMapPtr) {
        EXPECT_LE(i, 1) << "the kernel's map argument is r1 or r2";
      }
      if (k == ArgKind::StackOrNull) {
        EXPECT_EQ(prev, ArgKind::Func) << "callback context without callback";
      }
      if (k == ArgKind::Ctx) {
        EXPECT_EQ(i, 0) << "ctx is always r1";
      }
      if (k == ArgKind::RingbufMem || k == ArgKind::SpinLock) {
        EXPECT_EQ(i, 0);
      }
    }
    EXPECT_EQ(has_arg(p, ArgKind::Func), p.callback != CallbackKind::None);
    EXPECT_EQ(has_arg(p, ArgKind::ConstAllocSize), p.ret == RetKind::RingbufMemOrNull);
    if (p.ret == RetKind::MapValueOrNull) {
      EXPECT_EQ(p.args[0], ArgKind::ConstMapPtr);
    }
    if (has_arg(p, ArgKind::RingbufMem)) {
      EXPECT_EQ(p.ret, RetKind::Void);
    }
    // The kernel's verifier insists on this (bpf_helper_changes_pkt_data users
    // must take the context first: some JITs reload skb from r1).
    if (p.changes_pkt_data) {
      EXPECT_EQ(p.args[0], ArgKind::Ctx);
    }
  }
}

TEST(HelperProtos, KindHelpersAgree) {
  for (ArgKind k : {ArgKind::MemRead, ArgKind::MemReadOrNull, ArgKind::MemWrite, ArgKind::MemReadWrite,
                    ArgKind::MemReadWriteOrNull})
    EXPECT_TRUE(is_sized_mem_arg(k));
  for (ArgKind k : {ArgKind::None, ArgKind::Anything, ArgKind::MapKey, ArgKind::MapValue, ArgKind::MapValueWrite,
                    ArgKind::PtrToLong, ArgKind::ConstStr, ArgKind::Ctx})
    EXPECT_FALSE(is_sized_mem_arg(k));
  EXPECT_TRUE(arg_accepts_null(ArgKind::MemReadOrNull));
  EXPECT_TRUE(arg_accepts_null(ArgKind::StackOrNull));
  EXPECT_FALSE(arg_accepts_null(ArgKind::MemRead));
  EXPECT_TRUE(arg_is_written(ArgKind::MapValueWrite));
  EXPECT_TRUE(arg_is_written(ArgKind::PtrToLong));
  EXPECT_FALSE(arg_is_written(ArgKind::MemRead));
  EXPECT_FALSE(arg_is_written(ArgKind::MapValue));
}

// Spot checks of prototypes whose details matter to the verifier.
TEST(HelperProtos, KernelPrototypes) {
  auto proto = [](int32_t id) {
    const HelperProto* p = find_helper_proto(id);
    EXPECT_NE(p, nullptr) << id;
    return p ? *p : HelperProto{};
  };
  const HelperProto lookup = proto(BPF_FUNC_map_lookup_elem);
  EXPECT_EQ(lookup.ret, RetKind::MapValueOrNull);
  EXPECT_EQ(lookup.args[1], ArgKind::MapKey);
  EXPECT_EQ(proto(BPF_FUNC_map_pop_elem).args[1], ArgKind::MapValueWrite);
  EXPECT_EQ(proto(BPF_FUNC_map_peek_elem).args[2], ArgKind::None);
  EXPECT_EQ(proto(BPF_FUNC_tail_call).ret, RetKind::Void);
  EXPECT_EQ(proto(BPF_FUNC_ringbuf_reserve).args[1], ArgKind::ConstAllocSize);
  EXPECT_EQ(proto(BPF_FUNC_ringbuf_submit).args[0], ArgKind::RingbufMem);
  EXPECT_EQ(proto(BPF_FUNC_loop).callback, CallbackKind::Loop);
  EXPECT_EQ(proto(BPF_FUNC_for_each_map_elem).callback, CallbackKind::ForEachMapElem);
  EXPECT_EQ(proto(BPF_FUNC_strncmp).args[2], ArgKind::ConstStr);
  EXPECT_EQ(proto(BPF_FUNC_strtol).args[3], ArgKind::PtrToLong);
  EXPECT_EQ(proto(BPF_FUNC_skb_load_bytes).args[2], ArgKind::MemWrite);
  EXPECT_EQ(proto(BPF_FUNC_skb_store_bytes).args[2], ArgKind::MemRead);
  EXPECT_EQ(proto(BPF_FUNC_probe_read_kernel).args[1], ArgKind::ConstSizeOrZero);
  EXPECT_EQ(proto(BPF_FUNC_snprintf).args[0], ArgKind::MemReadWriteOrNull);
  EXPECT_EQ(proto(BPF_FUNC_csum_diff).args[0], ArgKind::MemReadOrNull);
  EXPECT_TRUE(proto(BPF_FUNC_trace_printk).gpl_only);
  EXPECT_TRUE(proto(BPF_FUNC_perf_event_output).gpl_only);
  EXPECT_TRUE(proto(BPF_FUNC_probe_read_user).gpl_only);
  EXPECT_FALSE(proto(BPF_FUNC_map_lookup_elem).gpl_only);
  EXPECT_FALSE(proto(BPF_FUNC_ringbuf_output).gpl_only);
  EXPECT_TRUE(proto(BPF_FUNC_copy_from_user).might_sleep);
  for (int32_t id : {BPF_FUNC_xdp_adjust_head, BPF_FUNC_xdp_adjust_meta, BPF_FUNC_xdp_adjust_tail,
                     BPF_FUNC_skb_pull_data, BPF_FUNC_skb_change_tail, BPF_FUNC_skb_change_head,
                     BPF_FUNC_skb_store_bytes, BPF_FUNC_l3_csum_replace, BPF_FUNC_l4_csum_replace,
                     BPF_FUNC_skb_vlan_push, BPF_FUNC_skb_vlan_pop, BPF_FUNC_skb_adjust_room,
                     BPF_FUNC_clone_redirect, BPF_FUNC_skb_change_proto})
    EXPECT_TRUE(proto(id).changes_pkt_data) << helpers::helper_name(id);
  for (int32_t id : {BPF_FUNC_set_hash, BPF_FUNC_csum_update, BPF_FUNC_csum_level, BPF_FUNC_skb_load_bytes,
                     BPF_FUNC_redirect, BPF_FUNC_xdp_load_bytes, BPF_FUNC_xdp_store_bytes, BPF_FUNC_skb_change_type})
    EXPECT_FALSE(proto(id).changes_pkt_data) << helpers::helper_name(id);
}

// Every helper the runtime registers can be checked by the verifier.
TEST(HelperProtos, CoverEveryImplementedHelper) {
  vm::HelperRegistry reg;
  helpers::register_standard_helpers(reg);
  helpers::register_packet_helpers(reg);
  ASSERT_FALSE(reg.all().empty());
  for (const vm::HelperInfo& h : reg.all()) {
    EXPECT_NE(find_helper_proto(h.id), nullptr) << h.name << "#" << h.id;
  }
}

TEST(HelperAllowed, FollowsTheKernelChains) {
  // Packet helpers belong to their hooks.
  EXPECT_TRUE(helper_allowed(BPF_FUNC_xdp_adjust_head, BPF_PROG_TYPE_XDP));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_xdp_adjust_head, BPF_PROG_TYPE_SOCKET_FILTER));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_xdp_adjust_head, BPF_PROG_TYPE_SCHED_CLS));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_skb_store_bytes, BPF_PROG_TYPE_SCHED_CLS));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_skb_store_bytes, BPF_PROG_TYPE_SCHED_ACT));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_skb_store_bytes, BPF_PROG_TYPE_SOCKET_FILTER));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_skb_store_bytes, BPF_PROG_TYPE_XDP));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_skb_load_bytes, BPF_PROG_TYPE_SOCKET_FILTER));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_csum_diff, BPF_PROG_TYPE_XDP));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_csum_diff, BPF_PROG_TYPE_SOCKET_FILTER));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_redirect_map, BPF_PROG_TYPE_XDP));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_redirect_map, BPF_PROG_TYPE_SCHED_CLS));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_perf_event_output, BPF_PROG_TYPE_SOCKET_FILTER));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_skb_load_bytes, BPF_PROG_TYPE_KPROBE));
  // The base set reaches every type; a privileged loader gets its CAP_BPF and CAP_PERFMON tiers.
  const uint32_t all_types[] = {BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_KPROBE,     BPF_PROG_TYPE_SCHED_CLS,
                                BPF_PROG_TYPE_XDP,           BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_PERF_EVENT,
                                BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_TRACING,   9999u};
  for (uint32_t t : all_types) {
    for (int32_t id : {BPF_FUNC_map_lookup_elem, BPF_FUNC_ringbuf_output, BPF_FUNC_loop, BPF_FUNC_trace_printk,
                       BPF_FUNC_get_current_pid_tgid, BPF_FUNC_probe_read_kernel, BPF_FUNC_ktime_get_ns})
      EXPECT_TRUE(helper_allowed(id, t)) << helpers::helper_name(id) << " prog type " << t;
  }
  // Tracing-only helpers.
  EXPECT_TRUE(helper_allowed(BPF_FUNC_get_stackid, BPF_PROG_TYPE_KPROBE));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_get_stackid, BPF_PROG_TYPE_XDP));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_probe_read, BPF_PROG_TYPE_TRACEPOINT));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_probe_read, BPF_PROG_TYPE_SOCKET_FILTER));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_perf_prog_read_value, BPF_PROG_TYPE_PERF_EVENT));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_perf_prog_read_value, BPF_PROG_TYPE_KPROBE));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_get_func_arg, BPF_PROG_TYPE_TRACING));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_get_func_arg, BPF_PROG_TYPE_KPROBE));
  // 6.18 offers the context-free tracing helpers to every program type.
  for (int32_t id : {BPF_FUNC_get_current_comm, BPF_FUNC_get_current_uid_gid, BPF_FUNC_send_signal,
                     BPF_FUNC_perf_event_read, BPF_FUNC_get_cgroup_classid}) {
    EXPECT_TRUE(helper_allowed(id, BPF_PROG_TYPE_XDP)) << helpers::helper_name(id);
    EXPECT_TRUE(helper_allowed(id, BPF_PROG_TYPE_SOCKET_FILTER)) << helpers::helper_name(id);
  }
  // get_func_ip: kprobe and tracing only (the verifier refuses it in other tracing types).
  EXPECT_TRUE(helper_allowed(BPF_FUNC_get_func_ip, BPF_PROG_TYPE_KPROBE));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_get_func_ip, BPF_PROG_TYPE_TRACEPOINT));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_get_attach_cookie, BPF_PROG_TYPE_RAW_TRACEPOINT));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_get_attach_cookie, BPF_PROG_TYPE_XDP));
  // Unknown program types get the base set only.
  EXPECT_FALSE(helper_allowed(BPF_FUNC_skb_load_bytes, 9999));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_probe_read, 9999));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_get_stack, 9999));
  EXPECT_TRUE(helper_allowed(BPF_FUNC_get_current_comm, 9999));
  // No prototype, no call.
  EXPECT_FALSE(helper_allowed(0, BPF_PROG_TYPE_XDP));
  EXPECT_FALSE(helper_allowed(BPF_FUNC_sk_lookup_tcp, BPF_PROG_TYPE_XDP));
  EXPECT_FALSE(helper_allowed(100000, BPF_PROG_TYPE_XDP));
}

TEST(HelperAllowed, PerProgramTypeVariants) {
  // tc reads the classid of the skb's socket, everyone else that of the current task.
  const HelperProto* tc = find_helper_proto(BPF_FUNC_get_cgroup_classid, BPF_PROG_TYPE_SCHED_CLS);
  const HelperProto* xdp = find_helper_proto(BPF_FUNC_get_cgroup_classid, BPF_PROG_TYPE_XDP);
  ASSERT_NE(tc, nullptr);
  ASSERT_NE(xdp, nullptr);
  EXPECT_EQ(tc->args[0], ArgKind::Ctx);
  EXPECT_EQ(xdp->args[0], ArgKind::None);
  EXPECT_EQ(tc, find_helper_proto(BPF_FUNC_get_cgroup_classid));
  const HelperProto* pe = find_helper_proto(BPF_FUNC_get_stackid, BPF_PROG_TYPE_PERF_EVENT);
  ASSERT_NE(pe, nullptr);
  EXPECT_FALSE(pe->gpl_only);
  EXPECT_TRUE(find_helper_proto(BPF_FUNC_get_stackid, BPF_PROG_TYPE_KPROBE)->gpl_only);
  // Not callable: no prototype.
  EXPECT_EQ(find_helper_proto(BPF_FUNC_xdp_adjust_head, BPF_PROG_TYPE_SCHED_CLS), nullptr);
  // Everything else: the main entry.
  for (const HelperProto& p : table()) {
    if (p.id == BPF_FUNC_get_cgroup_classid || p.id == BPF_FUNC_get_stackid) continue;
    for (uint32_t t : {BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_SCHED_CLS,
                       BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_PERF_EVENT}) {
      EXPECT_EQ(find_helper_proto(p.id, t), helper_allowed(p.id, t) ? &p : nullptr) << p.name << " " << t;
    }
  }
}

TEST(HelperAllowed, DisallowedReasonNamesTheAlternatives) {
  EXPECT_EQ(helper_disallowed_reason(BPF_FUNC_map_lookup_elem, BPF_PROG_TYPE_XDP), "");
  const std::string r = helper_disallowed_reason(BPF_FUNC_xdp_adjust_head, BPF_PROG_TYPE_SOCKET_FILTER);
  EXPECT_NE(r.find("socket_filter"), std::string::npos) << r;
  EXPECT_NE(r.find("bpf_xdp_adjust_head#44"), std::string::npos) << r;
  EXPECT_NE(r.find("available to xdp"), std::string::npos) << r;
  EXPECT_NE(helper_disallowed_reason(100000, BPF_PROG_TYPE_XDP).find("unknown helper"), std::string::npos);
  EXPECT_NE(helper_disallowed_reason(BPF_FUNC_timer_init, BPF_PROG_TYPE_XDP).find("no prototype"),
            std::string::npos);
  EXPECT_NE(helper_disallowed_reason(BPF_FUNC_skb_load_bytes, 9999).find("type 9999"), std::string::npos);
}

}  // namespace
}  // namespace userbpf::verifier
