// Bounded loops and bpf-to-bpf calls: the XDP program calls static __noinline
// subprograms (compiled into .text) that checksum the start of the payload and
// count set bits, both with loops whose trip counts the verifier can bound.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_BYTES 64

__u32 last_sum = 0;
__u32 last_bits = 0;

/* Ones'-complement sum of up to MAX_BYTES bytes, as 16-bit big-endian words. */
static __noinline __u32 payload_sum(const __u8 *p, const void *end) {
  __u32 sum = 0;
#pragma clang loop unroll(disable)
  for (int i = 0; i < MAX_BYTES; i += 2) {
    if ((const void *)(p + i + 2) > end) break;
    sum += (__u32)p[i] << 8 | p[i + 1];
  }
#pragma clang loop unroll(disable)
  for (int i = 0; i < 2; i++) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

static __noinline __u32 popcount32(__u32 v) {
  __u32 n = 0;
#pragma clang loop unroll(disable)
  for (int i = 0; i < 32; i++) {
    n += v & 1;
    v >>= 1;
  }
  return n;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx) {
  const __u8 *data = (const __u8 *)(long)ctx->data;
  const void *data_end = (const void *)(long)ctx->data_end;
  __u32 sum = payload_sum(data, data_end);
  __u32 bits = popcount32(sum);
  last_sum = sum;
  last_bits = bits;
  return (bits & 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
