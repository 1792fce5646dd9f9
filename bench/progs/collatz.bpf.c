// Collatz steps (mask form) on 16 seeds plus a Fibonacci pair.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(collatz)

char LICENSE[] SEC("license") = "GPL";
