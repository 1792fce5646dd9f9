// XDP programs exercising the packet-shaping helpers: push and pop an IPIP
// encapsulation (bpf_xdp_adjust_head), trim / grow the tail
// (bpf_xdp_adjust_tail), metadata (bpf_xdp_adjust_meta), head moves driven by
// the packet itself (limits), and bpf_redirect.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define OUTER_SADDR 0x0a000063 /* 10.0.0.99 */
#define OUTER_DADDR 0x0a000064 /* 10.0.0.100 */

SEC("xdp")
int xdp_push_ipip(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_ABORTED;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *inner = (void *)(eth + 1);
  if ((void *)(inner + 1) > data_end) return XDP_DROP;
  __u16 inner_len = bpf_ntohs(inner->tot_len);
  struct ethhdr saved = *eth;

  if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr))) return XDP_ABORTED;
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  eth = data;
  struct iphdr *outer = (void *)(eth + 1);
  if ((void *)(outer + 1) > data_end) return XDP_ABORTED;
  *eth = saved;
  outer->version = 4;
  outer->ihl = 5;
  outer->tos = 0;
  outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
  outer->id = 0;
  outer->frag_off = bpf_htons(0x4000);
  outer->ttl = 64;
  outer->protocol = IPPROTO_IPIP;
  outer->check = 0;
  outer->saddr = bpf_htonl(OUTER_SADDR);
  outer->daddr = bpf_htonl(OUTER_DADDR);
  __s64 sum = bpf_csum_diff(0, 0, (__be32 *)outer, sizeof(*outer), 0);
  outer->check = ~(__u16)sum;
  return XDP_TX;
}

SEC("xdp")
int xdp_pop_ipip(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_ABORTED;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *outer = (void *)(eth + 1);
  if ((void *)(outer + 1) > data_end) return XDP_DROP;
  if (outer->protocol != IPPROTO_IPIP || outer->ihl != 5) return XDP_PASS;
  struct ethhdr saved = *eth;
  if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct iphdr))) return XDP_ABORTED;
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_ABORTED;
  *eth = saved;
  return XDP_PASS;
}

/* Frames over 100 bytes are cut to 100; shorter ones grow by 16 zero bytes.
 * The result of an impossible grow goes into the retval's upper bits. */
SEC("xdp")
int xdp_tail(struct xdp_md *ctx) {
  long bad = bpf_xdp_adjust_tail(ctx, 4096);
  int len = ctx->data_end - ctx->data;
  if (len > 100) {
    if (bpf_xdp_adjust_tail(ctx, 100 - len)) return XDP_ABORTED;
    return XDP_PASS | ((__u32)bad & 0xff) << 8;
  }
  if (bpf_xdp_adjust_tail(ctx, 16)) return XDP_ABORTED;
  void *data_end = (void *)(long)ctx->data_end;
  __u8 *p = (void *)(long)ctx->data;
  /* Mark the source address so the output shows the program wrote after growing. */
  if ((void *)(p + 14) > data_end) return XDP_DROP;
  for (int i = 6; i < 12; i++) p[i] = 0xa0 + i;
  return XDP_TX | ((__u32)bad & 0xff) << 8;
}

struct meta {
  __u32 magic;
  __u32 len;
};

SEC("xdp")
int xdp_meta(struct xdp_md *ctx) {
  if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta))) return XDP_ABORTED;
  void *data = (void *)(long)ctx->data;
  void *data_meta = (void *)(long)ctx->data_meta;
  void *data_end = (void *)(long)ctx->data_end;
  struct meta *m = data_meta;
  if ((void *)(m + 1) > data) return XDP_DROP;
  m->magic = 0xfeedc0de;
  m->len = data_end - data;
  /* A second, misaligned adjustment is refused (-EACCES). */
  long rc = bpf_xdp_adjust_meta(ctx, -3);
  return rc == -13 ? XDP_PASS : XDP_DROP;
}

/* Moves data by (s8)byte[14] * 8 and reports the helper's result. */
SEC("xdp")
int xdp_head_probe(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u8 *p = data;
  if ((void *)(p + 16) > data_end) return XDP_ABORTED;
  int off = (__s8)p[14] * 8;
  long rc = bpf_xdp_adjust_head(ctx, off);
  return (__u32)rc;
}

/* bpf_redirect with the ifindex and flags taken from the payload. */
SEC("xdp")
int xdp_redirect_probe(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u8 *p = data;
  if ((void *)(p + 16) > data_end) return XDP_ABORTED;
  return bpf_redirect(p[14], p[15] & 1);
}

char LICENSE[] SEC("license") = "GPL";
