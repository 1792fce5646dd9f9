// LRU hash updates: a connection table keyed by 16 neighbouring flows of the
// packet's; each is looked up and written back with its count plus one
// (inserted on the first run).
#include "bench_xdp.h"
#include "flows.h"

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 1024);
  __type(key, struct bench_flow_key);
  __type(value, __u64);
} conns SEC(".maps");

SEC("xdp")
int map_lru(struct xdp_md *ctx) {
  const __u8 *p = BENCH_PKT_DATA(ctx);
  const __u8 *end = BENCH_PKT_END(ctx);
  if (p + BK_ETH_HLEN + 20 + 20 > end) return 0;
  const __u8 *ip = p + BK_ETH_HLEN, *tcp = ip + 20;
  if (bk_be16(p + 12) != BK_ETH_P_IP || ip[0] != 0x45 || ip[9] != BK_IPPROTO_TCP) return 0;
  struct bench_flow_key k = {};
  k.saddr = bk_be32(ip + 12);
  k.daddr = bk_be32(ip + 16);
  k.dport = bk_be16(tcp + 2);
  k.proto = BK_IPPROTO_TCP;
  const __u16 sport = bk_be16(tcp);
  __u32 h = bk_be32(tcp + 4);
  for (__u32 i = 0; i < 16; i++) {
    k.sport = (__u16)(sport + i * 7);
    __u64 *v = bpf_map_lookup_elem(&conns, &k);
    __u64 n = 1;
    if (v) n = *v + 1;
    if (bpf_map_update_elem(&conns, &k, &n, BPF_ANY)) return 0;
    h = bk_mix(h, (__u32)n + (i << 24));
  }
  return (int)h;
}

char LICENSE[] SEC("license") = "GPL";
