// Reflect and NAT: swap MACs, new destination address and port, TTL - 1, incremental checksum updates.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(rewrite)

char LICENSE[] SEC("license") = "GPL";
