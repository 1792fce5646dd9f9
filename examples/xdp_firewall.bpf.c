// The bundled example: a small XDP firewall.  It parses Ethernet/IPv4/UDP/TCP,
// counts packets per IP protocol in a BTF-defined hash map, drops UDP to the ports
// listed in a global array, and swaps MAC addresses to bounce ICMP (XDP_TX).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u64);
} proto_count SEC(".maps");

const volatile __u16 blocked_ports[4] = {53, 123, 1900, 11211};

static __always_inline void count(__u32 proto) {
  __u64 one = 1, *v = bpf_map_lookup_elem(&proto_count, &proto);
  if (v)
    __sync_fetch_and_add(v, 1);
  else
    bpf_map_update_elem(&proto_count, &proto, &one, BPF_NOEXIST);
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_ABORTED;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_ABORTED;
  count(ip->protocol);
  if (ip->protocol == IPPROTO_ICMP) {
    unsigned char tmp[ETH_ALEN];
    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
    return XDP_TX;
  }
  if (ip->protocol != IPPROTO_UDP) return XDP_PASS;
  struct udphdr *udp = (void *)ip + ip->ihl * 4;
  if ((void *)(udp + 1) > data_end) return XDP_ABORTED;
  for (int i = 0; i < 4; i++)
    if (udp->dest == bpf_htons(blocked_ports[i])) return XDP_DROP;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
