// XDP firewall: parse Ethernet / IPv4 / UDP / TCP and drop traffic to a few
// blocked ports.  Everything that is not IPv4, or is a fragment, passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_FRAG_MASK 0x3fff /* MF flag + fragment offset */

static __always_inline int blocked_udp(__u16 port) {
  return port == 9 /* discard */ || port == 19 /* chargen */ || port == 1900 /* ssdp */;
}

static __always_inline int blocked_tcp(__u16 port, __u8 flags) {
  if (port == 23 /* telnet */) return 1;
  /* SYN+FIN together is never legitimate. */
  return (flags & 0x03) == 0x03;
}

SEC("xdp")
int xdp_parse(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_DROP;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;

  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_DROP;
  if (ip->version != 4 || ip->ihl < 5) return XDP_DROP;
  if (ip->frag_off & bpf_htons(IP_FRAG_MASK)) return XDP_PASS;

  void *l4 = (void *)ip + ip->ihl * 4;
  if (ip->protocol == IPPROTO_UDP) {
    struct udphdr *udp = l4;
    if ((void *)(udp + 1) > data_end) return XDP_DROP;
    if (bpf_ntohs(udp->len) < sizeof(*udp)) return XDP_DROP;
    return blocked_udp(bpf_ntohs(udp->dest)) ? XDP_DROP : XDP_PASS;
  }
  if (ip->protocol == IPPROTO_TCP) {
    struct tcphdr *tcp = l4;
    if ((void *)(tcp + 1) > data_end) return XDP_DROP;
    __u8 flags = ((__u8 *)tcp)[13];
    return blocked_tcp(bpf_ntohs(tcp->dest), flags) ? XDP_DROP : XDP_PASS;
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
