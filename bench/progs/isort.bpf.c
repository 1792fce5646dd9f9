// Insertion sort of 32 packet words on the stack, then a hash of the order.
#include "bench_xdp.h"

// Writable data on purpose (see bk_isort).
__u32 sort_mask = BK_SORT_N - 1;

SEC("xdp")
int isort(struct xdp_md *ctx) { return (int)bk_isort(BENCH_PKT_DATA(ctx), BENCH_PKT_END(ctx), sort_mask); }

char LICENSE[] SEC("license") = "GPL";
