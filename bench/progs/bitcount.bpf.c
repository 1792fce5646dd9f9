// Bit counting: set bits of 16 packet words, one bit position at a time.
#include "bench_xdp.h"

BENCH_XDP_KERNEL(bitcount)

char LICENSE[] SEC("license") = "GPL";
