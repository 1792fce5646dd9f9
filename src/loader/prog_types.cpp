// SEC() name -> program type, expected attach type and load flags, following the
// section names libbpf documents (libbpf.readthedocs.io, "Program types and ELF
// sections").  Besides libbpf 1.x's forms this also accepts the pre-1.0
// "type/anything" spellings the older samples use (xdp/..., tc/..., socket/...).
#include <linux/bpf.h>

#include <array>

#include "userbpf/loader.h"

namespace userbpf::loader {
namespace {

enum class Match : uint8_t {
  Exact,   // the name itself
  Prefix,  // the name, or the name + "/target"
};

struct SecDef {
  const char* name;
  Match match;
  uint32_t prog_type;
  uint32_t attach_type;
  uint32_t flags;
};

constexpr uint32_t kSleepable = BPF_F_SLEEPABLE;
constexpr uint32_t kFrags = BPF_F_XDP_HAS_FRAGS;

// More specific names first: the first match wins.
constexpr std::array kSecDefs = {
    SecDef{"socket", Match::Prefix, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0},
    SecDef{"sk_reuseport/migrate", Match::Exact, BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, 0},
    SecDef{"sk_reuseport", Match::Exact, BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, 0},
    SecDef{"kprobe.multi", Match::Prefix, BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0},
    SecDef{"kretprobe.multi", Match::Prefix, BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0},
    SecDef{"kprobe", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, 0},
    SecDef{"kretprobe", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, 0},
    SecDef{"uprobe.s", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, kSleepable},
    SecDef{"uretprobe.s", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, kSleepable},
    SecDef{"uprobe", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, 0},
    SecDef{"uretprobe", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, 0},
    SecDef{"ksyscall", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, 0},
    SecDef{"kretsyscall", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, 0},
    SecDef{"usdt", Match::Prefix, BPF_PROG_TYPE_KPROBE, 0, 0},
    SecDef{"tc", Match::Prefix, BPF_PROG_TYPE_SCHED_CLS, 0, 0},
    SecDef{"classifier", Match::Prefix, BPF_PROG_TYPE_SCHED_CLS, 0, 0},
    SecDef{"action", Match::Prefix, BPF_PROG_TYPE_SCHED_ACT, 0, 0},
    SecDef{"tracepoint", Match::Prefix, BPF_PROG_TYPE_TRACEPOINT, 0, 0},
    SecDef{"tp", Match::Prefix, BPF_PROG_TYPE_TRACEPOINT, 0, 0},
    SecDef{"raw_tracepoint.w", Match::Prefix, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0},
    SecDef{"raw_tp.w", Match::Prefix, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0},
    SecDef{"raw_tracepoint", Match::Prefix, BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0},
    SecDef{"raw_tp", Match::Prefix, BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0},
    SecDef{"tp_btf", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0},
    SecDef{"fentry.s", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, kSleepable},
    SecDef{"fmod_ret.s", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, kSleepable},
    SecDef{"fexit.s", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, kSleepable},
    SecDef{"fentry", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, 0},
    SecDef{"fmod_ret", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, 0},
    SecDef{"fexit", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, 0},
    SecDef{"freplace", Match::Prefix, BPF_PROG_TYPE_EXT, 0, 0},
    SecDef{"lsm.s", Match::Prefix, BPF_PROG_TYPE_LSM, BPF_LSM_MAC, kSleepable},
    SecDef{"lsm_cgroup", Match::Prefix, BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, 0},
    SecDef{"lsm", Match::Prefix, BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 0},
    SecDef{"iter.s", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, kSleepable},
    SecDef{"iter", Match::Prefix, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, 0},
    SecDef{"syscall", Match::Exact, BPF_PROG_TYPE_SYSCALL, 0, kSleepable},
    SecDef{"xdp.frags/devmap", Match::Exact, BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, kFrags},
    SecDef{"xdp/devmap", Match::Exact, BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 0},
    SecDef{"xdp.frags/cpumap", Match::Exact, BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, kFrags},
    SecDef{"xdp/cpumap", Match::Exact, BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, 0},
    SecDef{"xdp.frags", Match::Exact, BPF_PROG_TYPE_XDP, BPF_XDP, kFrags},
    SecDef{"xdp", Match::Prefix, BPF_PROG_TYPE_XDP, BPF_XDP, 0},
    SecDef{"perf_event", Match::Exact, BPF_PROG_TYPE_PERF_EVENT, 0, 0},
    SecDef{"lwt_in", Match::Exact, BPF_PROG_TYPE_LWT_IN, 0, 0},
    SecDef{"lwt_out", Match::Exact, BPF_PROG_TYPE_LWT_OUT, 0, 0},
    SecDef{"lwt_xmit", Match::Exact, BPF_PROG_TYPE_LWT_XMIT, 0, 0},
    SecDef{"lwt_seg6local", Match::Exact, BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, 0},
    SecDef{"sockops", Match::Exact, BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, 0},
    SecDef{"sk_skb/stream_parser", Match::Exact, BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER, 0},
    SecDef{"sk_skb/stream_verdict", Match::Exact, BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT, 0},
    SecDef{"sk_skb", Match::Prefix, BPF_PROG_TYPE_SK_SKB, 0, 0},
    SecDef{"sk_msg", Match::Exact, BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, 0},
    SecDef{"lirc_mode2", Match::Exact, BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2, 0},
    SecDef{"flow_dissector", Match::Exact, BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR, 0},
    SecDef{"cgroup_skb/ingress", Match::Exact, BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 0},
    SecDef{"cgroup_skb/egress", Match::Exact, BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, 0},
    SecDef{"cgroup_skb", Match::Prefix, BPF_PROG_TYPE_CGROUP_SKB, 0, 0},
    SecDef{"cgroup/skb", Match::Exact, BPF_PROG_TYPE_CGROUP_SKB, 0, 0},
    SecDef{"cgroup/sock_create", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0},
    SecDef{"cgroup/sock_release", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, 0},
    SecDef{"cgroup/sock", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0},
    SecDef{"cgroup/post_bind4", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, 0},
    SecDef{"cgroup/post_bind6", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, 0},
    SecDef{"cgroup/bind4", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, 0},
    SecDef{"cgroup/bind6", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, 0},
    SecDef{"cgroup/connect4", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, 0},
    SecDef{"cgroup/connect6", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, 0},
    SecDef{"cgroup/sendmsg4", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG, 0},
    SecDef{"cgroup/sendmsg6", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, 0},
    SecDef{"cgroup/recvmsg4", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG, 0},
    SecDef{"cgroup/recvmsg6", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG, 0},
    SecDef{"cgroup/getpeername4", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME, 0},
    SecDef{"cgroup/getpeername6", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME, 0},
    SecDef{"cgroup/getsockname4", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME, 0},
    SecDef{"cgroup/getsockname6", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME, 0},
    SecDef{"cgroup/sysctl", Match::Exact, BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL, 0},
    SecDef{"cgroup/getsockopt", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT, 0},
    SecDef{"cgroup/setsockopt", Match::Exact, BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, 0},
    SecDef{"cgroup/dev", Match::Exact, BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, 0},
    SecDef{"struct_ops", Match::Prefix, BPF_PROG_TYPE_STRUCT_OPS, 0, 0},
    SecDef{"sk_lookup", Match::Exact, BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, 0},
};

}  // namespace

std::optional<ProgTypeInfo> prog_type_for_section(std::string_view section) {
  for (const SecDef& def : kSecDefs) {
    const std::string_view name = def.name;
    std::string_view target;
    if (section == name) {
      // exact
    } else if (def.match == Match::Prefix && section.size() > name.size() + 1 && section.starts_with(name) &&
               section[name.size()] == '/') {
      target = section.substr(name.size() + 1);
    } else {
      continue;
    }
    return ProgTypeInfo{def.prog_type, def.attach_type, def.flags, std::string(target)};
  }
  return std::nullopt;
}

}  // namespace userbpf::loader
