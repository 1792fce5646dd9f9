// tc classifier: mark IPv4 packets by DSCP class and drop oversized ICMP, using
// both the __sk_buff context fields and bpf_skb_load_bytes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_ICMP_LEN 1024
#define MARK_BASE 0x100

SEC("tc")
int tc_classify(struct __sk_buff *skb) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return TC_ACT_OK;

  struct iphdr ip;
  if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip, sizeof(ip)) < 0) return TC_ACT_SHOT;
  if (ip.version != 4) return TC_ACT_SHOT;

  if (ip.protocol == IPPROTO_ICMP && skb->len > MAX_ICMP_LEN) return TC_ACT_SHOT;

  __u8 dscp = ip.tos >> 2;
  /* Expedited forwarding (46) gets the top priority; CS1 (8) is background. */
  if (dscp == 46) skb->priority = 6;
  else if (dscp == 8) skb->priority = 1;
  skb->mark = MARK_BASE | dscp;

  /* Direct packet access: keep the TTL in the classid's minor number. */
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct iphdr *dip = data + sizeof(struct ethhdr);
  if ((void *)(dip + 1) <= data_end) skb->tc_classid = dip->ttl;
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
