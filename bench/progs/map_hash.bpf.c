// Hash map lookups and updates: a flow table probed with 32 neighbouring
// flows of the packet's (about half present, filled by user space), hit
// counters bumped in place, and the packet's own flow record rewritten.
#include "bench_xdp.h"
#include "flows.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct bench_flow_key);
  __type(value, struct bench_flow_val);
} flows SEC(".maps");

SEC("xdp")
int map_hash(struct xdp_md *ctx) {
  __u8 *p = BENCH_PKT_DATA(ctx);
  const __u8 *end = BENCH_PKT_END(ctx);
  if (p + BK_ETH_HLEN + 20 + 20 > end) return 0;
  const __u8 *ip = p + BK_ETH_HLEN, *tcp = ip + 20;
  if (bk_be16(p + 12) != BK_ETH_P_IP || ip[0] != 0x45 || ip[9] != BK_IPPROTO_TCP) return 0;
  const __u32 len = (__u32)(end - p);
  struct bench_flow_key k = {};
  k.saddr = bk_be32(ip + 12);
  k.daddr = bk_be32(ip + 16);
  k.dport = bk_be16(tcp + 2);
  k.proto = BK_IPPROTO_TCP;
  const __u16 sport = bk_be16(tcp);
  __u32 h = bk_be32(tcp + 4);
  for (__u32 i = 0; i < BENCH_FLOW_PROBES; i++) {
    k.sport = (__u16)(sport + i);
    struct bench_flow_val *v = bpf_map_lookup_elem(&flows, &k);
    if (v) {
      v->packets++;
      v->bytes += len;
      h = bk_mix(h, (__u32)v->packets + (i << 24));
    } else {
      h = bk_mix(h, i);
    }
  }
  k.sport = sport;
  struct bench_flow_val nv = {h, len};
  bpf_map_update_elem(&flows, &k, &nv, BPF_ANY);
  return (int)h;
}

char LICENSE[] SEC("license") = "GPL";
