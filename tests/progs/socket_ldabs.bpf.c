// Socket filter using the legacy packet loads (LD_ABS / LD_IND) and __sk_buff
// fields: the packet starts at the network header.  Keeps DNS (UDP port 53)
// and TCP SYNs, truncated to 64 bytes, drops the rest.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int socket_ldabs(struct __sk_buff *skb) {
  skb->cb[0] = skb->len;
  if (skb->protocol != bpf_htons(ETH_P_IP)) return skb->pkt_type == 1 /* broadcast */ ? 1 : 0;
  __u32 vihl = load_byte(skb, 0);
  if ((vihl >> 4) != 4) return 0;
  __u32 hlen = (vihl & 0xf) * 4;
  __u32 proto = load_byte(skb, 9);
  if (proto == IPPROTO_UDP) {
    __u32 dport = load_half(skb, hlen + 2);
    if (dport != 53) return 0;
    return skb->len < 64 ? skb->len : 64;
  }
  if (proto == IPPROTO_TCP) {
    __u32 flags = load_byte(skb, hlen + 13);
    /* A word past the end ends the program with 0 on short packets. */
    __u32 w = load_word(skb, hlen + 16);
    if ((flags & 0x12) == 0x02) return 0x10000 | (w & 0xff);
  }
  return skb->ifindex == 1 ? 0 : 0xdead;
}

char LICENSE[] SEC("license") = "GPL";
