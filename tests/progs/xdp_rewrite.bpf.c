// XDP reflector: swap source and destination MAC addresses, decrement the IPv4
// TTL with an incremental checksum update (RFC 1624), and bounce the frame back.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

static __always_inline void swap_macs(struct ethhdr *eth) {
  __u8 tmp[ETH_ALEN];
  __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
  __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
  __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* HC' = ~(~HC + ~m + m') over the 16-bit word holding TTL (high byte) and protocol. */
static __always_inline void decrement_ttl(struct iphdr *ip) {
  __u16 old_word = bpf_htons((__u16)(ip->ttl << 8 | ip->protocol));
  ip->ttl -= 1;
  __u16 new_word = bpf_htons((__u16)(ip->ttl << 8 | ip->protocol));
  __u32 sum = (__u16)~ip->check;
  sum += (__u16)~old_word;
  sum += new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  ip->check = (__u16)~sum;
}

SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_ABORTED;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;

  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_DROP;
  /* Let the stack answer with ICMP time-exceeded. */
  if (ip->ttl <= 1) return XDP_PASS;

  decrement_ttl(ip);
  swap_macs(eth);
  return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
