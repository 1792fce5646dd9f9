/* Boilerplate of the benchmark programs: an XDP entry point that runs one
 * kernel of kernels.h on the packet and returns its result. */
#ifndef USERBPF_BENCH_XDP_H
#define USERBPF_BENCH_XDP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kernels.h"

#define BENCH_PKT_DATA(ctx) ((__u8 *)(long)(ctx)->data)
#define BENCH_PKT_END(ctx) ((const __u8 *)(long)(ctx)->data_end)

#define BENCH_XDP_KERNEL(name)                                      \
  SEC("xdp") int name(struct xdp_md *ctx) {                         \
    return (int)bk_##name(BENCH_PKT_DATA(ctx), BENCH_PKT_END(ctx)); \
  }

#endif
