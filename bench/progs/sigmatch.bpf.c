// strcmp-style search of eight signatures at 64 offsets from the TCP header on.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(sigmatch)

char LICENSE[] SEC("license") = "GPL";
