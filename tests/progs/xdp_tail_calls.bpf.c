// Tail calls through a statically initialised prog_array: an entry program
// picks a slot from a packet byte; a chain of three programs; a program that
// tail-calls itself until the kernel's limit (33 tail calls per run) stops it;
// calls to an empty slot and past the end falling through.  Each program appends
// its tag to a trail in the UDP payload (so the output packet shows the path) and
// counts its runs in hits[].
//
// UDP payload: c[0] slot the entry jumps to, c[1] trail length so far,
// c[2..TRAIL_MAX+1] the trail.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define TRAIL_MAX 40

int prog_a(struct xdp_md *ctx);
int prog_b(struct xdp_md *ctx);
int chain1(struct xdp_md *ctx);
int chain2(struct xdp_md *ctx);
int chain3(struct xdp_md *ctx);
int self_loop(struct xdp_md *ctx);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 8);
  __uint(key_size, sizeof(__u32));  // no key BTF: the kernel takes none for prog arrays
  __array(values, int(struct xdp_md *));
} jmp SEC(".maps") = {
    .values = {[0] = (void *)&prog_a, [1] = (void *)&prog_b, [2] = (void *)&chain1, [4] = (void *)&self_loop,
               [5] = (void *)&chain2, [6] = (void *)&chain3},
};

__u64 hits[8];
__u32 last_depth;

// The payload when the packet is UDP over IPv4 with room for the trail.
static __always_inline __u8 *payload(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
  if (ip->protocol != IPPROTO_UDP || ip->ihl != 5) return 0;
  __u8 *c = (void *)ip + sizeof(*ip) + sizeof(struct udphdr);
  if ((void *)(c + 2 + TRAIL_MAX) > data_end) return 0;
  return c;
}

// Appends a tag to the trail; 0 when the packet has no trail.
static __always_inline int mark(struct xdp_md *ctx, __u32 who, __u8 tag) {
  __u8 *c = payload(ctx);
  if (who < 8) hits[who]++;
  if (!c) return 0;
  __u32 n = c[1];
  if (n < TRAIL_MAX) {
    // A variable packet offset needs its own bounds check.
    __u8 *slot = c + 2 + n;
    if ((void *)(slot + 1) > (void *)(long)ctx->data_end) return 0;
    *slot = tag;
    c[1] = n + 1;
  }
  last_depth = n + 1;
  return 1;
}

SEC("xdp")
int xdp_entry(struct xdp_md *ctx) {
  if (!mark(ctx, 7, 'E')) {
    // Not a trail packet: slot 3 is empty, 100 is past the end; both fall through.
    bpf_tail_call(ctx, &jmp, 3);
    bpf_tail_call(ctx, &jmp, 100);
    return XDP_PASS;
  }
  __u8 *c = payload(ctx);
  if (!c) return XDP_ABORTED;
  bpf_tail_call(ctx, &jmp, c[0]);
  // Fell through: empty or out-of-range slot.
  mark(ctx, 7, 'F');
  return XDP_DROP;
}

SEC("xdp")
int prog_a(struct xdp_md *ctx) {
  mark(ctx, 0, 'a');
  return XDP_TX;
}

SEC("xdp")
int prog_b(struct xdp_md *ctx) {
  mark(ctx, 1, 'b');
  bpf_tail_call(ctx, &jmp, 0);  // into prog_a
  return XDP_ABORTED;
}

SEC("xdp")
int chain1(struct xdp_md *ctx) {
  mark(ctx, 2, '1');
  bpf_tail_call(ctx, &jmp, 5);
  return XDP_ABORTED;
}

SEC("xdp")
int chain2(struct xdp_md *ctx) {
  mark(ctx, 5, '2');
  bpf_tail_call(ctx, &jmp, 6);
  return XDP_ABORTED;
}

SEC("xdp")
int chain3(struct xdp_md *ctx) {
  mark(ctx, 6, '3');
  bpf_tail_call(ctx, &jmp, 3);  // empty: falls through
  return XDP_TX;
}

// Calls itself until the tail call limit; the trail length shows how many ran.
SEC("xdp")
int self_loop(struct xdp_md *ctx) {
  mark(ctx, 4, 'L');
  bpf_tail_call(ctx, &jmp, 4);
  __u8 *c = payload(ctx);
  return c ? c[1] : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
