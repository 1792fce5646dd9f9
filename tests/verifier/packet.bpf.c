// Direct packet access: every read or write through a packet pointer must be
// covered by a comparison against data_end (or, for metadata, against data).
#include "corpus.h"

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

SEC("xdp")
int accept_xdp_eth_checked(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_PASS;
  return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int reject_xdp_eth_no_check(struct xdp_md *ctx) {
  struct ethhdr *eth = (void *)(long)ctx->data;
  return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_DROP : XDP_PASS;
}

// Checks 13 bytes, reads bytes 12 and 13.
SEC("xdp")
int reject_xdp_off_by_one(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  if (data + 13 > (unsigned char *)data_end) return XDP_PASS;
  return *(volatile __u16 *)(data + 12) == bpf_htons(ETH_P_IP) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int accept_xdp_ipv4_udp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end || ip->protocol != 17) return XDP_PASS;
  // Variable header length, bounded by the 4-bit field and then checked.
  struct udphdr *udp = (void *)ip + ip->ihl * 4;
  if ((void *)(udp + 1) > data_end) return XDP_PASS;
  return udp->dest == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}

// The IP header length moves the pointer after the check was made.
SEC("xdp")
int reject_xdp_variable_offset_unchecked(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct iphdr *ip = data + sizeof(struct ethhdr);
  if ((void *)(ip + 1) + sizeof(struct udphdr) > data_end) return XDP_PASS;
  struct udphdr *udp = (void *)ip + ip->ihl * 4;
  return udp->dest == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}

// A byte of the packet used as an offset, unbounded above except by 255; the
// check covers only the fixed part.
SEC("xdp")
int reject_xdp_byte_offset_read(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  if (data + 64 > data_end) return XDP_PASS;
  __u8 off = data[0];
  return data[off];
}

// Even a masked offset is not enough: adding a variable offset to a packet
// pointer drops the range proven by the earlier comparison.
SEC("xdp")
int reject_xdp_byte_offset_masked_no_recheck(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  if (data + 64 > data_end) return XDP_PASS;
  __u8 off = data[0] & 63;
  return data[off];
}

SEC("xdp")
int accept_xdp_byte_offset_rechecked(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  if (data + 64 > data_end) return XDP_PASS;
  unsigned char *p = data + (data[0] & 63);
  if (p + 1 > data_end) return XDP_PASS;
  return *p;
}

SEC("xdp")
int accept_xdp_write_checked(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  if (data + 12 > data_end) return XDP_PASS;
  // Swap the MAC addresses.
  for (int i = 0; i < 6; i++) {
    unsigned char t = data[i];
    data[i] = data[i + 6];
    data[i + 6] = t;
  }
  return XDP_TX;
}

SEC("xdp")
int reject_xdp_write_past_check(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  if (data + 14 > data_end) return XDP_PASS;
  *(volatile __u32 *)(data + 12) = 0;
  return XDP_TX;
}

SEC("tc")
int accept_tc_direct_read(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return 0;
  return eth->h_proto == bpf_htons(ETH_P_ARP) ? 2 : 0;
}

SEC("tc")
int reject_tc_direct_read_no_check(struct __sk_buff *skb) {
  struct ethhdr *eth = (void *)(long)skb->data;
  return eth->h_proto == bpf_htons(ETH_P_ARP) ? 2 : 0;
}

SEC("xdp")
int accept_xdp_meta_checked(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  __u32 *meta = (void *)(long)ctx->data_meta;
  if ((void *)(meta + 1) > data) return XDP_PASS;
  return *meta == 7 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int reject_xdp_meta_unchecked(struct xdp_md *ctx) {
  __u32 *meta = (void *)(long)ctx->data_meta;
  return *meta == 7 ? XDP_DROP : XDP_PASS;
}

// Metadata checked against data_end instead of data is not a bound for meta.
SEC("xdp")
int reject_xdp_meta_checked_against_end(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  __u32 *meta = (void *)(long)ctx->data_meta;
  if ((void *)(meta + 1) > data_end) return XDP_PASS;
  return *meta == 7 ? XDP_DROP : XDP_PASS;
}

// The packet grows at the front; pointers taken before the helper are stale.
SEC("xdp")
int reject_xdp_stale_ptr_after_adjust_head(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  if (data + 14 > data_end) return XDP_PASS;
  if (bpf_xdp_adjust_head(ctx, -4)) return XDP_DROP;
  return data[0];
}

SEC("xdp")
int accept_xdp_reload_after_adjust_head(struct xdp_md *ctx) {
  if (bpf_xdp_adjust_head(ctx, -4)) return XDP_DROP;
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  if (data + 18 > data_end) return XDP_PASS;
  __builtin_memmove(data, data + 4, 12);
  return XDP_TX;
}
